"""What travels for the selection: the review, the seats and the waitlist.

Each workflow, update, query and activity takes one model (never loose arguments), so a field
can be added later; they go through Temporal's pydantic data converter.
"""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, Field


class SelectionEntry(BaseModel):
    """An application in play for a seat (proposed, waitlisted or overridden), as the workflow
    keeps it to check approvals against the quotas without reading the database."""

    application_id: uuid.UUID
    country: str
    sector: str = Field(description="The primary sector, the one `max_per_sector` counts.")
    rank: int
    score: float
    decision: str


class Seat(BaseModel):
    """A seat offered to an applicant after approval, and what became of it."""

    application_id: uuid.UUID
    country: str
    sector: str
    rank: int
    state: str = Field(description="offered, confirmed or released")
    offered_at: AwareDatetime
    respond_by: AwareDatetime
    reminded: bool = False
    answered_at: AwareDatetime | None = None
    released_because: str | None = Field(
        default=None, description="declined, withdrawn, expired or locked"
    )


class SelectionProgress(BaseModel):
    proposed: bool = False
    entries: list[SelectionEntry] = Field(default_factory=list)
    review_reminders: int = Field(default=0, description="Review emails sent after the first.")
    approved_at: AwareDatetime | None = None
    approved_by: str | None = None
    seats: list[Seat] = Field(default_factory=list)
    waitlist: list[SelectionEntry] = Field(
        default_factory=list, description="Waitlisted applications not offered a seat yet, by rank."
    )
    locked: bool = False


class SelectionOverride(BaseModel):
    """A coordinator's decision for one application, with the facts the quotas need (read by
    the API from the proposal in the database)."""

    application_id: uuid.UUID
    decision: str
    reason: str = Field(max_length=2000)
    country: str = ""
    sector: str = ""
    rank: int = 0
    score: float = 0.0
    withdrawn: bool = False


class SelectionRequest(BaseModel):
    """Overrides, and whether they approve the delegation."""

    overrides: list[SelectionOverride] = Field(default_factory=list)
    approve: bool = False
    by: str | None = Field(default=None, max_length=200)


class SelectionNotice(BaseModel):
    """The input of the selection activities."""

    mission_id: str
    at: AwareDatetime
    by: str | None = None
    reminder: int = 0
    overrides: list[SelectionOverride] = Field(default_factory=list)
    entries: list[SelectionEntry] = Field(default_factory=list)
    approved: bool = False
    seats: list[Seat] = Field(default_factory=list, description="Offered on approval.")


class SelectionView(BaseModel):
    """What a review Update answers: the delegation as it now stands."""

    approved: bool
    selected: int
    waitlisted: int
    entries: list[SelectionEntry]


class SeatAnswer(BaseModel):
    """An applicant confirms (accept) or declines their seat."""

    application_id: uuid.UUID
    accept: bool


class SeatChange(BaseModel):
    """Something that happened to one seat, for the database, the audit log and the emails."""

    application_id: uuid.UUID
    event: str = Field(
        description="confirmed, declined, withdrawn, expired, locked, promoted or reminded"
    )
    respond_by: AwareDatetime | None = None


class SeatNotice(BaseModel):
    mission_id: str
    at: AwareDatetime
    changes: list[SeatChange]
    final: bool = Field(default=False, description="The delegation locks: tell the coordinators.")
