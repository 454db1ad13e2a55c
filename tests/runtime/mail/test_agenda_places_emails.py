"""The agenda email says where each meeting is, in every language: a named table and its
location, or a remote meeting's video link (a link in HTML); numbered tables as before."""

from __future__ import annotations

from dataclasses import replace

import pytest
from mail_contexts import CONSORTIUM, NANOWORKS, context

from missionflow.domain.matchmaking.agenda import Agenda, agenda_rows
from missionflow.runtime.mail.templates import render

LINK = "https://meet.example.org/eu-us-2017-m-2"
NAMED = replace(CONSORTIUM, table=1, table_name="Salon rouge", location="Hall B")
REMOTE = replace(NANOWORKS, table=None, video_link=LINK)
AGENDA = Agenda("7", "Bavarian Nano Cluster", "Matchmaking", "Venue", "America/New_York", ())


@pytest.mark.parametrize(
    ("language", "at", "by_video", "video_meeting"),
    [
        ("en", "at Salon rouge, Hall B", f"by video: {LINK}", "Video meeting"),
        ("fr", "lieu : Salon rouge, Hall B", f"en visio : {LINK}", "Rendez-vous en visio"),
        ("de", "Ort: Salon rouge, Hall B", f"per Video: {LINK}", "Videogespräch"),
    ],
)
def test_the_agenda_names_the_table_or_carries_the_link(
    language: str, at: str, by_video: str, video_meeting: str
) -> None:
    rows = agenda_rows(replace(AGENDA, items=(NAMED, REMOTE)))
    email = render("agenda", {**context("agenda", rows=rows), "language": language})
    assert f"EDT, {at}" in email.text and f"EDT, {by_video}" in email.text
    assert f'<a href="{LINK}">{video_meeting}</a>' in email.html
    assert "Salon rouge<br>" in email.html and "Hall B</span>" in email.html


def test_numbered_tables_read_as_before() -> None:
    rows = agenda_rows(replace(AGENDA, items=(CONSORTIUM,)))
    email = render("agenda", context("agenda", rows=rows))
    assert f"EDT, table {CONSORTIUM.table}\n" in email.text
    assert "by video" not in email.text and 'href="https://meet' not in email.html
