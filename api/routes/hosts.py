"""The matchmaking event's hosts: coordinators load them (a JSON list or a CSV) and each gets a
private link to the event."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError

from api import host_loading
from api.bodies import json_document, media_type
from api.deps import Coordinator, MissionRow, SessionDep, SettingsDep, TemporalDep
from api.host_loading import host_links, hosts_csv, within_limit
from api.reads import matchmaking_event
from api.routes.matchmaking import HostLink, HostsAdded

router = APIRouter(prefix="/missions/{mission_id}", tags=["matchmaking"])


@router.post(
    "/hosts",
    response_model=HostsAdded,
    dependencies=[Coordinator],
    summary="Load hosts (JSON list or CSV); each gets a private link",
)
async def load_hosts(
    mission: MissionRow,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> HostsAdded:
    matchmaking_event(mission)
    loaded = await host_loading.load_hosts(client, mission, await _host_rows(request))
    return HostsAdded(
        added=loaded.added,
        updated=loaded.updated,
        hosts=await host_links(session, mission, settings),
    )


@router.get(
    "/hosts", response_model=list[HostLink], dependencies=[Coordinator], summary="Every host"
)
async def list_hosts(
    mission: MissionRow, session: SessionDep, settings: SettingsDep
) -> list[HostLink]:
    matchmaking_event(mission)
    return await host_links(session, mission, settings)


async def _host_rows(request: Request) -> list[dict[str, Any]]:
    body = await request.body()
    kind = media_type(request)
    if kind in ("text/csv", "application/csv"):
        return hosts_csv(body)
    within_limit(body)
    if kind != "application/json":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Send hosts as application/json or text/csv."
        )
    document = json_document(body)
    if isinstance(document, dict) and isinstance(document.get("hosts"), list):
        document = document["hosts"]
    if not isinstance(document, list) or not all(isinstance(h, dict) for h in document):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "Send a list of hosts.", "type": "hosts"}]
        )
    return document
