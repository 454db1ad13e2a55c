"""Coordinator routes: start a mission from its file, list and read missions, steer them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import JSONResponse
from sqlmodel import col, select

from api import steering
from api.bodies import declared_over, media_type
from api.deps import (
    Coordinator,
    MissionRow,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    get_mission,
)
from api.identity import visible_missions
from api.mission_files import MAX_MISSION_FILE_BYTES, begin_mission, read_document, too_large
from api.missions import mission_status
from api.reads import mission_view
from api.schemas import (
    CancelBody,
    DeadlineBody,
    MissionCreated,
    MissionSummary,
    MissionView,
)
from api.updates import Unavailable
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.runtime.models import Mission

router = APIRouter(prefix="/missions", tags=["missions"], dependencies=[Coordinator])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=MissionCreated,
    summary="Start a mission from its file (JSON, or YAML with Content-Type: application/yaml)",
    responses={409: {"description": "A mission with this id exists"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/MissionFile"}},
                "application/yaml": {"schema": {"$ref": "#/components/schemas/MissionFile"}},
            },
        }
    },
)
async def start(
    request: Request,
    settings: SettingsDep,
    principal: PrincipalDep,
    replay: Annotated[
        bool,
        Query(
            description="Run a past mission file again on today's calendar: every instant moves "
            "by the fewest whole years that put the deadline in the future, keeping its wall "
            "time in its own zone."
        ),
    ] = False,
) -> JSONResponse:
    if declared_over(request, MAX_MISSION_FILE_BYTES):
        raise too_large()
    document = read_document(await request.body(), media_type(request))
    created = await begin_mission(request, settings, principal, document, replay=replay)
    return JSONResponse(
        created.model_dump(mode="json"),
        status.HTTP_201_CREATED,
        headers={"Location": f"/missions/{created.id}"},
    )


@router.get("", response_model=list[MissionSummary], summary="Every mission, newest first")
async def list_missions(
    request: Request, session: SessionDep, principal: PrincipalDep, phase: Phase | None = None
) -> list[MissionSummary]:
    query = select(Mission).order_by(col(Mission.created_at).desc())
    visible = await visible_missions(request, principal)
    if visible is not None:
        query = query.where(col(Mission.id).in_(visible))
    if phase is not None:
        query = query.where(Mission.phase == phase.value)
    rows = (await session.exec(query)).all()
    return [MissionSummary.model_validate(row, from_attributes=True) for row in rows]


@router.get(
    "/{mission_id}",
    response_model=MissionView,
    summary="A mission: phase, instants, what it waits for",
)
async def read_mission(row: MissionRow, session: SessionDep, request: Request) -> MissionView:
    try:
        live = await mission_status(await request.app.state.temporal.client(), row.id)
    except Unavailable:
        live = None
    return await mission_view(session, row, live)


@router.post(
    "/{mission_id}/cancel", response_model=MissionView, summary="Cancel a mission at any phase"
)
async def cancel(
    mission_id: str,
    body: CancelBody,
    session: SessionDep,
    client: TemporalDep,
    request: Request,
    principal: PrincipalDep,
) -> MissionView:
    row = await get_mission(mission_id, session)
    live = await steering.cancel(
        request, client, principal, mission_id, reason=body.reason, by=body.by
    )
    return await mission_view(session, row, live)


@router.post(
    "/{mission_id}/deadline", response_model=MissionView, summary="Extend the call's deadline"
)
async def extend(
    mission_id: str,
    body: DeadlineBody,
    session: SessionDep,
    client: TemporalDep,
    request: Request,
    principal: PrincipalDep,
) -> MissionView:
    row = await get_mission(mission_id, session)
    live = await steering.extend(
        request, client, principal, row, deadline=body.deadline, by=body.by
    )
    return await mission_view(session, row, live)


def mission_file_schema() -> dict[str, Any]:
    """The JSON schema of a mission file, for the OpenAPI document."""
    return MissionFile.model_json_schema(ref_template="#/components/schemas/{model}")
