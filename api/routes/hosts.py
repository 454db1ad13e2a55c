"""The matchmaking event's hosts: coordinators load them (a JSON list or a CSV) and each gets a
private link to the event."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from sqlmodel import col, select

from api.bodies import json_document, media_type
from api.deps import Coordinator, MissionRow, SessionDep, SettingsDep, TemporalDep
from api.missions import add_hosts
from api.reads import matchmaking_event
from api.routes.matchmaking import HostLink, HostsAdded
from missionflow.domain.matchmaking.messages import HostBatch
from missionflow.domain.matchmaking.rules import HostFileError, csv_rows, parse_hosts, slots_of
from missionflow.runtime.mail.context import participant_url
from missionflow.runtime.models import Host, Mission
from missionflow.runtime.settings import Settings

router = APIRouter(prefix="/missions/{mission_id}", tags=["matchmaking"])

MAX_HOSTS_BYTES = 2 << 20


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
    event = matchmaking_event(mission)
    rows = await _host_rows(request)
    try:
        hosts = parse_hosts(rows, slots_of(event))
    except HostFileError as error:
        raise RequestValidationError(error.errors) from None
    loaded = await add_hosts(
        client, mission.id, HostBatch(hosts=[h.model_dump(mode="json") for h in hosts])
    )
    return HostsAdded(
        added=loaded.added,
        updated=loaded.updated,
        hosts=await _host_links(session, mission, settings),
    )


@router.get(
    "/hosts", response_model=list[HostLink], dependencies=[Coordinator], summary="Every host"
)
async def list_hosts(
    mission: MissionRow, session: SessionDep, settings: SettingsDep
) -> list[HostLink]:
    matchmaking_event(mission)
    return await _host_links(session, mission, settings)


async def _host_rows(request: Request) -> list[dict[str, Any]]:
    body = await request.body()
    if len(body) > MAX_HOSTS_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "At most 2 MiB of hosts.")
    kind = media_type(request)
    if kind in ("text/csv", "application/csv"):
        try:
            return csv_rows(body)
        except HostFileError as error:
            raise RequestValidationError(error.errors) from None
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


async def _host_links(session: SessionDep, mission: Mission, settings: Settings) -> list[HostLink]:
    hosts = (
        await session.exec(
            select(Host).where(Host.mission_id == mission.id).order_by(col(Host.name_key))
        )
    ).all()
    return [
        HostLink(
            id=h.id,
            name=h.name,
            country=h.country,
            sector=h.sector,
            contact_email=h.contact_email,
            unavailable=h.unavailable,
            private_url=participant_url(settings, mission.id, h.id, host=True),
        )
        for h in hosts
    ]
