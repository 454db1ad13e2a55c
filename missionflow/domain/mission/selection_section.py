"""The mission file's selection: seats, balance limits, deadlines and the rubric that scores."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import Field, HttpUrl, model_validator

from missionflow.domain.durations import Duration
from missionflow.domain.mission.call_section import Question, QuestionType
from missionflow.domain.mission.fields import Instant, Strict, Text, field_error


class OrganisationType(StrEnum):
    """What kind of organisation applies; the rubric may favour some kinds over others."""

    CLUSTER = "cluster_organisation"
    SME = "sme"
    RESEARCH = "university_or_research"
    OTHER = "other"

    @property
    def label(self) -> str:
        return _TYPE_LABELS[self]


_TYPE_LABELS = {
    OrganisationType.CLUSTER: "Cluster organisation",
    OrganisationType.SME: "SME",
    OrganisationType.RESEARCH: "University or research body",
    OrganisationType.OTHER: "Other",
}

Points = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0, allow_inf_nan=False)]


class Weights(Strict):
    """How much each criterion counts, relative to the others.

    Only the ratios matter: the score normalises them. A criterion left out of a written
    `weights` counts for nothing, so `{completeness: 1, sector_fit: 1}` means exactly those two.
    """

    completeness: Weight = 0.0
    sector_fit: Weight = 0.0
    questionnaire: Weight = 0.0
    organisation_type: Weight = 0.0

    @model_validator(mode="after")
    def _something_counts(self) -> Self:
        if not any(self.model_dump().values()):
            raise ValueError("at least one criterion must weigh more than zero")
        return self


class ScoredQuestion(Strict):
    """How answers to one question earn points: a range for an integer question
    (`{max: 200}`, points grow linearly from `min` to `max`), or points per choice."""

    min: int = 0
    max: int | None = None
    points: dict[Text, Points] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Self:
        if self.points is not None:
            if self.max is not None or self.min != 0:
                raise ValueError("score a question either by a range (min, max) or by points")
            if not self.points:
                raise field_error("points", "give the points of at least one choice")
        elif self.max is None:
            raise ValueError("give max (and optionally min) for an integer question, or points")
        elif self.max <= self.min:
            raise field_error("max", "max must be greater than min")
        return self

    @property
    def by_choice(self) -> bool:
        return self.points is not None


class Rubric(Strict):
    """How the selection phase scores an eligible application (see
    `missionflow.domain.selection.scoring`)."""

    weights: Weights = Field(
        default_factory=lambda: Weights(
            completeness=0.25, sector_fit=0.25, questionnaire=0.25, organisation_type=0.25
        )
    )
    sector_points: dict[Text, Points] = Field(
        default_factory=dict, description="Points per sector of the call; unlisted ones score 1."
    )
    organisation_types: dict[OrganisationType, Points] = Field(
        default_factory=dict, description="Points per organisation type; unlisted ones score 1."
    )
    questions: dict[str, ScoredQuestion] = Field(
        default_factory=dict, description="Scored questions of the call's questionnaire, by id."
    )

    @model_validator(mode="after")
    def _questionnaire_not_alone(self) -> Self:
        weights = self.weights
        if not self.questions and not (
            weights.completeness or weights.sector_fit or weights.organisation_type
        ):
            raise field_error(
                "weights",
                "only the questionnaire weighs anything, but no question is scored: "
                "every application would score zero",
            )
        return self


class Opportunity(Strict):
    """Another mission or programme, offered to applicants who were not selected."""

    title: Text
    url: HttpUrl
    description: Annotated[str, Field(max_length=2000)] | None = None


class Selection(Strict):
    capacity: Annotated[int, Field(ge=1, description="Seats in the delegation.")]
    max_per_country: Annotated[int, Field(ge=1)] | None = None
    max_per_sector: (
        Annotated[
            int, Field(ge=1, description="Counted on each application's primary (first) sector.")
        ]
        | None
    ) = None
    min_per_country: (
        Annotated[int, Field(ge=1, description="A balance target met where applications allow it.")]
        | None
    ) = None
    waitlist_size: (
        Annotated[
            int, Field(ge=0, description="Places on the waitlist; as many as seats if left out.")
        ]
        | None
    ) = None
    decision_due: Instant
    confirm_within: Duration
    delegation_lock: Instant
    auto_approve: bool = False
    rubric: Rubric = Field(default_factory=Rubric)
    other_opportunities: list[Opportunity] = Field(
        default_factory=list, description="Offered to applicants who were not selected."
    )

    @property
    def waitlist_places(self) -> int:
        return self.capacity if self.waitlist_size is None else self.waitlist_size

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.delegation_lock <= self.decision_due:
            raise field_error(
                "delegation_lock", "the delegation must lock after the selection decision is due"
            )
        if (
            self.min_per_country is not None
            and self.max_per_country is not None
            and self.min_per_country > self.max_per_country
        ):
            raise field_error(
                "min_per_country", "the minimum per country cannot exceed the maximum per country"
            )
        if self.confirm_within.is_zero:
            raise field_error("confirm_within", "the confirmation window must be longer than zero")
        return self


def scoring_problem(question: Question | None, scored: ScoredQuestion) -> str | None:
    """Why the rubric cannot score this question as written, if it cannot."""
    if question is None:
        return "the call's questionnaire has no question with this id"
    if question.type is QuestionType.INTEGER and scored.by_choice:
        return "an integer question is scored by a range (min, max), not by points"
    if question.type is QuestionType.CHOICE and not scored.by_choice:
        return "a choice question is scored by points per choice, not by a range"
    if question.type not in (QuestionType.INTEGER, QuestionType.CHOICE):
        return f"only integer and choice questions can be scored, not {question.type.value} ones"
    return None
