"""Coordinator routes: start a mission from its file, list and read missions, steer them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
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
from api.missions import (
    mission_status,
    start_mission,
)
from api.reads import mission_view
from api.schemas import (
    CancelBody,
    DeadlineBody,
    MissionCreated,
    MissionSummary,
    MissionView,
)
from api.updates import Unavailable
from missionflow.domain.mission.fields import field_errors
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.mission.phases import Phase
from missionflow.domain.mission.replay import replay_today
from missionflow.domain.mission.yaml_syntax import parse_yaml
from missionflow.runtime.models import Mission

router = APIRouter(prefix="/missions", tags=["missions"], dependencies=[Coordinator])

MAX_MISSION_FILE_BYTES = 1 << 20
YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}


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
    replay: Annotated[
        bool,
        Query(
            description="Run a past mission file again on today's calendar: every instant moves "
            "by the fewest whole years that put the deadline in the future, keeping its wall "
            "time in its own zone."
        ),
    ] = False,
) -> JSONResponse:
    document = await _read_document(request)
    now = datetime.now(UTC)
    try:
        mission = load_mission(document, now=now, live=not replay)
    except ValidationError as error:
        raise _body_errors(error) from None
    years = 0
    if replay:
        mission, years = replay_today(mission, now)
    client = await request.app.state.temporal.client()
    await start_mission(
        client, request.app.state.sessions, mission, task_queue=settings.task_queue, now=now
    )
    created = MissionCreated(
        id=mission.id, workflow_id=mission.workflow_id, phase=Phase.CALL_OPEN, years_later=years
    )
    return JSONResponse(
        created.model_dump(mode="json"),
        status.HTTP_201_CREATED,
        headers={"Location": f"/missions/{mission.id}"},
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


async def _read_document(request: Request) -> Any:
    """The mission file from the body, by its Content-Type, refused whole if unreadable."""
    if declared_over(request, MAX_MISSION_FILE_BYTES):
        raise _too_large()
    body = await request.body()
    if len(body) > MAX_MISSION_FILE_BYTES:
        raise _too_large()
    kind = media_type(request)
    try:
        if kind == "application/json" or kind.endswith("+json"):
            document = json.loads(body)
        elif kind in YAML_TYPES:
            document = parse_yaml(body)
        else:
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                "Send the mission file as application/json or application/yaml.",
            )
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _unreadable(f"The body is not valid JSON: {error}") from None
    except (yaml.YAMLError, ValueError) as error:  # ValueError: a scalar YAML cannot construct
        raise _unreadable(f"The body is not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise _unreadable("The mission file must be a mapping of keys such as id, title, call.")
    return document


def _too_large() -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"A mission file is at most {MAX_MISSION_FILE_BYTES // 1024} KiB.",
    )


def _unreadable(message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body",), "msg": message, "type": "unreadable"}])


def _body_errors(error: ValidationError) -> RequestValidationError:
    return RequestValidationError(
        [{**item, "loc": ("body", *item["loc"])} for item in field_errors(error)]
    )


def mission_file_schema() -> dict[str, Any]:
    """The JSON schema of a mission file, for the OpenAPI document."""
    return MissionFile.model_json_schema(ref_template="#/components/schemas/{model}")
