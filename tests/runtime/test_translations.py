"""The catalogues: complete in French and German, and every email template rendered in every
language, parsed back, with no English left where a translation exists."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from missionflow.domain.durations import IsoDuration
from missionflow.domain.matchmaking.agenda import Break
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime import i18n
from missionflow.runtime.mail.templates import TEMPLATES, render

sys.path.insert(0, str(Path(__file__).parent / "mail"))
from mail_contexts import context
from support import example
from translation_checks import (
    PLACEHOLDER,
    TAG,
    TRANSLATED,
    Parsed,
    catalogue,
    html_text,
    left_in_english,
)


def source_messages() -> set[str]:
    with (i18n.LOCALES_DIR / "messages.pot").open("rb") as source:
        return {message.id for message in read_po(source) if message.id}


@pytest.mark.parametrize("language", ("en", *TRANSLATED))
def test_every_language_has_every_message(language: str) -> None:
    assert set(catalogue(language)) == source_messages()


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated_with_its_placeholders(language: str) -> None:
    for english, translated in catalogue(language).items():
        assert translated.strip(), f"{language}: no translation of {english!r}"
        assert sorted(PLACEHOLDER.findall(translated)) == sorted(PLACEHOLDER.findall(english)), (
            english
        )
        assert sorted(TAG.findall(translated)) == sorted(TAG.findall(english)), english


@pytest.mark.parametrize("language", ("en", *TRANSLATED))
@pytest.mark.parametrize("template", TEMPLATES)
def test_every_email_renders_in_every_language(template: str, language: str) -> None:
    data = context(template)
    email = render(template, {**data, "language": language})
    assert email.subject.strip() and email.text.strip()
    body = Parsed(email.html)
    assert body.lang == language
    assert " ".join(body.text).strip()
    if language not in TRANSLATED:
        return
    english = render(template, {**data, "language": "en"})
    for part, said, english_said in (
        ("subject", email.subject, english.subject),
        ("text", email.text, english.text),
        ("html", html_text(email.html), html_text(english.html)),
    ):
        assert not left_in_english(said, english_said, data, language), (template, part, language)


def test_the_confirmation_speaks_french() -> None:
    email = render("application_received", {**context("application_received"), "language": "fr"})
    assert email.subject.startswith("Manifestation d'intérêt reçue")
    assert "Bonjour Ana Núñez," in email.text
    assert "22 mars 2017 24:00 CET (23:00 UTC)" in email.text
    assert "Cordialement," in email.text


def test_a_catalogue_is_read_from_its_po_without_a_build_step(tmp_path, monkeypatch) -> None:
    """A fresh clone has no .mo: the .po is compiled in memory."""
    for language in ("fr",):
        target = tmp_path / language / "LC_MESSAGES"
        target.mkdir(parents=True)
        source = i18n.LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
        (target / "messages.po").write_bytes(source.read_bytes())
    monkeypatch.setattr(i18n, "LOCALES_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        assert i18n.translate("fr", "Kind regards,") == "Cordialement,"
        assert i18n.translate("de", "Kind regards,") == "Kind regards,"  # none: English
    finally:
        i18n.translations.cache_clear()


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "22 Mar 2017 24:00 CET (23:00 UTC)"),
        ("fr", "22 mars 2017 24:00 CET (23:00 UTC)"),
        ("de", "22. März 2017 24:00 CET (23:00 UTC)"),
    ],
)
def test_a_deadline_in_each_language_names_its_zone(language: str, said: str) -> None:
    deadline = datetime(2017, 3, 22, 23, 0, tzinfo=UTC)
    assert i18n.when(deadline, "Europe/Brussels", language, end_of_day=True) == said


def test_a_meeting_abroad_gives_the_utc_day_when_it_differs() -> None:
    meeting = datetime(2017, 5, 17, 1, 30, tzinfo=UTC)
    assert (
        i18n.when(meeting, "America/New_York", "de") == "16. Mai 2017 21:30 EDT (17. Mai 01:30 UTC)"
    )


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "Tue 16 May 2017, 09:00–17:00 EDT"),
        ("fr", "mar. 16 mai 2017, 09:00–17:00 EDT"),
        ("de", "Di., 16. Mai 2017, 09:00–17:00 EDT"),
    ],
)
def test_a_visit_is_timed_in_the_readers_language(language: str, said: str) -> None:
    boston = MissionFile.model_validate(example("eu-us-2017")).visits[0]
    assert i18n.visit_span(boston, language) == said


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "2 breaks: 15 May 10:20–10:40, 16 May 14:00–14:20"),
        ("fr", "2 pauses : 15 mai 10:20–10:40, 16 mai 14:00–14:20"),
        ("de", "2 Pausen: 15. Mai 10:20–10:40, 16. Mai 14:00–14:20"),
    ],
)
def test_breaks_in_each_language(language: str, said: str) -> None:
    found = [
        Break(datetime(2017, 5, 15, 14, 20, tzinfo=UTC), datetime(2017, 5, 15, 14, 40, tzinfo=UTC)),
        Break(datetime(2017, 5, 16, 18, 0, tzinfo=UTC), datetime(2017, 5, 16, 18, 20, tzinfo=UTC)),
    ]
    assert i18n.breaks_said(found, "America/New_York", language) == said
    assert (
        i18n.breaks_said([], "America/New_York", "de") == "Keine Pausen zwischen Ihren Gesprächen"
    )


@pytest.mark.parametrize(
    ("language", "said"),
    [("en", "7 days"), ("fr", "7\u00a0jours"), ("de", "2 Tage und 12 Stunden")],
)
def test_durations_in_each_language(language: str, said: str) -> None:
    span = "P7D" if language != "de" else "P2DT12H"
    assert i18n.duration(IsoDuration.parse(span), language) == said


@pytest.mark.parametrize(
    ("language", "said"), [("en", "1,234.5"), ("fr", "1\u202f234,5"), ("de", "1.234,5")]
)
def test_numbers_in_each_language(language: str, said: str) -> None:
    assert i18n.number(1234.5, language) == said


@pytest.mark.parametrize(
    ("asked", "header", "chosen"),
    [
        ("de", "fr-FR,fr;q=0.9", "de"),
        (None, "fr-FR,fr;q=0.9,en;q=0.5", "fr"),
        (None, "it;q=1, de-AT;q=0.8", "de"),
        ("it", "", "en"),
        (None, "en;q=0.1, fr;q=0.5", "fr"),
        (None, None, "en"),
    ],
)
def test_the_language_chosen_for_a_reader(
    asked: str | None, header: str | None, chosen: str
) -> None:
    assert i18n.choose(["en", "fr", "de"], asked=asked, accept_language=header) == chosen
