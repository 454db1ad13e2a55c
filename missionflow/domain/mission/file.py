"""The mission file: one YAML or JSON document that describes a whole trade mission.

Instants are written in the wall time of the zone they belong to (the organisers' zone for the
call, selection and reporting; the venue's for matchmaking; each city's for its visit), with an
explicit offset, or relative to the start (`+PT2M`). `load_mission` turns all of them into UTC
before the model is built, so the model (and everything downstream: the workflow, the database)
only ever holds UTC instants plus the zone names needed to show them.

Each section is modelled in a module of its own (`call_section`, `selection_section`,
`event_sections`); this one holds the whole file and the rules that span its sections.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Self

from pydantic import Field, ValidationInfo, model_validator

from missionflow.domain.email_address import EmailAddress
from missionflow.domain.mission.call_section import Call
from missionflow.domain.mission.event_sections import Matchmaking, Reporting, Visit
from missionflow.domain.mission.fields import Slug, Strict, Text, Zone, field_error
from missionflow.domain.mission.languages import (
    DEFAULT_LANGUAGES,
    Language,
    Localized,
    settle,
    text_field,
)
from missionflow.domain.mission.privacy_section import Privacy
from missionflow.domain.mission.selection_section import Selection, scoring_problem
from missionflow.domain.mission.written_instants import resolve_instants


class Person(Strict):
    name: Text
    email: EmailAddress


class MissionFile(Strict):
    id: Annotated[Slug, Field(description="Slug; the workflow id is mission-<id>.")]
    languages: Annotated[list[Language], Field(min_length=1)] = Field(
        default_factory=lambda: list(DEFAULT_LANGUAGES),
        description="The languages the mission speaks; the first is the default, in which a "
        "plain string is written.",
    )
    title: text_field(200)  # type: ignore[valid-type]
    organiser: Text
    destination: Text
    timezone: Annotated[Zone, Field(description="The organisers' IANA time zone.")]
    coordinators: Annotated[list[Person], Field(min_length=1)]
    call: Call
    selection: Selection
    matchmaking: Matchmaking | None = None
    visits: list[Visit] = Field(default_factory=list)
    reporting: Reporting
    privacy: Privacy = Field(default_factory=Privacy)

    @model_validator(mode="before")
    @classmethod
    def _resolve_instants(cls, data: Any, info: ValidationInfo) -> Any:
        now = (info.context or {}).get("now")
        return resolve_instants(data, now) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _texts_in_its_languages(self) -> Self:
        """Every text map speaks only the file's languages, the default among them; each text
        then stands for its default-language version (see `languages`)."""
        if len(set(self.languages)) != len(self.languages):
            raise field_error("languages", "languages must be distinct")
        for owner, name, at in self._texts():
            value = getattr(owner, name)
            if isinstance(value, list):
                settled = []
                for index, item in enumerate(value):
                    text, problem = settle(item, self.languages)
                    if problem is not None:
                        raise field_error(".".join((*at, str(index))), problem)
                    settled.append(text)
                setattr(owner, name, settled)
            elif isinstance(value, Localized):
                text, problem = settle(value, self.languages)
                if problem is not None:
                    raise field_error(".".join(at), problem)
                setattr(owner, name, text)
        return self

    def _texts(self) -> list[tuple[Any, str, tuple[str, ...]]]:
        """Where the file may write a text in several languages: (model, field, path)."""
        texts: list[tuple[Any, str, tuple[str, ...]]] = [(self, "title", ("title",))]
        for index, question in enumerate(self.call.questionnaire):
            at = ("call", "questionnaire", str(index))
            texts.append((question, "text", (*at, "text")))
            if question.choices:
                texts.append((question, "choices", (*at, "choices")))
        for index, visit in enumerate(self.visits):
            for name in ("description", "what_to_bring", "meeting_point"):
                texts.append((visit, name, ("visits", str(index), name)))
        if self.privacy.consent is not None:
            texts.append((self.privacy.consent, "text", ("privacy", "consent", "text")))
        return texts

    @model_validator(mode="after")
    def _rubric_fits_the_call(self) -> Self:
        rubric = self.selection.rubric
        for sector in rubric.sector_points:
            if sector not in self.call.sectors:
                raise field_error(
                    ("selection", "rubric", "sector_points", sector),
                    "not a sector of this call; choose from: " + ", ".join(self.call.sectors),
                )
        questions = {question.id: question for question in self.call.questionnaire}
        for question_id, scored in rubric.questions.items():
            at = ("selection", "rubric", "questions", question_id)
            if (problem := scoring_problem(questions.get(question_id), scored)) is not None:
                raise field_error(at, problem)
            choices = questions[question_id].choices or []
            unknown = [choice for choice in scored.points or {} if choice not in choices]
            if unknown:
                raise field_error(
                    (*at, "points", unknown[0]),
                    "not a choice of this question; choose from: " + ", ".join(choices),
                )
        return self

    @model_validator(mode="after")
    def _phases_in_order(self, info: ValidationInfo) -> Self:
        context = info.context or {}
        now: datetime | None = context.get("now")
        if self.selection.decision_due <= self.call.deadline:
            raise field_error(
                "selection.decision_due", "the selection decision must be due after the deadline"
            )
        window = self.selection.confirm_within
        if (
            window.shift(self.selection.decision_due, self.timezone)
            > self.selection.delegation_lock
        ):
            raise field_error(
                "selection.confirm_within",
                f"a seat offered at the decision ({window} later) must be answered before the "
                "delegation locks",
            )
        previous, previous_name = self.selection.delegation_lock, "the delegation locks"
        if self.matchmaking is not None:
            if self.matchmaking.requests_open_at < previous:
                raise field_error(
                    "matchmaking.requests_open_at",
                    "meeting requests can only open once the delegation locks",
                )
            previous, previous_name = self.matchmaking.ends_at, "the matchmaking event ends"
        for index, visit in enumerate(self.visits):
            if visit.starts_at < self.call.deadline:
                raise field_error(
                    f"visits.{index}.starts_at", "a visit cannot start before the call's deadline"
                )
            if visit.starts_at < previous:
                raise field_error(
                    f"visits.{index}.starts_at",
                    f"visits must be in order and start after {previous_name}",
                )
            previous, previous_name = visit.ends_at, "the previous visit ends"
        if len({visit.id for visit in self.visits}) != len(self.visits):
            raise field_error("visits", "visit ids must be distinct")
        if self.reporting.report_due < self.feedback_closes_at:
            raise field_error(
                "reporting.report_due",
                "the report must be due after the feedback window, which closes "
                f"{self.reporting.feedback_within} after {previous_name}",
            )
        if context.get("live") and now is not None and self.call.deadline <= now:
            raise field_error(
                "call.deadline",
                "the deadline has already passed, so the call could never be open "
                "(a past mission can be replayed on today's calendar with replay=true)",
            )
        return self

    @property
    def feedback_closes_at(self) -> datetime:
        return self.reporting.feedback_within.shift(self.event_ends_at, self.timezone)

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.id)

    @property
    def event_ends_at(self) -> datetime:
        """The end of the last activity abroad: the last visit, else the matchmaking event."""
        if self.visits:
            return self.visits[-1].ends_at
        if self.matchmaking is not None:
            return self.matchmaking.ends_at
        return self.selection.delegation_lock


def workflow_id_for(mission_id: str) -> str:
    return f"mission-{mission_id}"


def load_mission(data: Any, *, now: datetime | None = None, live: bool = False) -> MissionFile:
    """Validate a mission document.

    Args:
        data: the parsed YAML or JSON document.
        now: the moment the mission is started: relative instants count from it and a call
            without `opens_at` opens then.
        live: refuse a deadline that has already passed at `now` (starting a real mission).
    """
    return MissionFile.model_validate(data, context={"now": now, "live": live})
