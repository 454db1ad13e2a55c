"""The mission file's call: when it opens and closes, its sectors, questionnaire and invitees."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, model_validator

from missionflow.domain.durations import Duration, IsoDuration
from missionflow.domain.email_address import EmailAddress
from missionflow.domain.mission.fields import Instant, Strict, Text, field_error
from missionflow.domain.mission.languages import text_field


class Invitee(Strict):
    organisation: Text
    email: EmailAddress
    name: Text | None = None
    country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None


class QuestionType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    CHOICE = "choice"
    BOOLEAN = "boolean"


class Question(Strict):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
    text: text_field(2000)  # type: ignore[valid-type]
    type: QuestionType = QuestionType.TEXT
    required: bool = True
    choices: list[text_field(500)] | None = None  # type: ignore[valid-type]

    @model_validator(mode="after")
    def _choices_fit_type(self) -> Self:
        if self.type is QuestionType.CHOICE and not self.choices:
            raise ValueError("a choice question needs a non-empty list of choices")
        if self.type is not QuestionType.CHOICE and self.choices:
            raise ValueError(f"only choice questions have choices, not {self.type.value} ones")
        return self


class Call(Strict):
    opens_at: Instant | None = Field(
        default=None, description="When the call is published; when the mission starts if left out."
    )
    deadline: Instant
    reminders: list[Duration] = Field(
        default_factory=lambda: [IsoDuration(days=7), IsoDuration(days=2), IsoDuration(days=1)],
        description="Offsets before the deadline at which reminders go out.",
    )
    sectors: Annotated[list[Text], Field(min_length=1)]
    questionnaire: list[Question] = Field(default_factory=list)
    require_slide: bool = True
    invitees: list[Invitee] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.opens_at is not None and self.deadline <= self.opens_at:
            raise field_error("deadline", "the deadline must come after the call opens")
        if any(offset.is_zero for offset in self.reminders):
            raise field_error("reminders", "a reminder offset must be longer than zero")
        if len({str(offset) for offset in self.reminders}) != len(self.reminders):
            raise field_error("reminders", "reminder offsets must be distinct")
        if len({s.casefold() for s in self.sectors}) != len(self.sectors):
            raise field_error("sectors", "sectors must be distinct")
        if len({q.id for q in self.questionnaire}) != len(self.questionnaire):
            raise field_error("questionnaire", "question ids must be distinct")
        return self
