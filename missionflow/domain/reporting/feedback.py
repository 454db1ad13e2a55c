"""The rules of feedback and follow-up answers, without I/O: the activities that store answers,
the API that shows them and the report that publishes testimonials all read them from here.

Consent rules:

- A testimonial without consent is stored (coordinators read it) but never published.
- Consent without a testimonial gives nothing to publish, so it is stored as no consent: a
  stored `consent_to_publish` always refers to a text that exists. Every answer is whole (an
  amendment sends the form again), so a respondent who adds a testimonial later ticks the box
  again with it.
- Texts are trimmed; a text with nothing but whitespace is no text (None).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.lifecycle import surveys_close_at
from missionflow.domain.reporting.messages import FeedbackInput, FollowUpInput

FEEDBACK_FIELDS = (
    "rating_matchmaking",
    "rating_visits",
    "rating_organisation",
    "met_partners",
    "testimonial",
    "consent_to_publish",
)
"""What a respondent answers: an amendment that changes none of these changes nothing."""

FOLLOW_UP_FIELDS = (
    "agreements",
    "distribution_deals",
    "mous",
    "revisits",
    "expected_revenue_eur",
    "comments",
)


class HasTestimonial(Protocol):
    """A stored feedback row, or anything shaped like one (the report's own reading)."""

    @property
    def testimonial(self) -> str | None: ...

    @property
    def consent_to_publish(self) -> bool: ...


def clean_text(value: str | None) -> str | None:
    """Trimmed text, or None when nothing but whitespace was typed."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def cleaned_feedback(answer: FeedbackInput) -> FeedbackInput:
    """The answer as it is stored: texts trimmed, and consent only with a testimonial."""
    testimonial = clean_text(answer.testimonial)
    return answer.model_copy(
        update={
            "testimonial": testimonial,
            "consent_to_publish": answer.consent_to_publish and testimonial is not None,
        }
    )


def cleaned_follow_up(answer: FollowUpInput) -> FollowUpInput:
    return answer.model_copy(update={"comments": clean_text(answer.comments)})


def publishable_testimonial(feedback: HasTestimonial) -> str | None:
    """The testimonial the organisers may publish, or None: only with consent, never empty."""
    text = clean_text(feedback.testimonial)
    return text if text is not None and feedback.consent_to_publish else None


def publishable_testimonials(rows: Iterable[HasTestimonial]) -> list[str]:
    return [text for row in rows if (text := publishable_testimonial(row)) is not None]


def is_late(first_given_at: datetime, closes_at: datetime | None) -> bool:
    """Feedback first given after the closing date is late (kept, and marked so in the report);
    amending a timely answer later does not make it late."""
    return closes_at is not None and first_given_at > closes_at


def answers_close_at(mission: MissionFile) -> datetime | None:
    """When the follow-up surveys stop taking answers (the mission completes then); None for a
    mission without follow-up surveys."""
    return surveys_close_at(mission) if mission.reporting.follow_up else None
