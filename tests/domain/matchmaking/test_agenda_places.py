"""Agendas say where each meeting is: a named table and its location, or, for a remote meeting,
its video link (calendar LOCATION, URL and description; the emails' rows)."""

from __future__ import annotations

from dataclasses import replace

from agenda_support import CONSORTIUM, NANOWORKS, VENUE, agenda, events, make, uid

from missionflow.domain.matchmaking.agenda import agenda_rows, changed_items

LINK = "https://meet.example.org/eu-us-2017-8f14e45f-ceea-467f-a0e6-1b1a6a3c9d22"
NAMED = replace(CONSORTIUM, table=1, table_name="Table A1", location="Hall B")
REMOTE = replace(NANOWORKS, table=None, video_link=LINK)


def test_an_in_person_meeting_names_its_table_and_location() -> None:
    event = events(make(agenda(NAMED)))[uid(0)]
    assert str(event["LOCATION"]) == f"{VENUE}, Table A1, Hall B"
    assert str(event["SUMMARY"]) == "Meeting with Massachusetts Materials Consortium (Table A1)"
    assert "URL" not in event


def test_a_numbered_table_reads_as_before() -> None:
    event = events(make(agenda(CONSORTIUM)))[uid(0)]
    assert str(event["LOCATION"]) == f"{VENUE}, table 4"
    assert str(event["SUMMARY"]).endswith("(table 4)")


def test_a_remote_meeting_carries_its_link() -> None:
    event = events(make(agenda(NAMED, REMOTE)))[uid(1)]
    assert str(event["LOCATION"]) == LINK
    assert str(event["URL"]) == LINK
    assert f"Video link: {LINK}" in str(event["DESCRIPTION"])
    assert str(event["SUMMARY"]) == "Meeting with Philadelphia NanoWorks (video)"


def test_rows_carry_the_place_or_the_link() -> None:
    named, remote = agenda_rows(agenda(NAMED, REMOTE))
    assert (named["table"], named["table_name"], named["location"], named["video_link"]) == (
        "1",
        "Table A1",
        "Hall B",
        "",
    )
    assert (remote["table"], remote["table_name"], remote["video_link"]) == ("", "", LINK)


def test_a_meeting_gone_remote_has_moved() -> None:
    before, after = agenda(NANOWORKS), agenda(REMOTE)
    assert changed_items(before, after) == ([], [], [REMOTE])
