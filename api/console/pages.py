"""GET /console (the missions a person may read, and for an administrator the form to start one)
and GET /console/missions/{id} (one mission: its instants, its phases, what it waits for, and
the forms to steer it).

The live part (phase, next instant, counts) is the workflow's own answer to its status query,
as in the JSON API's mission view (`api.reads.mission_view`); a mission Temporal cannot answer
for in time is shown from its stored row, marked as such.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse
from sqlmodel import col, select
from temporalio.client import Client

from api.console.access import (
    PREFIX,
    ConsolePrincipal,
    mission_access,
    render,
    stored_mission,
)
from api.deps import SessionDep, SettingsDep
from api.identity import Principal, mission_actions, visible_missions
from api.missions import mission_status
from api.pages.rendering import temporal_ui
from api.reads import mission_view
from api.session import release
from api.updates import Unavailable
from missionflow.domain.mission.messages import MissionStatus
from missionflow.domain.mission.phases import Phase
from missionflow.domain.people import Action
from missionflow.runtime.models import Mission
from missionflow.runtime.settings import Settings

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)

LIVE_STATUS_TIMEOUT = 3.0
"""Seconds a page waits for a mission's status before it shows the stored row instead."""
STATUS_QUERIES_AT_ONCE = 8
DONE = {
    "extended": "The deadline is extended; applicants and invitees are told.",
    "cancelled": "The mission is cancelled; everyone concerned is told.",
    "started": "The mission is started: its call is open.",
}
"""The messages a form's success redirects back with (`?done=`)."""


@dataclass(frozen=True)
class MissionLine:
    row: Mission
    live: MissionStatus | None
    run_url: str

    @property
    def phase(self) -> Phase:
        return self.live.phase if self.live else Phase(self.row.phase)


def run_url(request: Request, settings: Settings, workflow_id: str) -> str:
    """The mission's workflow in the Temporal UI."""
    ui = temporal_ui(request, settings).rstrip("/")
    namespace = quote(settings.temporal_namespace, safe="")
    return f"{ui}/namespaces/{namespace}/workflows/{quote(workflow_id, safe='')}"


async def _actions(request: Request, principal: Principal, mission_id: str) -> frozenset[Action]:
    return await mission_actions(request, principal, mission_id) or frozenset()


async def temporal_client(request: Request) -> Client | None:
    """The app's Temporal client, or None when Temporal cannot be reached: a page then shows
    what is stored."""
    try:
        return await request.app.state.temporal.client()
    except Unavailable:
        return None


async def live_status(client: Client | None, mission_id: str) -> MissionStatus | None:
    """The mission's answer to its status query, or None when it does not come in time."""
    if client is None:
        return None
    try:
        return await asyncio.wait_for(mission_status(client, mission_id), LIVE_STATUS_TIMEOUT)
    except (Unavailable, TimeoutError):
        return None


@router.get("", response_class=HTMLResponse)
async def missions(
    request: Request, principal: ConsolePrincipal, session: SessionDep, settings: SettingsDep
) -> HTMLResponse:
    return await missions_page(request, principal, session, settings)


async def missions_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    settings: Settings,
    *,
    problem: str | None = None,
    errors: Sequence[str] = (),
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    """The missions page; after a refused upload, with its refusal at the top (`problem`) or
    the file's errors at the upload field (`errors`, "location: message")."""
    query = select(Mission).order_by(col(Mission.created_at).desc())
    visible = await visible_missions(request, principal)
    if visible is not None:
        # A reviewer's role lets them know of a mission, not read it: their page would be a 403.
        readable = [m for m in visible if Action.READ in await _actions(request, principal, m)]
        query = query.where(col(Mission.id).in_(readable))
    rows = (await session.exec(query)).all()
    await release()  # the status queries below run at once: none may use the session
    client = await temporal_client(request)
    limit = asyncio.Semaphore(STATUS_QUERIES_AT_ONCE)

    async def line(row: Mission) -> MissionLine:
        async with limit:
            live = await live_status(client, row.id)
        return MissionLine(row, live, run_url(request, settings, row.workflow_id))

    lines = await asyncio.gather(*(line(row) for row in rows))
    context = {
        "lines": lines,
        # Who may POST /missions: the same property `api.deps.requires` asks of that route.
        "may_start": principal.administers,
        "problem": problem,
        "errors": errors,
    }
    return render(request, "missions.html", context, principal=principal, status_code=status_code)


@router.get("/missions/{mission_id}", response_class=HTMLResponse)
async def mission(
    mission_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    actions = await mission_access(request, principal, mission_id, (Action.READ,))
    message = DONE.get(request.query_params.get("done", ""))
    return await mission_page(
        request, principal, session, settings, mission_id, actions, message=message
    )


async def mission_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    settings: Settings,
    mission_id: str,
    actions: frozenset[Action],
    *,
    message: str | None = None,
    problem: str | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    """The mission's page; after a refused form, with the refusal at its field (`errors`) or
    at the top (`problem`) and what was sent (`values`)."""
    row = await stored_mission(request, principal, session, mission_id)
    live = await live_status(await temporal_client(request), row.id)
    view = await mission_view(session, row, live)
    steers = Action.STEER in actions and not view.phase.is_terminal
    return render(
        request,
        "mission.html",
        {
            "mission": view,
            "run_url": run_url(request, settings, row.workflow_id),
            "may_extend": steers and view.phase == Phase.CALL_OPEN and view.live,
            "may_cancel": steers and view.live,
            "message": message,
            "problem": problem,
            "errors": errors or {},
            "values": values or {},
        },
        principal=principal,
        status_code=status_code,
    )
