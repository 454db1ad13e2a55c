"""What travels for the matchmaking event: hosts, meeting requests, answers and schedules.

Each workflow, update, query and activity takes one model (never loose arguments), so a field
can be added later; they go through Temporal's pydantic data converter.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field


class MatchmakingProgress(BaseModel):
    reminded: bool = False
    version: int = Field(default=0, description="Schedules published so far.")
    changes: int = Field(default=0, description="Late changes since the last published schedule.")
    placed: str | None = Field(default=None, description="The last schedule's figures, in words.")
    preferences_converted: bool = Field(
        default=False, description="The preference lists have become meetings and requests."
    )
    expiry_due: AwareDatetime | None = Field(
        default=None, description="The next sweep of expired requests (request_expiry)."
    )
    nudged: int = Field(default=0, description="Rounds of nudges sent (nudge_every).")


class HostBatch(BaseModel):
    """Hosts a coordinator loads, checked by the API against the event's slots."""

    hosts: list[dict[str, Any]]


class HostNotice(BaseModel):
    mission_id: str
    at: AwareDatetime
    hosts: list[dict[str, Any]]


class HostsLoaded(BaseModel):
    added: int
    updated: int


class MeetingRequestInput(BaseModel):
    request_id: uuid.UUID = Field(description="Chosen by the API, so a retry names the same one.")
    requester_id: uuid.UUID
    requester_kind: str
    invitee_id: uuid.UUID
    invitee_kind: str
    priority: int = Field(ge=1, le=3)
    note: str | None = Field(default=None, max_length=1000)
    people: list[uuid.UUID] = Field(
        default_factory=list, description="Who goes for the requester; none: their contact."
    )


class MeetingAnswerInput(BaseModel):
    meeting_id: uuid.UUID
    participant_id: uuid.UUID
    action: str = Field(pattern="^(accept|decline|cancel)$")
    by_coordinator: bool = False
    people: list[uuid.UUID] = Field(
        default_factory=list, description="Who goes for the one answering; none: unchanged."
    )


class AttendanceInput(BaseModel):
    meeting_id: uuid.UUID
    attendance: str = Field(pattern="^(held|no_show)$")


class MeetingRecord(BaseModel):
    """The input of the activities that write a request or an answer."""

    mission_id: str
    at: AwareDatetime
    request: MeetingRequestInput | None = None
    answer: MeetingAnswerInput | None = None
    attendance: AttendanceInput | None = None


class MeetingReceipt(BaseModel):
    meeting_id: uuid.UUID
    status: str
    changed: bool
    merged: bool = False


class MatchmakingNotice(BaseModel):
    mission_id: str
    at: AwareDatetime
    version: int = 0


class ScheduleReport(BaseModel):
    requested: int
    scheduled: int
    upper_bound: int
    agendas_sent: int
    # Added after 1.0, with defaults: histories recorded before carry none of them, and the
    # workflow reads only the four above.
    breaks: int = 0
    breaks_bound: int | None = Field(default=None, description="None: no lower bound proven.")
    method: str = ""


class RequestSweep(BaseModel):
    """What a sweep of expired requests did, and when the next one is due (None: no request
    is pending)."""

    expired: int
    next_due: AwareDatetime | None


class NudgeNotice(BaseModel):
    mission_id: str
    at: AwareDatetime
    round: int = Field(ge=1, description="The round of nudges, in the idempotency keys.")
