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
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from api import visits
from api.deps import (
    Coordinator,
    MissionRow,
    PrincipalDep,
    PrivateLink,
    PrivateLinkDep,
    SessionDep,
    TemporalDep,
)
from api.schemas import IGNORED_BY
from api.visits import AttendanceBody, ChangeBody, PlaceView, RegistrationView, VisitView
from missionflow.runtime.models import Application

router = APIRouter(prefix="/missions/{mission_id}", tags=["visits"])


class PlaceBody(BaseModel):
    application_id: uuid.UUID


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
    return await visits.visit_views(mission, session, delegate)


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
    receipt = await visits.take_place(client, mission.id, visit_id, body.application_id)
    code = status.HTTP_201_CREATED if receipt.changed else status.HTTP_200_OK
    return JSONResponse(visits.place_view(receipt).model_dump(mode="json"), code)


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
    return visits.place_view(await visits.give_up(client, mission.id, visit_id, application_id))


@router.get(
    "/visits/{visit_id}/registrations",
    response_model=list[RegistrationView],
    dependencies=[Coordinator],
    summary="Who holds a place on a visit, who waits, and who attended",
)
async def registrations(
    mission: MissionRow, visit_id: str, session: SessionDep
) -> list[RegistrationView]:
    return await visits.registrations(session, mission, visit_id)


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
    changed = await visits.change(client, mission, visit_id, body, by=principal.named(coordinator))
    await session.refresh(mission)
    return next(v for v in await visits.visit_views(mission, session) if v.id == changed.id)


@router.post(
    "/visits/{visit_id}/attendance",
    response_model=PlaceView,
    dependencies=[Coordinator],
    summary="Mark a registered delegate attended or no-show (kept for the report)",
)
async def attendance(
    mission: MissionRow, visit_id: str, body: AttendanceBody, client: TemporalDep
) -> PlaceView:
    return visits.place_view(await visits.mark_attendance(client, mission.id, visit_id, body))


def _allowed(link: PrivateLink, application_id: uuid.UUID) -> None:
    """A delegate acts for themself, a coordinator for anyone; a wrong link is a 404."""
    if not link.coordinator and not link.opens(application_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such delegate for this link.")
