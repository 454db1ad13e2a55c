"""The emails of request expiry and nudges (`meeting_expired`, `matchmaking_nudge`) in each of
their forms, in English, French and German: the requester and the other side told apart, the
requests waiting counted, times in the venue's zone, nothing left in English, names escaped."""

from __future__ import annotations

import pytest
from mail_contexts import SHOWN_REQUESTS_DEADLINE, context
from translation_checks import TRANSLATED, left_in_english

from missionflow.runtime.mail.templates import render

FORMS = [
    ("meeting_expired", {"asked_by_recipient": True}),
    ("meeting_expired", {"asked_by_recipient": False}),
    ("matchmaking_nudge", {"waiting": 0}),
    ("matchmaking_nudge", {"waiting": 1}),
    ("matchmaking_nudge", {"waiting": 3}),
]


def test_the_requester_hears_it_went_unanswered_and_the_other_side_that_it_lapsed() -> None:
    mine = render("meeting_expired", context("meeting_expired", asked_by_recipient=True))
    theirs = render("meeting_expired", context("meeting_expired", asked_by_recipient=False))
    assert mine.subject.startswith("No answer from Philadelphia NanoWorks: your meeting request")
    assert theirs.subject.startswith("The meeting request from Philadelphia NanoWorks has lapsed")
    assert "did not answer the request to meet that you sent on 30 Apr 2017" in mine.text
    assert "asked to meet you on 30 Apr 2017" in theirs.text
    for email in (mine, theirs):
        assert SHOWN_REQUESTS_DEADLINE in email.text and "It will not be scheduled." in email.text


def test_a_nudge_counts_the_requests_waiting_for_an_answer() -> None:
    none, one, three = (
        render("matchmaking_nudge", context("matchmaking_nudge", waiting=count)).text
        for count in (0, 1, 3)
    )
    assert "your answer" not in none
    assert "One request waits for your answer" in one
    assert "3 requests wait for your answer" in three
    assert SHOWN_REQUESTS_DEADLINE in none


@pytest.mark.parametrize("language", TRANSLATED)
@pytest.mark.parametrize(("template", "changes"), FORMS)
def test_every_form_is_translated(template: str, changes: dict, language: str) -> None:
    data = context(template, **changes)
    said = render(template, {**data, "language": language})
    english = render(template, {**data, "language": "en"})
    for part, text, english_text in (
        ("subject", said.subject, english.subject),
        ("text", said.text, english.text),
    ):
        assert not left_in_english(text, english_text, data, language), (template, part)


def test_names_are_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    email = render(
        "meeting_expired",
        context("meeting_expired", other={"name": hostile, "country": "Germany"}),
    )
    assert hostile not in email.html and "&lt;script&gt;" in email.html
