"""Loading the matchmaking event's hosts and listing them with their private links: one code path
for `POST /missions/{id}/hosts` and the console's upload form, so both take and refuse the same
rows."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, status
from fastapi.exceptions import RequestValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.missions import add_hosts
from api.reads import matchmaking_event
from api.routes.matchmaking import HostLink
from missionflow.domain.matchmaking.messages import HostBatch, HostsLoaded
from missionflow.domain.matchmaking.rules import HostFileError, csv_rows, parse_hosts
from missionflow.runtime.mail.context import participant_url
from missionflow.runtime.models import Host, Mission
from missionflow.runtime.settings import Settings

MAX_HOSTS_BYTES = 2 << 20


def within_limit(body: bytes) -> None:
    """Refuse (413) more than 2 MiB of hosts, whatever their form."""
    if len(body) > MAX_HOSTS_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "At most 2 MiB of hosts.")


def hosts_csv(body: bytes) -> list[dict[str, Any]]:
    """A hosts CSV's rows as `parse_hosts` reads them.

    Raises:
        HTTPException: 413 over 2 MiB.
        RequestValidationError: the file is not UTF-8 text.
    """
    within_limit(body)
    try:
        return csv_rows(body)
    except HostFileError as error:
        raise RequestValidationError(error.errors) from None


async def load_hosts(client: Client, mission: Mission, rows: list[dict[str, Any]]) -> HostsLoaded:
    """Check every row against the event's slots and give the hosts to the mission's workflow;
    nothing is loaded when one row is wrong.

    Raises:
        RequestValidationError: each problem at ("body", row index, field).
    """
    event = matchmaking_event(mission)
    try:
        hosts = parse_hosts(rows, event)
    except HostFileError as error:
        raise RequestValidationError(error.errors) from None
    return await add_hosts(
        client, mission.id, HostBatch(hosts=[h.model_dump(mode="json") for h in hosts])
    )


async def host_links(session: AsyncSession, mission: Mission, settings: Settings) -> list[HostLink]:
    """Every host of the mission, by name, with its private link."""
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
            table=h.table,
            remote=h.remote,
        )
        for h in hosts
    ]
