"""The agenda email asks to be on time where the meetings are: at the table (numbered), at the
table or room shown (named tables), by the video link (remote meetings), or either, in every
language; its meetings' column says "Place" once a meeting is not at a numbered table."""

from __future__ import annotations

from dataclasses import replace

import pytest
from mail_contexts import CONSORTIUM, NANOWORKS, context

from missionflow.domain.matchmaking.agenda import Agenda, AgendaItem, agenda_rows
from missionflow.runtime.mail.templates import render

LINK = "https://meet.example.org/eu-us-2017-m-2"
NAMED = replace(CONSORTIUM, table=1, table_name="Salon rouge", location="Hall B")
REMOTE = replace(NANOWORKS, table=None, video_link=LINK)
AGENDA = Agenda("7", "Bavarian Nano Cluster", "Matchmaking", "Venue", "America/New_York", ())
NUMBERED_ONLY = (CONSORTIUM,)
NAMED_ONLY = (NAMED,)
REMOTE_ONLY = (REMOTE,)
BOTH = (NAMED, REMOTE)

SAID = {
    ("en", NUMBERED_ONLY): "Please be at the table a few minutes before each meeting",
    ("en", NAMED_ONLY): "Please be at the table or room shown a few minutes before each meeting",
    ("en", REMOTE_ONLY): "Please open each meeting's video link a few minutes before it starts",
    ("en", BOTH): "Please be at the table shown, or open the video link, a few minutes before",
    ("fr", NAMED_ONLY): "Veuillez être à la table ou dans la salle indiquée",
    ("fr", REMOTE_ONLY): "Veuillez ouvrir le lien de visio de chaque rendez-vous",
    ("fr", BOTH): "Veuillez être à la table indiquée, ou ouvrir le lien de visio",
    ("de", NAMED_ONLY): "am angegebenen Tisch oder im angegebenen Raum",
    ("de", REMOTE_ONLY): "Bitte öffnen Sie den Videolink jedes Gesprächs",
    ("de", BOTH): "am angegebenen Tisch oder öffnen Sie den Videolink",
}
TABLE_WORDS = {"en": ("Table", "Place"), "fr": ("Table", "Lieu"), "de": ("Tisch", "Ort")}


@pytest.mark.parametrize(("language", "items"), list(SAID))
def test_the_agenda_asks_to_be_on_time_where_the_meetings_are(
    language: str, items: tuple[AgendaItem, ...]
) -> None:
    rows = agenda_rows(replace(AGENDA, items=items))
    email = render("agenda", {**context("agenda", rows=rows), "language": language})
    said = SAID[language, items]
    assert said in email.text
    assert said in email.html
    others = {text for (lang, _), text in SAID.items() if lang == language and text != said}
    assert not any(other in email.text for other in others)
    table, place = TABLE_WORDS[language]
    heading = place if items != NUMBERED_ONLY else table
    assert f'border-bottom:1px solid #d9dee3;">{heading}</th>' in email.html


@pytest.mark.parametrize(
    ("language", "at_the_table"),
    [
        ("en", "Please be at the table"),
        ("fr", "Veuillez être à la table quelques minutes"),
        ("de", "Bitte seien Sie einige Minuten vor jedem Gespräch am Tisch"),
    ],
)
def test_remote_participants_are_not_told_to_be_at_a_table(
    language: str, at_the_table: str
) -> None:
    numbered = agenda_rows(replace(AGENDA, items=NUMBERED_ONLY))
    remote = agenda_rows(replace(AGENDA, items=REMOTE_ONLY))
    as_before = render("agenda", {**context("agenda", rows=numbered), "language": language})
    assert at_the_table in as_before.text  # numbered tables: the words as before
    email = render("agenda", {**context("agenda", rows=remote), "language": language})
    assert at_the_table not in email.text and at_the_table not in email.html
