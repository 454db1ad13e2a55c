"""What travels for the cluster visits: registrations, changes and attendance.

Each workflow, update, query and activity takes one model (never loose arguments), so a field
can be added later; they go through Temporal's pydantic data converter.
"""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, Field

from missionflow.domain.mission.event_sections import Visit


class VisitPlace(BaseModel):
    """A delegate's place on a visit as the workflow decides it: by order of arrival within
    the visit's capacity, then on its waitlist."""

    visit_id: str
    application_id: uuid.UUID
    status: str = Field(description="registered, waitlisted or cancelled")
    at: AwareDatetime


class VisitsProgress(BaseModel):
    places: list[VisitPlace] = Field(default_factory=list, description="In order of arrival.")
    itinerary_sent: bool = False
    reminded: list[str] = Field(
        default_factory=list, description="`<visit id>@<start>` of each reminder round sent."
    )
    sequences: dict[str, int] = Field(
        default_factory=dict, description="Changes made to each visit: its calendar SEQUENCE."
    )


class VisitRegistrationInput(BaseModel):
    visit_id: str
    application_id: uuid.UUID
    cancel: bool = Field(default=False, description="Give the place (or waitlist place) up.")


class VisitChangeInput(BaseModel):
    """A coordinator's change to a visit; fields left None stay as they are."""

    visit_id: str
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    address: str | None = Field(default=None, min_length=1, max_length=500)
    meeting_point: str | None = Field(default=None, min_length=1, max_length=500)
    cancelled: bool | None = None
    note: str | None = Field(default=None, max_length=2000, description="Told to the delegates.")
    by: str | None = Field(default=None, max_length=200)


class VisitAttendanceInput(BaseModel):
    visit_id: str
    application_id: uuid.UUID
    attendance: str = Field(pattern="^(attended|no_show)$")


class VisitReceipt(BaseModel):
    visit_id: str
    application_id: uuid.UUID
    status: str = Field(description="registered, waitlisted, cancelled, attended or no_show")
    waitlist_position: int | None = None
    changed: bool


class VisitNotice(BaseModel):
    """The input of the visit activities. `changes` are the places the workflow just decided
    (a registration, a cancellation, a promotion from the waitlist)."""

    mission_id: str
    at: AwareDatetime
    visits: list[Visit] = Field(
        default_factory=list,
        description="The visits as they stand (coordinators may have changed them since the "
        "mission file was written); the workflow is their one source.",
    )
    places: list[VisitPlace] = Field(default_factory=list)
    changes: list[VisitPlace] = Field(default_factory=list)
    visit_id: str | None = None
    change: VisitChangeInput | None = None
    attendance: VisitAttendanceInput | None = None
    sequence: int = Field(default=0, description="The visit's calendar SEQUENCE after a change.")
    sequences: dict[str, int] = Field(
        default_factory=dict, description="Every changed visit's SEQUENCE, for the itinerary."
    )
