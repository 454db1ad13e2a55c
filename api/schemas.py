"""What the API answers: the public shape of missions, apart from how they are stored."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from missionflow.domain.call.applications import ApplicationStatus
from missionflow.domain.mission.messages import InstantView, SeatCounts
from missionflow.domain.mission.phases import Phase
from missionflow.runtime.person_data_export import ApplicationFields

NO_NUL = r"^[^\x00]*$"
"""For text that is stored or looked up: PostgreSQL refuses a NUL in text with an error, so
it is a 422 at the field instead."""


class MissionCreated(BaseModel):
    id: str
    workflow_id: str
    phase: Phase
    years_later: int = Field(
        default=0, description="With replay=true, how many years the mission's instants moved."
    )


class MissionSummary(BaseModel):
    id: str
    workflow_id: str
    title: str
    organiser: str
    phase: Phase
    created_at: AwareDatetime
    ended_at: AwareDatetime | None


class TransitionView(BaseModel):
    phase: Phase
    previous: Phase | None
    at: datetime
    note: str | None


class MissionView(MissionSummary):
    timezone: str
    live: bool = Field(description="False when Temporal could not be asked; the rest is stored.")
    waiting_for: str | None = Field(description="In words, what the mission waits for next.")
    next: InstantView | None
    deadline: InstantView | None
    instants: list[InstantView]
    transitions: list[TransitionView]
    cancel_reason: str | None
    applications: int | None = Field(description="Applications in the call, not withdrawn.")
    withdrawn: int | None
    seats: SeatCounts | None = Field(
        default=None, description="Once the delegation is approved: confirmed, pending, released."
    )


IGNORED_BY = (
    "Who made the change, kept only for the shared bootstrap token (else: administrator); a "
    "person is recorded by their sign-in or token, whatever this says (docs/people-and-roles.md)."
)


class CancelBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Told to everyone concerned.")
    by: str | None = Field(default=None, max_length=200, description=IGNORED_BY)


class DeadlineBody(BaseModel):
    deadline: str = Field(
        description="The new deadline; without an offset it is read in the mission's zone "
        "(e.g. 2017-03-29T24:00).",
        examples=["2017-03-29T24:00"],
    )
    by: str | None = Field(default=None, max_length=200, description=IGNORED_BY)


class ApplicationCreated(BaseModel):
    application_id: uuid.UUID
    access_token: str | None = Field(
        description="The private link's token (X-Access-Token or ?token=); given again only for "
        "the very same submission."
    )
    status: ApplicationStatus
    complete: bool
    missing: list[str] = Field(description="What still keeps the application from complete.")
    detail: str | None = None


class ApplicationView(ApplicationFields):
    status: ApplicationStatus
    has_slide: bool
    decision: str | None = Field(
        default=None,
        description="selected, waitlisted, not_selected or not_eligible; shown to the applicant "
        "once the delegation is approved, to coordinators from the proposal on.",
    )
    score: float | None = None
    waitlist_position: int | None = None
    seat: str | None = Field(default=None, description="offered, confirmed or released")
    respond_by: AwareDatetime | None = None


class SeatView(BaseModel):
    application_id: uuid.UUID
    seat: str = Field(description="offered, confirmed or released")
    respond_by: datetime
    released_because: str | None
