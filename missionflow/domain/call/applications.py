"""Expressions of interest as pure rules: what an applicant sends, what is valid against the
mission's call, and what still makes an application incomplete.

Nothing here touches the database or Temporal: the API checks a form with these functions before
anything is written, and the activity that writes the row calls the same ones.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Self

from iso3166 import countries_by_alpha2
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    model_validator,
)

from missionflow.domain.email_address import EmailAddress
from missionflow.domain.mission.call_section import QuestionType
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.selection_section import OrganisationType

MAX_TEXT_ANSWER = 5000


class ApplicationStatus(StrEnum):
    RECEIVED = "received"
    WITHDRAWN = "withdrawn"


def _country(code: str) -> str:
    code = code.strip().upper()
    if code not in countries_by_alpha2:
        raise ValueError(
            f"{code!r} is not an ISO 3166 country code: use two letters, e.g. DE or FR"
        )
    return code


Country = Annotated[str, AfterValidator(_country)]
Name = Annotated[str, Field(min_length=1, max_length=300)]


class _Form(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


MAX_COLLEAGUES = 20


class Colleague(_Form):
    """Someone who comes with an organisation besides its contact (docs/colleagues.md)."""

    name: Annotated[str, Field(min_length=1, max_length=200)]
    email: EmailAddress
    role: Annotated[str, Field(max_length=200)] | None = None


class ApplicationForm(_Form):
    """Everything an applicant sends (the one-slide presentation travels separately)."""

    organisation: Name
    organisation_type: OrganisationType
    country: Country
    city: Annotated[str, Field(min_length=1, max_length=200)]
    website: HttpUrl | None = None
    contact_name: Annotated[str, Field(min_length=1, max_length=200)]
    contact_email: EmailAddress
    sectors: Annotated[list[str], Field(min_length=1)]
    answers: dict[str, Any] = Field(default_factory=dict)
    consent: bool = Field(description="Consent to the processing of the data; required.")
    language: Annotated[str, Field(max_length=20)] | None = Field(
        default=None,
        description="The language the applicant is spoken to in, one of the mission's; its "
        "default language when left out.",
    )
    colleagues: list[Colleague] = Field(
        default_factory=list,
        max_length=MAX_COLLEAGUES,
        description="Who comes too, besides the contact; none: the contact alone.",
    )

    @model_validator(mode="after")
    def _consented(self) -> Self:
        if not self.consent:
            raise ValueError("consent to the processing of the data is required to apply")
        return self


class ApplicationAmendment(_Form):
    """The fields an applicant may change before the deadline; those left out stay as they are."""

    organisation: Name | None = None
    organisation_type: OrganisationType | None = None
    country: Country | None = None
    city: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    website: HttpUrl | None = None
    contact_name: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    sectors: Annotated[list[str], Field(min_length=1)] | None = None
    answers: dict[str, Any] | None = Field(
        default=None, description="Answers to change; the others are kept."
    )


def organisation_key(name: str) -> str:
    """Two submissions name the same organisation when they differ only in case and spacing."""
    return re.sub(r"\s+", " ", name).strip().casefold()


def email_key(email: str) -> str:
    return email.strip().casefold()


def form_errors(
    mission: MissionFile,
    *,
    sectors: list[str] | None,
    answers: dict[str, Any] | None,
    language: str | None = None,
) -> list[dict[str, Any]]:
    """Field errors of a form against this mission's call, located like pydantic's."""
    errors: list[dict[str, Any]] = []
    if language is not None and language not in mission.languages:
        errors.append(
            _error(
                ("language",),
                f"{language!r} is not a language of this mission; choose from: "
                + ", ".join(mission.languages),
            )
        )
    known = {sector.casefold() for sector in mission.call.sectors}
    for index, sector in enumerate(sectors or []):
        if sector.strip().casefold() not in known:
            errors.append(
                _error(
                    ("sectors", index),
                    f"{sector!r} is not a sector of this call; choose from: "
                    + ", ".join(mission.call.sectors),
                )
            )
    if sectors is not None and len({s.strip().casefold() for s in sectors}) != len(sectors):
        errors.append(_error(("sectors",), "each sector may be chosen once"))
    questions = {question.id: question for question in mission.call.questionnaire}
    for question_id, answer in (answers or {}).items():
        question = questions.get(question_id)
        if question is None:
            errors.append(_error(("answers", question_id), "this call has no such question"))
        elif (problem := _answer_problem(question.type, question.choices, answer)) is not None:
            errors.append(_error(("answers", question_id), problem))
    return errors


def _answer_problem(kind: QuestionType, choices: list[str] | None, answer: Any) -> str | None:
    if answer is None or answer == "":
        return None  # unanswered: allowed now, listed as missing
    match kind:
        case QuestionType.INTEGER if isinstance(answer, bool) or not isinstance(answer, int):
            return "the answer must be a whole number"
        case QuestionType.BOOLEAN if not isinstance(answer, bool):
            return "the answer must be true or false"
        case QuestionType.CHOICE if answer not in (choices or []):
            return "the answer must be one of: " + ", ".join(choices or [])
        case QuestionType.TEXT if not isinstance(answer, str):
            return "the answer must be text"
        case QuestionType.TEXT if len(answer) > MAX_TEXT_ANSWER:
            return f"the answer must be at most {MAX_TEXT_ANSWER} characters"
    return None


def _error(location: tuple[Any, ...], message: str) -> dict[str, Any]:
    return {"loc": location, "msg": message, "type": "value_error"}


def canonical_sectors(mission: MissionFile, sectors: list[str]) -> list[str]:
    """The sectors as the mission spells them, in the mission's order."""
    chosen = {sector.strip().casefold() for sector in sectors}
    return [sector for sector in mission.call.sectors if sector.casefold() in chosen]


def missing_items(mission: MissionFile, answers: dict[str, Any], *, has_slide: bool) -> list[str]:
    """What still keeps an application from being complete, in words for the applicant."""
    missing = [
        answer_missing(question.text)
        for question in mission.call.questionnaire
        if question.required and answers.get(question.id) in (None, "")
    ]
    if mission.call.require_slide and not has_slide:
        missing.append(SLIDE_MISSING)
    return missing


SLIDE_MISSING = "the one-slide presentation (PDF or PPTX)"
"""How `missing_items` says the slide is missing (pages and emails translate it)."""


def answer_missing(question: str) -> str:
    """How `missing_items` says a question is unanswered (pages and emails translate it)."""
    return f"an answer to “{question}”"
