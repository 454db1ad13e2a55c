"""The cluster visits over HTTP: the itinerary, delegates' places, coordinators' changes and
attendance.

Delegates act through their private link (their application's id and token). Places, changes
and attendance go to the mission workflow as Updates, so capacity and "has the visit started?"
have one answer, to the second, in the visit city's zone.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import (
    Coordinator,
    MissionRow,
    PrincipalDep,
    PrivateLink,
    PrivateLinkDep,
    SessionDep,
    TemporalDep,
)
from api.missions import change_visit, record_visit_attendance, register_visit
from api.schemas import IGNORED_BY
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
from missionflow.runtime.models import Application, Mission, VisitRegistration

router = APIRouter(prefix="/missions/{mission_id}", tags=["visits"])


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


class PlaceBody(BaseModel):
    application_id: uuid.UUID


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


@router.get(
    "/visits",
    response_model=list[VisitView],
    summary="The itinerary; with a delegate's link, their place on each visit",
)
async def list_visits(
    mission: MissionRow,
    session: SessionDep,
    link: PrivateLinkDep,
    delegate: Annotated[uuid.UUID | None, Query()] = None,
) -> list[VisitView]:
    if not link.coordinator and (
        delegate is None or not link.opens(delegate) or await _erased(session, delegate)
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such delegate for this link.")
    return await _views(mission, session, delegate)


async def _erased(session: AsyncSession, application_id: uuid.UUID) -> bool:
    """An erased delegate's link opens nothing (docs/privacy.md)."""
    row = await session.get(Application, application_id)
    return row is not None and row.erased_at is not None


@router.post(
    "/visits/{visit_id}/registrations",
    status_code=status.HTTP_201_CREATED,
    response_model=PlaceView,
    summary="Take a place on a visit, or a place on its waitlist when it is full",
    responses={
        200: {"description": "The delegate already held this place"},
        409: {"description": "Not a confirmed delegate, the visit started, or was cancelled"},
    },
)
async def register(
    mission: MissionRow,
    visit_id: str,
    body: PlaceBody,
    link: PrivateLinkDep,
    client: TemporalDep,
) -> JSONResponse:
    _allowed(link, body.application_id)
    receipt = await register_visit(
        client,
        mission.id,
        VisitRegistrationInput(visit_id=visit_id, application_id=body.application_id),
    )
    code = status.HTTP_201_CREATED if receipt.changed else status.HTTP_200_OK
    return JSONResponse(_place(receipt).model_dump(mode="json"), code)


@router.delete(
    "/visits/{visit_id}/registrations/{application_id}",
    response_model=PlaceView,
    summary="Give a place (or a waitlist place) up; the next on the waitlist takes it",
)
async def give_up(
    mission: MissionRow,
    visit_id: str,
    application_id: uuid.UUID,
    link: PrivateLinkDep,
    client: TemporalDep,
) -> PlaceView:
    _allowed(link, application_id)
    receipt = await register_visit(
        client,
        mission.id,
        VisitRegistrationInput(visit_id=visit_id, application_id=application_id, cancel=True),
    )
    return _place(receipt)


@router.get(
    "/visits/{visit_id}/registrations",
    response_model=list[RegistrationView],
    dependencies=[Coordinator],
    summary="Who holds a place on a visit, who waits, and who attended",
)
async def registrations(
    mission: MissionRow, visit_id: str, session: SessionDep
) -> list[RegistrationView]:
    _visit(mission, visit_id)
    rows = (
        await session.exec(
            select(VisitRegistration, Application)
            .join(Application, col(Application.id) == VisitRegistration.application_id)
            .where(VisitRegistration.mission_id == mission.id)
            .where(VisitRegistration.visit_id == visit_id)
            .where(VisitRegistration.status != "cancelled")
            .order_by(col(VisitRegistration.status), col(VisitRegistration.registered_at))
        )
    ).all()
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
        for row, delegate in rows
    ]


@router.patch(
    "/visits/{visit_id}",
    response_model=VisitView,
    dependencies=[Coordinator],
    summary="Move, relocate or cancel a visit; its delegates are emailed at once",
    responses={409: {"description": "The visit has started, or was cancelled"}},
)
async def change(
    mission: MissionRow,
    visit_id: str,
    body: ChangeBody,
    session: SessionDep,
    client: TemporalDep,
    principal: PrincipalDep,
    coordinator: Annotated[
        str | None, Header(alias="X-Coordinator", description=IGNORED_BY)
    ] = None,
) -> VisitView:
    visit = _visit(mission, visit_id)
    times = {name: _instant(body, name, visit) for name in ("starts_at", "ends_at")}
    changed = await change_visit(
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
            by=principal.named(coordinator),
        ),
    )
    await session.refresh(mission)
    return next(v for v in await _views(mission, session) if v.id == changed.id)


@router.post(
    "/visits/{visit_id}/attendance",
    response_model=PlaceView,
    dependencies=[Coordinator],
    summary="Mark a registered delegate attended or no-show (kept for the report)",
)
async def attendance(
    mission: MissionRow, visit_id: str, body: AttendanceBody, client: TemporalDep
) -> PlaceView:
    receipt = await record_visit_attendance(
        client,
        mission.id,
        VisitAttendanceInput(
            visit_id=visit_id, application_id=body.application_id, attendance=body.attendance
        ),
    )
    return _place(receipt)


def _allowed(link: PrivateLink, application_id: uuid.UUID) -> None:
    """A delegate acts for themself, a coordinator for anyone; a wrong link is a 404."""
    if not link.coordinator and not link.opens(application_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such delegate for this link.")


def _visits(mission: Mission) -> list[Visit]:
    return MissionFile.model_validate(mission.file).visits


def _visit(mission: Mission, visit_id: str) -> Visit:
    found = next((v for v in _visits(mission) if v.id == visit_id), None)
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No visit {visit_id!r} in this mission.")
    return found


def _instant(body: ChangeBody, name: str, visit: Visit) -> object:
    text = getattr(body, name)
    if text is None:
        return None
    try:
        return parse_instant(text, visit.timezone)
    except ValueError as error:
        raise RequestValidationError(
            [{"loc": ("body", name), "msg": str(error), "type": "instant"}]
        ) from None


async def _registrations(session: SessionDep, mission_id: str) -> list[VisitRegistration]:
    return list(
        (
            await session.exec(
                select(VisitRegistration).where(VisitRegistration.mission_id == mission_id)
            )
        ).all()
    )


async def _views(
    mission: Mission, session: SessionDep, delegate: uuid.UUID | None = None
) -> list[VisitView]:
    """Every visit with its counts; with a delegate, their own place on each."""
    rows = await _registrations(session, mission.id)
    visits = _visits(mission)
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


def _place(receipt: VisitReceipt) -> PlaceView:
    return PlaceView(
        visit_id=receipt.visit_id,
        application_id=receipt.application_id,
        status=receipt.status,
        waitlist_position=receipt.waitlist_position,
    )
