"""The matchmaking event's check-in desk for scanning apps: a scanned or typed code marks the
participant arrived (`api.check_ins`, as the console's check-in page does)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.responses import JSONResponse

from api.check_ins import Arrivals, CheckInBody, arrivals_of, check_in
from api.deps import Coordinator, MissionRow, PrincipalDep, SessionDep, SettingsDep, TemporalDep
from api.reads import matchmaking_event
from missionflow.domain.matchmaking.check_in import CheckInReceipt

router = APIRouter(prefix="/missions/{mission_id}", tags=["matchmaking"])


@router.post(
    "/check-ins",
    status_code=201,
    response_model=CheckInReceipt,
    dependencies=[Coordinator],
    summary="Check a participant in by the code on their agenda, or its link",
    responses={
        200: {"description": "Checked in before: `already`, and when (`checked_in_at`)"},
        409: {"description": "The desk is not open: before the event's day, or after it"},
        422: {"description": "No participant of this event has this code"},
    },
)
async def check_in_route(
    mission: MissionRow,
    body: CheckInBody,
    session: SessionDep,
    settings: SettingsDep,
    client: TemporalDep,
    principal: PrincipalDep,
    coordinator: Annotated[
        str | None, Header(alias="X-Coordinator", description="Who is at the desk (token only)")
    ] = None,
) -> JSONResponse:
    matchmaking_event(mission)
    receipt = await check_in(
        client, session, settings, mission.id, body, by=principal.named(coordinator)
    )
    return JSONResponse(receipt.model_dump(mode="json"), 200 if receipt.already else 201)


@router.get(
    "/check-ins",
    response_model=Arrivals,
    dependencies=[Coordinator],
    summary="Who has arrived, and how many of those expected, by side",
)
async def arrivals_route(mission: MissionRow, session: SessionDep) -> Arrivals:
    matchmaking_event(mission)
    return await arrivals_of(session, mission.id)
