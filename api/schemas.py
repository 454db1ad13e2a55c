"""What the API answers: the public shape of missions, apart from how they are stored."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from missionflow.messages import InstantView
from missionflow.phases import Phase


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


class CancelBody(BaseModel):
    reason: str = Field(min_length=1, max_length=2000, description="Told to everyone concerned.")
    by: str | None = Field(default=None, max_length=200, description="Who cancels, for the record.")


class DeadlineBody(BaseModel):
    deadline: str = Field(
        description="The new deadline; without an offset it is read in the mission's zone "
        "(e.g. 2017-03-29T24:00).",
        examples=["2017-03-29T24:00"],
    )
    by: str | None = Field(default=None, max_length=200)
