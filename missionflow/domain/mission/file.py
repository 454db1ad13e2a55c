"""The mission file: one YAML or JSON document that describes a whole trade mission.

Instants are written in the wall time of the zone they belong to (the organisers' zone for the
call, selection and reporting; the venue's for matchmaking; each city's for its visit), with an
explicit offset, or relative to the start (`+PT2M`). `load_mission` turns all of them into UTC
before the model is built, so the model (and everything downstream: the workflow, the database)
only ever holds UTC instants plus the zone names needed to show them.
"""

from __future__ import annotations

import calendar
import copy
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Self

import yaml
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from missionflow.domain.durations import Duration, IsoDuration
from missionflow.domain.email_address import EmailAddress
from missionflow.domain.instants import check_zone, is_zone, local, parse_instant, to_utc

Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
Zone = Annotated[str, AfterValidator(check_zone)]


def _readable(value: Any) -> Any:
    if isinstance(value, _Unreadable):
        raise ValueError(value.reason)
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_readable), AfterValidator(to_utc)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class Strict(BaseModel):
    """Unknown keys are refused: a misspelt `dealine` must not silently drop the deadline."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Person(Strict):
    name: Text
    email: EmailAddress


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
    text: Annotated[str, Field(min_length=1, max_length=2000)]
    type: QuestionType = QuestionType.TEXT
    required: bool = True
    choices: list[Text] | None = None

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
            raise _field_error("deadline", "the deadline must come after the call opens")
        if any(offset.is_zero for offset in self.reminders):
            raise _field_error("reminders", "a reminder offset must be longer than zero")
        if len({str(offset) for offset in self.reminders}) != len(self.reminders):
            raise _field_error("reminders", "reminder offsets must be distinct")
        if len({s.casefold() for s in self.sectors}) != len(self.sectors):
            raise _field_error("sectors", "sectors must be distinct")
        if len({q.id for q in self.questionnaire}) != len(self.questionnaire):
            raise _field_error("questionnaire", "question ids must be distinct")
        return self


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
                raise _field_error("points", "give the points of at least one choice")
        elif self.max is None:
            raise ValueError("give max (and optionally min) for an integer question, or points")
        elif self.max <= self.min:
            raise _field_error("max", "max must be greater than min")
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
            raise _field_error(
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
            raise _field_error(
                "delegation_lock", "the delegation must lock after the selection decision is due"
            )
        if (
            self.min_per_country is not None
            and self.max_per_country is not None
            and self.min_per_country > self.max_per_country
        ):
            raise _field_error(
                "min_per_country", "the minimum per country cannot exceed the maximum per country"
            )
        if self.confirm_within.is_zero:
            raise _field_error("confirm_within", "the confirmation window must be longer than zero")
        return self


class Session(Strict):
    start: Instant
    end: Instant

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise _field_error("end", "a session must end after it starts")
        return self


class Matchmaking(Strict):
    event: Text
    venue: Text
    timezone: Zone
    requests_open_at: Instant
    requests_deadline: Instant
    sessions: Annotated[list[Session], Field(min_length=1)]
    slot_minutes: Annotated[int, Field(ge=1, le=240)] = 20
    tables: Annotated[int, Field(ge=1)]
    max_meetings_per_participant: Annotated[int, Field(ge=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.requests_deadline <= self.requests_open_at:
            raise _field_error("requests_deadline", "meeting requests must close after they open")
        if self.sessions[0].start < self.requests_deadline:
            raise _field_error(
                "sessions", "the first session must start after meeting requests close"
            )
        for index, session in enumerate(self.sessions):
            if session.end - session.start < timedelta(minutes=self.slot_minutes):
                raise _field_error(
                    f"sessions.{index}",
                    f"a session must hold at least one {self.slot_minutes}-minute slot",
                )
        for earlier, later in zip(self.sessions, self.sessions[1:], strict=False):
            if later.start < earlier.end:
                raise _field_error("sessions", "sessions must be in order and must not overlap")
        return self

    @property
    def ends_at(self) -> datetime:
        return self.sessions[-1].end


class Visit(Strict):
    id: Slug
    city: Text
    host: Text
    address: Text
    timezone: Zone
    starts_at: Instant
    ends_at: Instant
    capacity: Annotated[int, Field(ge=1)]
    description: Annotated[str, Field(max_length=5000)] | None = None
    what_to_bring: Annotated[str, Field(max_length=2000)] | None = None
    meeting_point: Text | None = Field(
        default=None, description="Where the delegation gathers; the day-before reminder says it."
    )
    cancelled: bool = Field(
        default=False, description="Set by a coordinator's change; the visit stays listed."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise _field_error("ends_at", "a visit must end after it starts")
        return self


class Reporting(Strict):
    feedback_within: Duration
    report_due: Instant
    follow_up: list[Duration] = Field(
        default_factory=list, description="Offsets after the report at which surveys go out."
    )
    survey_within: Duration = Field(
        default_factory=lambda: IsoDuration(months=1),
        description="How long delegates have to answer the last follow-up survey; the mission "
        "completes then.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if any(offset.is_zero for offset in self.follow_up):
            raise _field_error("follow_up", "a follow-up offset must be longer than zero")
        return self


class MissionFile(Strict):
    id: Annotated[Slug, Field(description="Slug; the workflow id is mission-<id>.")]
    title: Annotated[str, Field(min_length=1, max_length=200)]
    organiser: Text
    destination: Text
    timezone: Annotated[Zone, Field(description="The organisers' IANA time zone.")]
    coordinators: Annotated[list[Person], Field(min_length=1)]
    call: Call
    selection: Selection
    matchmaking: Matchmaking | None = None
    visits: list[Visit] = Field(default_factory=list)
    reporting: Reporting

    @model_validator(mode="before")
    @classmethod
    def _resolve_instants(cls, data: Any, info: ValidationInfo) -> Any:
        now = (info.context or {}).get("now")
        return resolve_instants(data, now) if isinstance(data, dict) else data

    @model_validator(mode="after")
    def _rubric_fits_the_call(self) -> Self:
        rubric = self.selection.rubric
        for sector in rubric.sector_points:
            if sector not in self.call.sectors:
                raise _field_error(
                    ("selection", "rubric", "sector_points", sector),
                    "not a sector of this call; choose from: " + ", ".join(self.call.sectors),
                )
        questions = {question.id: question for question in self.call.questionnaire}
        for question_id, scored in rubric.questions.items():
            at = ("selection", "rubric", "questions", question_id)
            if (problem := _scoring_problem(questions.get(question_id), scored)) is not None:
                raise _field_error(at, problem)
            choices = questions[question_id].choices or []
            unknown = [choice for choice in scored.points or {} if choice not in choices]
            if unknown:
                raise _field_error(
                    (*at, "points", unknown[0]),
                    "not a choice of this question; choose from: " + ", ".join(choices),
                )
        return self

    @model_validator(mode="after")
    def _phases_in_order(self, info: ValidationInfo) -> Self:
        context = info.context or {}
        now: datetime | None = context.get("now")
        if self.selection.decision_due <= self.call.deadline:
            raise _field_error(
                "selection.decision_due", "the selection decision must be due after the deadline"
            )
        window = self.selection.confirm_within
        if (
            window.shift(self.selection.decision_due, self.timezone)
            > self.selection.delegation_lock
        ):
            raise _field_error(
                "selection.confirm_within",
                f"a seat offered at the decision ({window} later) must be answered before the "
                "delegation locks",
            )
        previous, previous_name = self.selection.delegation_lock, "the delegation locks"
        if self.matchmaking is not None:
            if self.matchmaking.requests_open_at < previous:
                raise _field_error(
                    "matchmaking.requests_open_at",
                    "meeting requests can only open once the delegation locks",
                )
            previous, previous_name = self.matchmaking.ends_at, "the matchmaking event ends"
        for index, visit in enumerate(self.visits):
            if visit.starts_at < self.call.deadline:
                raise _field_error(
                    f"visits.{index}.starts_at", "a visit cannot start before the call's deadline"
                )
            if visit.starts_at < previous:
                raise _field_error(
                    f"visits.{index}.starts_at",
                    f"visits must be in order and start after {previous_name}",
                )
            previous, previous_name = visit.ends_at, "the previous visit ends"
        if len({visit.id for visit in self.visits}) != len(self.visits):
            raise _field_error("visits", "visit ids must be distinct")
        if self.reporting.report_due < self.feedback_closes_at:
            raise _field_error(
                "reporting.report_due",
                "the report must be due after the feedback window, which closes "
                f"{self.reporting.feedback_within} after {previous_name}",
            )
        if context.get("live") and now is not None and self.call.deadline <= now:
            raise _field_error(
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


def _scoring_problem(question: Question | None, scored: ScoredQuestion) -> str | None:
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


def _field_error(field: str | tuple[str, ...], message: str) -> PydanticCustomError:
    """A rule broken across fields; `field_errors` moves it onto the field it names.

    `field` is a dotted path, or a tuple when a part is free text (a sector, a choice) that may
    itself contain a dot.
    """
    return PydanticCustomError("mission_file", "{message}", {"field": field, "message": message})


def field_errors(error: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors, each located at the field it is about, ready for a 422 body."""
    errors = []
    for item in error.errors(include_url=False, include_context=True):
        location = tuple(item["loc"])
        context = item.pop("ctx", None) or {}
        if item["type"] == "mission_file":
            field = context["field"]
            location += (
                tuple(field)
                if isinstance(field, tuple)
                else tuple(int(part) if part.isdigit() else part for part in field.split("."))
            )
        elif "error" in context:
            item["msg"] = item["msg"].removeprefix("Value error, ")
        item["loc"] = location
        item.pop("input", None)
        errors.append(item)
    return errors


# Where the instants of a mission file are, and which zone reads their wall time.
_MISSION_ZONE_INSTANTS = {
    "call": ("opens_at", "deadline"),
    "selection": ("decision_due", "delegation_lock"),
    "reporting": ("report_due",),
}


def _instant_slots(data: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, str | None]]:
    """Every (section, key, zone) that holds an instant; zone None when its zone is invalid."""

    def zone_of(section: dict[str, Any]) -> str | None:
        return section.get("timezone") if is_zone(section.get("timezone")) else None

    mission_zone = zone_of(data)
    for name, keys in _MISSION_ZONE_INSTANTS.items():
        if isinstance(section := data.get(name), dict):
            yield from ((section, key, mission_zone) for key in keys if key in section)
    if isinstance(matchmaking := data.get("matchmaking"), dict):
        zone = zone_of(matchmaking)
        for key in ("requests_open_at", "requests_deadline"):
            if key in matchmaking:
                yield matchmaking, key, zone
        sessions = matchmaking.get("sessions")
        for session in sessions if isinstance(sessions, list) else []:
            if isinstance(session, dict):
                yield from ((session, key, zone) for key in ("start", "end") if key in session)
    visits = data.get("visits")
    for visit in visits if isinstance(visits, list) else []:
        if isinstance(visit, dict):
            zone = zone_of(visit)
            yield from ((visit, key, zone) for key in ("starts_at", "ends_at") if key in visit)


def resolve_instants(data: dict[str, Any], now: datetime | None) -> dict[str, Any]:
    """Turn every written instant into UTC, reading wall times in the zone each belongs to.

    A value that cannot be read is left as it is, so that validation reports it at its own field
    with the reason.
    """
    data = copy.deepcopy(data)
    for section, key, zone in _instant_slots(data):
        section[key] = _resolved(section[key], zone, now)
    return data


def _resolved(value: Any, zone: str | None, now: datetime | None) -> Any:
    if isinstance(value, str):
        try:
            return parse_instant(value, zone, now=now)
        except ValueError as error:
            return _Unreadable(value, str(error))
    if isinstance(value, datetime) and value.tzinfo is None and zone is not None:
        return parse_instant(value.isoformat(), zone, now=now)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _Unreadable(
            str(value), "write the instant as text, such as 2017-03-22T24:00 or +PT2M"
        )
    return value


def years_later(mission: MissionFile, years: int) -> MissionFile:
    """The same mission `years` later: every instant keeps its wall time in its own zone.

    This is how last year's mission file becomes this year's, and how the 2017 reference mission
    is replayed today; a 29 February becomes the 28th.
    """
    data = mission.model_dump(mode="json")
    for section, key, zone in _instant_slots(data):
        if section[key] is None:
            continue
        instant = datetime.fromisoformat(section[key])
        section[key] = years_later_instant(instant, zone or "UTC", years).isoformat()
    return load_mission(data)


def years_ahead(now: datetime, reference: datetime) -> int:
    """How many years to move a mission whose first instant is `reference` so it starts after
    `now`, into a year with the same calendar (weekdays, leap day, so the same DST dates): the
    2017 mission is replayed in 2034, where Europe again changes clocks on 26 March and the US
    on 12 March, so its DST cases stay the 2017 ones."""
    years = max(1, now.year - reference.year)
    while not (
        _same_calendar(reference.year, reference.year + years)
        and reference.replace(year=reference.year + years) > now
    ):
        years += 1
    return years


def _same_calendar(year: int, other: int) -> bool:
    return date(year, 1, 1).weekday() == date(other, 1, 1).weekday() and calendar.isleap(
        year
    ) == calendar.isleap(other)


def replay_today(mission: MissionFile, now: datetime) -> tuple[MissionFile, int]:
    """Move a past mission by the fewest whole years that put its deadline after `now`."""
    years = 0
    while years_later_instant(mission.call.deadline, mission.timezone, years) <= now:
        years += 1
    return (years_later(mission, years) if years else mission), years


def years_later_instant(instant: datetime, zone: str, years: int) -> datetime:
    wall = local(instant, zone)
    day = min(wall.day, calendar.monthrange(wall.year + years, wall.month)[1])
    return wall.replace(year=wall.year + years, day=day).astimezone(UTC)


class _Unreadable(str):
    """A written instant that could not be read; validation reports `reason` at its field."""

    __slots__ = ("reason",)

    def __new__(cls, value: str, reason: str) -> _Unreadable:
        instance = super().__new__(cls, value)
        instance.reason = reason
        return instance


class _MissionLoader(yaml.SafeLoader):
    """YAML read the way a coordinator means it.

    `2017-03-22T24:00` stays text so it is read in its own zone; `NO` (Norway), `on` and `yes`
    stay text and `12:30` is not a base-60 number: only `true`/`false` are booleans (YAML 1.2).
    """


_YAML_1_2 = {
    "tag:yaml.org,2002:bool": re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    "tag:yaml.org,2002:int": re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$"),
    "tag:yaml.org,2002:float": re.compile(
        r"^[-+]?(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$"
    ),
}
_MissionLoader.yaml_implicit_resolvers = {
    first: [
        (tag, _YAML_1_2.get(tag, regexp))
        for tag, regexp in resolvers
        if tag != "tag:yaml.org,2002:timestamp"
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_yaml(text: str | bytes) -> Any:
    """Parse a YAML mission file; raises `yaml.YAMLError` with the line and column."""
    return yaml.load(text, Loader=_MissionLoader)


def load_mission(data: Any, *, now: datetime | None = None, live: bool = False) -> MissionFile:
    """Validate a mission document.

    Args:
        data: the parsed YAML or JSON document.
        now: the moment the mission is started: relative instants count from it and a call
            without `opens_at` opens then.
        live: refuse a deadline that has already passed at `now` (starting a real mission).
    """
    return MissionFile.model_validate(data, context={"now": now, "live": live})
