"""Personal agendas: calendar files read back with icalendar, what changed, rows for emails.

Times and time zones in the calendar files: test_agenda_time_zones.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from agenda_support import (
    ALLIANCE,
    CONSORTIUM,
    EVENT,
    FIRST,
    NANOWORKS,
    ORGANISER,
    STAMP,
    VENUE,
    agenda,
    events,
    item,
    make,
    uid,
    utc,
)
from icalendar import Calendar

from missionflow.domain.matchmaking.agenda import (
    PRODID,
    Agenda,
    agenda_rows,
    changed_items,
    item_rows,
)

# The calendar file


def test_one_event_per_meeting_saying_whom_where_and_what() -> None:
    data = make(FIRST)
    calendar = Calendar.from_ical(data)
    found = events(data)

    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"]) == PRODID
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert set(found) == {uid(0), uid(1), uid(2)}
    nanoworks = found[uid(1)]
    assert str(nanoworks["SUMMARY"]) == "Meeting with Philadelphia NanoWorks (table 12)"
    assert str(nanoworks["LOCATION"]) == f"{VENUE}, table 12"
    assert "Advanced materials: coatings and composites for aerospace" in nanoworks["DESCRIPTION"]
    assert "Philadelphia NanoWorks (United States of America)" in nanoworks["DESCRIPTION"]
    assert str(nanoworks["ORGANIZER"]) == f"mailto:{ORGANISER}"
    assert nanoworks["DTSTAMP"].dt == STAMP
    assert {str(event["STATUS"]) for event in found.values()} == {"CONFIRMED"}
    assert nanoworks.end - nanoworks.start == timedelta(minutes=20)


def test_uids_stay_the_same_and_the_sequence_is_the_one_given() -> None:
    moved = agenda(CONSORTIUM, item(1, utc(2017, 5, 15, 18, 40), table=9, name="NanoWorks"))
    first, again, changed = make(FIRST), make(FIRST, sequence=3), make(moved, sequence=4)

    assert first == make(FIRST)  # the same agenda gives the same file
    assert set(events(first)) == set(events(again)) == {uid(0), uid(1), uid(2)}
    assert set(events(changed)) == {uid(0), uid(1)}
    assert {int(e["SEQUENCE"]) for e in events(first).values()} == {0}
    assert {int(e["SEQUENCE"]) for e in events(again).values()} == {3}
    assert {int(e["SEQUENCE"]) for e in events(changed).values()} == {4}
    assert events(changed)[uid(1)].start.astimezone(UTC) == utc(2017, 5, 15, 18, 40)


def test_cancelled_meetings_are_sent_as_cancelled_events_with_the_same_uid() -> None:
    after = agenda(CONSORTIUM, NANOWORKS)
    data = make(after, sequence=2, cancelled=[ALLIANCE])
    found = events(data)

    assert set(found) == {uid(0), uid(1), uid(2)}
    cancelled = found[uid(2)]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 2
    assert cancelled.start.astimezone(UTC) == ALLIANCE.start
    assert str(cancelled["SUMMARY"]).startswith("Cancelled: Meeting with Capital Region")
    assert {str(found[uid(n)]["STATUS"]) for n in (0, 1)} == {"CONFIRMED"}
    assert b"STATUS:CANCELLED" not in make(after, sequence=2)
    only_cancelled = events(make(agenda(), sequence=3, cancelled=[ALLIANCE]))
    assert [str(e["STATUS"]) for e in only_cancelled.values()] == ["CANCELLED"]


def test_lines_are_folded_and_end_in_crlf_and_text_comes_back_intact() -> None:
    line = "Nanocoatings, optics; metrology \\ testing\nsecond line – " + "é" * 80
    name = 'Acme; Optics, "Labs" \\ Co'
    data = make(agenda(item(0, utc(2017, 5, 15, 13, 0), name=name, line=line)))

    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(physical) for physical in data.split(b"\r\n")) <= 75
    assert b"\r\n " in data  # at least one folded line
    event = events(data)[uid(0)]
    assert str(event["SUMMARY"]) == f"Meeting with {name} (table 4)"
    assert line in str(event["DESCRIPTION"])


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        item(0, datetime(2017, 5, 15, 9, 0))
    with pytest.raises(ValueError, match="ends before it starts"):
        item(0, utc(2017, 5, 15, 13, 0), minutes=0)
    with pytest.raises(ValueError, match="table"):
        item(0, utc(2017, 5, 15, 13, 0), table=0)
    with pytest.raises(ValueError, match="time zone"):
        agenda(CONSORTIUM, zone="America/Nowhere")
    with pytest.raises(ValueError, match="twice"):
        agenda(CONSORTIUM, CONSORTIUM)
    with pytest.raises(ValueError, match="no meeting"):
        make(agenda())
    with pytest.raises(ValueError, match="twice"):
        make(FIRST, cancelled=[NANOWORKS])
    with pytest.raises(ValueError, match="negative"):
        make(FIRST, sequence=-1)
    with pytest.raises(ValueError, match="domain"):
        make(FIRST, domain="example.org\r\nX")
    with pytest.raises(ValueError, match="email address"):
        make(FIRST, organiser_email="matchmaking")


def test_items_are_kept_in_utc_and_in_order() -> None:
    eastern = datetime(2017, 5, 15, 9, 20, tzinfo=ZoneInfo("America/New_York"))
    late, early = item(1, eastern), item(0, utc(2017, 5, 15, 13, 0))

    assert late.start == utc(2017, 5, 15, 13, 20) and late.start.tzinfo is UTC
    assert agenda(late, early).items == (early, late)
    assert FIRST.items == (CONSORTIUM, NANOWORKS, ALLIANCE)


# What changed


def test_changed_items_finds_added_removed_and_moved_exactly() -> None:
    joined = item(3, utc(2017, 5, 15, 19, 0), table=2, name="Chesapeake Photonics Lab")
    later = item(1, utc(2017, 5, 15, 18, 40), table=12, name="Philadelphia NanoWorks")
    other_table = item(0, CONSORTIUM.start, table=5, name=CONSORTIUM.with_name)
    after = agenda(other_table, later, joined)

    added, removed, moved = changed_items(FIRST, after)

    assert added == [joined]
    assert removed == [ALLIANCE]
    assert moved == [other_table, later]  # as they are now, in order
    assert changed_items(FIRST, agenda(CONSORTIUM, NANOWORKS, ALLIANCE)) == ([], [], [])
    assert changed_items(after, FIRST) == ([ALLIANCE], [joined], [CONSORTIUM, NANOWORKS])
    renamed = agenda(CONSORTIUM, NANOWORKS, item(2, ALLIANCE.start, table=7, name="Renamed"))
    assert changed_items(FIRST, renamed) == ([], [], [])
    longer = item(2, ALLIANCE.start, table=7, minutes=30, name=ALLIANCE.with_name)
    assert changed_items(FIRST, agenda(CONSORTIUM, NANOWORKS, longer)) == ([], [], [longer])
    someone_else = Agenda("8", "Pôle Médicen", EVENT, VENUE, "America/New_York", ())
    with pytest.raises(ValueError, match="cannot be compared"):
        changed_items(FIRST, someone_else)


# Rows for the emails


def test_agenda_rows_say_the_time_in_the_venues_zone_with_its_abbreviation() -> None:
    rows = agenda_rows(FIRST)

    assert rows[0] == {
        "time": "15 May 2017 09:00–09:20 EDT",
        "table": "4",
        "table_name": "",
        "location": "",
        "video_link": "",
        "with_name": "Massachusetts Materials Consortium",
        "with_country": "United States of America",
        "with_line": "Advanced materials: coatings and composites for aerospace",
    }
    assert [row["time"] for row in rows] == [
        "15 May 2017 09:00–09:20 EDT",
        "15 May 2017 09:20–09:40 EDT",
        "15 May 2017 14:00–14:20 EDT",
    ]
    assert [row["table"] for row in rows] == ["4", "12", "7"]
    winter = agenda(item(0, utc(2017, 1, 10, 14, 0)))
    assert agenda_rows(winter)[0]["time"] == "10 Jan 2017 09:00–09:20 EST"
    tokyo = agenda(item(0, utc(2016, 10, 18, 0, 30)), zone="Asia/Tokyo")
    assert agenda_rows(tokyo)[0]["time"] == "18 Oct 2016 09:30–09:50 JST"
    past_midnight = agenda(item(0, utc(2017, 5, 16, 3, 50)))
    assert agenda_rows(past_midnight)[0]["time"] == "15 May 2017 23:50 EDT – 16 May 2017 00:10 EDT"
    assert item_rows([ALLIANCE], "America/New_York") == [agenda_rows(FIRST)[2]]
    assert agenda_rows(agenda()) == []
