"""What the matchmaking event's routes accept and answer: hosts and their links, profiles,
meeting requests and pages, attendance. The routes are `hosts`, `meetings` and `agenda`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field


class HostLink(BaseModel):
    id: uuid.UUID
    name: str
    country: str
    sector: str
    contact_email: str
    unavailable: list[str]
    private_url: str


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


class ParticipantPage(BaseModel):
    profile: Profile
    meetings: list[MeetingLine]


class AttendanceBody(BaseModel):
    attendance: Annotated[str, Field(pattern="^(held|no_show)$")]
