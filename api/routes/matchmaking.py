"""What the matchmaking event's routes accept and answer: hosts and their links, profiles,
meeting requests and pages, attendance. The routes are `hosts`, `meetings` and `agenda`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field


class HostLink(BaseModel):
    id: uuid.UUID
    name: str
    country: str
    sector: str
    contact_email: str
    unavailable: list[str]
    private_url: str
    table: str | None = Field(default=None, description="The id of its fixed table, if any.")
    remote: bool = Field(default=False, description="Meets by video.")


class HostsAdded(BaseModel):
    added: int
    updated: int
    hosts: list[HostLink]


class Profile(BaseModel):
    id: uuid.UUID
    side: str
    name: str
    country: str
    country_name: str
    line: str
    description: str | None


class MeetingBody(BaseModel):
    from_: Annotated[uuid.UUID, Field(alias="from")]
    to: uuid.UUID
    priority: Annotated[int, Field(ge=1, le=3)] = 2
    note: Annotated[str, Field(max_length=1000)] | None = None


class MeetingView(BaseModel):
    meeting_id: uuid.UUID
    status: str
    merged: bool = False


class MeetingLine(BaseModel):
    meeting_id: uuid.UUID
    with_id: uuid.UUID
    with_name: str
    asked_by_me: bool
    status: str
    priority: int
    note: str | None
    start: datetime | None
    table: int | None
    going: list[uuid.UUID] = Field(
        default_factory=list,
        description="Who of this organisation goes (its contact's id or colleagues'); empty: "
        "the contact.",
    )


class ParticipantPage(BaseModel):
    profile: Profile
    meetings: list[MeetingLine]


class AttendanceBody(BaseModel):
    attendance: Annotated[str, Field(pattern="^(held|no_show)$")]


class Share(BaseModel):
    count: int
    of: int
    rate: float | None
    basis: str


class ScheduleFigures(BaseModel):
    """The latest schedule against its bounds (as the report shows it)."""

    version: int
    method: str = Field(description="fast, or exact when the exact phase ran")
    solve_seconds: float
    requested: int
    scheduled: int
    upper_bound: int = Field(description="No valid schedule places more meetings.")
    placed: Share = Field(description="Meetings placed, as a share of the upper bound.")
    meetings_optimal: bool = Field(description="As many placed as the upper bound.")
    value: int = Field(description="The sum of the priorities placed.")
    value_bound: int | None = Field(description="Proven most value; null: not proven.")
    breaks: int = Field(description="Breaks between meetings, summed over participants.")
    breaks_bound: int | None = Field(
        description="Proven fewest breaks at this value and fairness; null: none proven."
    )
    breaks_gap: int | None = Field(description="breaks - breaks_bound; null: no bound.")
    breaks_optimality: str = Field(
        description="'proven optimal', 'gap N' or 'no lower bound proven'"
    )
    idle_slots: int
    break_difference: int = Field(description="Most minus fewest breaks of two participants.")
    max_break_difference: int = Field(description="The most allowed.")
    break_difference_met: bool
    break_difference_bound: int | None


class GridMeeting(BaseModel):
    meeting_id: str
    slot: str | None
    start: str | None
    local: str | None
    table: int | None
    delegate: str | None
    host: str | None
    priority: int
    attendance: str | None
    unscheduled_reason: str | None


class Grid(BaseModel):
    timezone: str
    meetings: list[GridMeeting]
    schedule: ScheduleFigures | None = Field(
        default=None, description="The latest schedule's figures; null before the first."
    )


def schedule_view(figures: dict[str, Any] | None) -> ScheduleFigures | None:
    return None if figures is None else ScheduleFigures.model_validate(figures)
