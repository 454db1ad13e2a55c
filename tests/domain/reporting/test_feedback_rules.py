"""Feedback and consent rules: what is stored, and what may be published."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from support import rehearsal

from missionflow.domain.mission.file import load_mission
from missionflow.domain.reporting.feedback import (
    answers_close_at,
    clean_text,
    cleaned_feedback,
    cleaned_follow_up,
    is_late,
    publishable_testimonial,
    publishable_testimonials,
)
from missionflow.domain.reporting.messages import FeedbackInput, FollowUpInput


def answer(**fields: object) -> FeedbackInput:
    return FeedbackInput(respondent_id=uuid.uuid4(), respondent_kind="delegate", **fields)


@dataclass
class Stored:
    testimonial: str | None
    consent_to_publish: bool


@pytest.mark.parametrize(
    ("typed", "kept"), [(None, None), ("", None), ("  \n\t ", None), ("  Great  ", "Great")]
)
def test_texts_are_trimmed_and_blank_is_none(typed: str | None, kept: str | None) -> None:
    assert clean_text(typed) == kept


def test_a_testimonial_without_consent_is_kept_but_not_published() -> None:
    stored = cleaned_feedback(answer(testimonial=" We met three partners. "))

    assert stored.testimonial == "We met three partners."
    assert stored.consent_to_publish is False
    assert publishable_testimonial(stored) is None


def test_consent_without_a_testimonial_is_no_consent() -> None:
    for blank in (None, "", "   "):
        stored = cleaned_feedback(answer(testimonial=blank, consent_to_publish=True))
        assert stored.testimonial is None
        assert stored.consent_to_publish is False


def test_a_testimonial_with_consent_is_published_trimmed() -> None:
    stored = cleaned_feedback(answer(testimonial="\n Superb. ", consent_to_publish=True))

    assert stored.consent_to_publish is True
    assert publishable_testimonial(stored) == "Superb."


def test_the_report_publishes_only_consented_testimonials_in_order() -> None:
    rows = [
        Stored("First", True),
        Stored("Private", False),
        Stored("   ", True),  # a row written before the rules: still never published blank
        Stored(None, True),
        Stored(" Last ", True),
    ]

    assert publishable_testimonials(rows) == ["First", "Last"]


def test_ratings_and_other_answers_pass_unchanged() -> None:
    given = answer(rating_matchmaking=5, rating_visits=1, rating_organisation=3, met_partners=True)

    assert cleaned_feedback(given) == given


def test_follow_up_comments_are_trimmed() -> None:
    given = FollowUpInput(application_id=uuid.uuid4(), survey=1, agreements=2, comments="  ")

    assert cleaned_follow_up(given).comments is None
    assert cleaned_follow_up(given).agreements == 2


def test_feedback_first_given_after_the_closing_date_is_late() -> None:
    closes = datetime(2017, 5, 22, 21, 0, tzinfo=UTC)

    assert not is_late(closes - timedelta(seconds=1), closes)
    assert not is_late(closes, closes)
    assert is_late(closes + timedelta(seconds=1), closes)
    assert not is_late(closes + timedelta(days=30), None)


def test_survey_answers_close_when_the_mission_completes() -> None:
    now = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
    mission = load_mission(rehearsal(), now=now)
    # report due at +9 min, last survey one minute later, answered for a minute more
    assert answers_close_at(mission) == now + timedelta(minutes=11)
    document = rehearsal()
    document["reporting"]["follow_up"] = []
    assert answers_close_at(load_mission(document, now=now)) is None
