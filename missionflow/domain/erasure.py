"""What an erased person's rows hold instead of their data, and why data may be erased.

An erased row keeps what the mission's figures count (country, sector, status, scores,
ratings) and loses what names or reaches the person. Its address is `ERASED_ADDRESS`, in the
`.invalid` domain reserved by RFC 2606: no message can ever be delivered there, and the outbox
refuses to queue one (`is_erased_address`).
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from missionflow.domain.instants import describe
from missionflow.domain.mission.call_section import Question, QuestionType

ERASED = "[erased]"
ERASED_ADDRESS = "erased@erased.invalid"


class ErasureReason(StrEnum):
    """Why a person's data is erased (GDPR article 17's grounds, as the log records them):
    a fixed word, so the audit log never holds free text about the person."""

    REQUESTED = "requested"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    OBJECTION = "objection"
    UNLAWFUL = "unlawful"
    LEGAL_OBLIGATION = "legal_obligation"
    RETENTION_ENDED = "retention_ended"


def erased_key(row_id: uuid.UUID) -> str:
    """A unique key for an erased row: the applicant's and invitee's unique keys stay unique
    without the email or name they were made of."""
    return f"erased:{row_id}"


def is_erased_address(address: str) -> bool:
    return address.strip().lower() == ERASED_ADDRESS


def address_digest(mission_id: str, email_key: str) -> str:
    """What is kept of an erased address: enough to recognise it in the mission file's
    invitees (so the call never writes to it again), not enough to write to it."""
    return hashlib.sha256(f"{mission_id}\n{email_key}".encode()).hexdigest()


def kept_answers(questionnaire: list[Question], answers: dict[str, Any]) -> dict[str, Any]:
    """The answers an erased application keeps: numbers, choices and yes/no, which the scores
    and the report's figures were made of; free text (what a person wrote) is erased."""
    types = {question.id: question.type for question in questionnaire}
    return {
        key: value if types[key] is not QuestionType.TEXT else ERASED
        for key, value in answers.items()
        if key in types
    }


def report_without_people(
    figures: dict[str, Any], erased_at: datetime, zone: str
) -> dict[str, Any]:
    """A report's figures once its mission's personal data is erased: every count and rate
    stays, the lists that name or quote people go (the delegation's members, the
    testimonials), and the report says when and why."""
    delegation = {**figures["delegation"], "members": []}
    return {
        **figures,
        "delegation": delegation,
        "testimonials": [],
        "personal_data_erased_at": erased_at.isoformat(),
        "personal_data_erased_at_local": describe(erased_at, zone),
    }
