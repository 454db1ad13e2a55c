"""The mission file's sections from the event on: matchmaking sessions, visits, reporting."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Self

from pydantic import Field, model_validator

from missionflow.domain.durations import Duration, IsoDuration
from missionflow.domain.matchmaking import request_policy
from missionflow.domain.mission.event_tables import Tables, VideoLink
from missionflow.domain.mission.fields import Instant, Slug, Strict, Text, Zone, field_error
from missionflow.domain.mission.languages import text_field


class Session(Strict):
    start: Instant
    end: Instant

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise field_error("end", "a session must end after it starts")
        return self


class Matchmaking(Strict):
    event: Text
    venue: Text
    timezone: Zone
    requests_open_at: Instant
    requests_deadline: Instant
    sessions: Annotated[list[Session], Field(min_length=1)]
    slot_minutes: Annotated[int, Field(ge=1, le=240)] = 20
    tables: Tables
    max_meetings_per_participant: Annotated[int, Field(ge=1)]
    video_link: VideoLink | None = Field(
        default=None,
        description="The link template of remote meetings (docs/matchmaking-tables.md).",
    )
    preferences_deadline: Instant | None = Field(
        default=None,
        description="With it, participants keep preference lists (must meet, would like, no "
        "thanks) from requests_open_at until then, when they become meetings and requests.",
    )
    # Requests: expiry, limits and nudges (docs/mission-file.md, "Meeting requests").
    request_expiry: Duration | None = Field(
        default=None, description="A pending request not answered within it expires (P3D)."
    )
    max_pending_requests: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Per participant: their sent requests waiting at once."
    )
    max_sent_requests: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="Per participant: the requests they may send in all."
    )
    nudge_every: Duration | None = Field(
        default=None,
        description="From requests_open_at until requests_deadline, participants with no "
        "accepted meeting are nudged by email every so often (P2D).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.requests_deadline <= self.requests_open_at:
            raise field_error("requests_deadline", "meeting requests must close after they open")
        if self.preferences_deadline is not None and not (
            self.requests_open_at < self.preferences_deadline < self.requests_deadline
        ):
            raise field_error(
                "preferences_deadline",
                "preference lists must close after meeting requests open and before they close "
                "(the requests they make are answered before the deadline)",
            )
        if self.sessions[0].start < self.requests_deadline:
            raise field_error(
                "sessions", "the first session must start after meeting requests close"
            )
        for index, session in enumerate(self.sessions):
            if session.end - session.start < timedelta(minutes=self.slot_minutes):
                raise field_error(
                    f"sessions.{index}",
                    f"a session must hold at least one {self.slot_minutes}-minute slot",
                )
        for earlier, later in zip(self.sessions, self.sessions[1:], strict=False):
            if later.start < earlier.end:
                raise field_error("sessions", "sessions must be in order and must not overlap")
        return self

    @model_validator(mode="after")
    def _request_rules(self) -> Self:
        if (refusal := request_policy.settings_refusal(self)) is not None:
            raise field_error(*refusal)
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
    description: text_field(5000, min_length=0) | None = None  # type: ignore[valid-type]
    what_to_bring: text_field(2000, min_length=0) | None = None  # type: ignore[valid-type]
    meeting_point: text_field(500) | None = Field(  # type: ignore[valid-type]
        default=None, description="Where the delegation gathers; the day-before reminder says it."
    )
    cancelled: bool = Field(
        default=False, description="Set by a coordinator's change; the visit stays listed."
    )

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.ends_at <= self.starts_at:
            raise field_error("ends_at", "a visit must end after it starts")
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
            raise field_error("follow_up", "a follow-up offset must be longer than zero")
        return self
