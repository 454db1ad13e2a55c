"""The cluster visits as coordinators read and change them: the itinerary with its counts, who
holds a place on a visit, a visit moved or cancelled, attendance. The JSON routes
(`api.routes.visits`) and the console's visits page (`api.console.visits`) both go through
these, so a page and a script see and change a visit the same way."""

from __future__ import annotations

import uuid

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.missions import change_visit, record_visit_attendance, register_visit
from missionflow.domain.instants import local, parse_instant
from missionflow.domain.mission.event_sections import Visit
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.visits import itinerary
from missionflow.domain.visits.messages import (
    VisitAttendanceInput,
    VisitChangeInput,
    VisitReceipt,
    VisitRegistrationInput,
)
from missionflow.runtime.models import (
    Application,
    Mission,
    SelectionDecision,
    VisitRegistration,
)


class VisitView(BaseModel):
    id: str
    title: str
    city: str
    host: str
    address: str
    meeting_point: str | None
    timezone: str
    starts_at: str = Field(description="ISO 8601 in the city's zone, with its offset.")
    ends_at: str
    when: str = Field(description="As a traveller reads it: `Tue 16 May 2017, 09:00–17:00 EDT`.")
    capacity: int
    cancelled: bool
    description: str | None
    what_to_bring: str | None
    registered: int
    waitlisted: int
    your_place: str | None = Field(
        default=None, description="For a delegate's link: registered, waitlisted or None."
    )
    your_waitlist_position: int | None = None


class PlaceView(BaseModel):
    visit_id: str
    application_id: uuid.UUID
    status: str
    waitlist_position: int | None = None


class RegistrationView(PlaceView):
    organisation: str
    contact_name: str
    contact_email: str
    attendance: str | None


class ChangeBody(BaseModel):
    starts_at: str | None = Field(
        default=None,
        description="Wall time in the visit city's zone (`2017-05-16T10:00`), or with an offset.",
    )
    ends_at: str | None = None
    address: str | None = Field(default=None, min_length=1, max_length=500)
    meeting_point: str | None = Field(default=None, min_length=1, max_length=500)
    cancelled: bool | None = None
    note: str | None = Field(default=None, max_length=2000, description="Told to the delegates.")


class AttendanceBody(BaseModel):
    application_id: uuid.UUID
    attendance: str = Field(pattern="^(attended|no_show)$")


def visits_of(mission: Mission) -> list[Visit]:
    return MissionFile.model_validate(mission.file).visits


def visit_of(mission: Mission, visit_id: str) -> Visit:
    found = next((v for v in visits_of(mission) if v.id == visit_id), None)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No visit {visit_id!r} in this mission.")
    return found


async def visit_views(
    mission: Mission, session: AsyncSession, delegate: uuid.UUID | None = None
) -> list[VisitView]:
    """Every visit with its counts; with a delegate, their own place on each."""
    rows = (
        await session.exec(
            select(VisitRegistration).where(VisitRegistration.mission_id == mission.id)
        )
    ).all()
    visits = visits_of(mission)
    views = []
    for visit, shown in zip(visits, itinerary.rows(visits), strict=True):
        here = [r for r in rows if r.visit_id == visit.id]
        mine = next((r for r in here if r.application_id == delegate), None)
        held = mine is not None and mine.status != "cancelled"
        views.append(
            VisitView(
                id=visit.id,
                title=shown["title"],
                city=visit.city,
                host=visit.host,
                address=visit.address,
                meeting_point=visit.meeting_point,
                timezone=visit.timezone,
                starts_at=local(visit.starts_at, visit.timezone).isoformat(),
                ends_at=local(visit.ends_at, visit.timezone).isoformat(),
                when=shown["when"],
                capacity=visit.capacity,
                cancelled=visit.cancelled,
                description=visit.description,
                what_to_bring=visit.what_to_bring,
                registered=sum(r.status == "registered" for r in here),
                waitlisted=sum(r.status == "waitlisted" for r in here),
                your_place=mine.status if mine is not None and held else None,
                your_waitlist_position=mine.waitlist_position if mine is not None else None,
            )
        )
    return views


async def registrations(
    session: AsyncSession, mission: Mission, visit_id: str | None = None
) -> list[RegistrationView]:
    """Who holds a place or waits, with their attendance, on one visit (or on every visit),
    the places first, each in order of arrival."""
    query = (
        select(VisitRegistration, Application)
        .join(Application, col(Application.id) == VisitRegistration.application_id)
        .where(VisitRegistration.mission_id == mission.id)
        .where(VisitRegistration.status != "cancelled")
        .order_by(col(VisitRegistration.status), col(VisitRegistration.registered_at))
    )
    if visit_id is not None:
        visit_of(mission, visit_id)
        query = query.where(VisitRegistration.visit_id == visit_id)
    return [
        RegistrationView(
            visit_id=row.visit_id,
            application_id=row.application_id,
            status=row.status,
            waitlist_position=row.waitlist_position,
            organisation=delegate.organisation,
            contact_name=delegate.contact_name,
            contact_email=delegate.contact_email,
            attendance=row.attendance,
        )
        for row, delegate in (await session.exec(query)).all()
    ]


async def confirmed_delegates(session: AsyncSession, mission_id: str) -> list[Application]:
    """The delegates who confirmed their seat (and were not erased), by organisation: those a
    coordinator may give a place on a visit."""
    query = (
        select(Application)
        .join(SelectionDecision, col(SelectionDecision.application_id) == Application.id)
        .where(SelectionDecision.mission_id == mission_id)
        .where(SelectionDecision.seat == "confirmed")
        .where(col(Application.erased_at).is_(None))
        .order_by(col(Application.organisation))
    )
    return list((await session.exec(query)).all())


async def take_place(
    client: Client, mission_id: str, visit_id: str, application_id: uuid.UUID
) -> VisitReceipt:
    """A place on the visit for a confirmed delegate, or a place on its waitlist when full."""
    return await register_visit(
        client,
        mission_id,
        VisitRegistrationInput(visit_id=visit_id, application_id=application_id),
    )


async def give_up(
    client: Client, mission_id: str, visit_id: str, application_id: uuid.UUID
) -> VisitReceipt:
    """Give a place (or a waitlist place) up; the first waiting takes a freed place."""
    return await register_visit(
        client,
        mission_id,
        VisitRegistrationInput(visit_id=visit_id, application_id=application_id, cancel=True),
    )


async def change(
    client: Client, mission: Mission, visit_id: str, body: ChangeBody, *, by: str
) -> Visit:
    """Move, relocate or cancel a visit: its times read in the city's zone unless they give an
    offset. The workflow checks the change against the mission's plan and emails the delegates.

    Raises:
        HTTPException: 404, no such visit.
        RequestValidationError: a time that is no instant.
        api.updates.Refused: the mission refused the change.
    """
    visit = visit_of(mission, visit_id)
    times = {name: _instant(getattr(body, name), name, visit) for name in ("starts_at", "ends_at")}
    return await change_visit(
        client,
        mission.id,
        VisitChangeInput(
            visit_id=visit_id,
            starts_at=times["starts_at"],
            ends_at=times["ends_at"],
            address=body.address,
            meeting_point=body.meeting_point,
            cancelled=body.cancelled,
            note=body.note,
            by=by,
        ),
    )


async def mark_attendance(
    client: Client, mission_id: str, visit_id: str, body: AttendanceBody
) -> VisitReceipt:
    """Record that a registered delegate attended, or did not, once the visit has started."""
    return await record_visit_attendance(
        client,
        mission_id,
        VisitAttendanceInput(
            visit_id=visit_id, application_id=body.application_id, attendance=body.attendance
        ),
    )


def place_view(receipt: VisitReceipt) -> PlaceView:
    return PlaceView(
        visit_id=receipt.visit_id,
        application_id=receipt.application_id,
        status=receipt.status,
        waitlist_position=receipt.waitlist_position,
    )


def _instant(text: str | None, name: str, visit: Visit) -> object:
    if text is None:
        return None
    try:
        return parse_instant(text, visit.timezone)
    except ValueError as error:
        raise RequestValidationError(
            [{"loc": ("body", name), "msg": str(error), "type": "instant"}]
        ) from None
