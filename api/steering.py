"""Steering a mission on behalf of a principal: one path for the JSON routes
(`api.routes.missions`) and the console's forms (`api.console`), so both refuse the same things
and the audit log names the person the same way."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from temporalio.client import Client

from api.identity import Principal, record_steering
from api.missions import cancel_mission, extend_deadline
from missionflow.domain.instants import parse_instant
from missionflow.domain.mission.messages import MissionStatus
from missionflow.runtime.models import Mission


async def cancel(
    request: Request,
    client: Client,
    principal: Principal,
    mission_id: str,
    *,
    reason: str,
    by: str | None = None,
) -> MissionStatus:
    """Cancel the mission, then write who did it to its audit log.

    Args:
        by: who the request says made the change; kept only for the bootstrap token
            (`Principal.named`).
    """
    named = principal.named(by)
    live = await cancel_mission(client, mission_id, reason, named)
    await record_steering(request, mission_id, by=named, action="mission.cancelled", detail=reason)
    return live


async def extend(
    request: Request,
    client: Client,
    principal: Principal,
    mission: Mission,
    *,
    deadline: str,
    by: str | None = None,
) -> MissionStatus:
    """Extend the call to `deadline` (read in the mission's zone when it has no offset), then
    write who did it to its audit log.

    Raises:
        RequestValidationError: the deadline is no instant, located at the body's `deadline`.
    """
    try:
        instant = parse_instant(deadline, mission.timezone, now=datetime.now(UTC))
    except ValueError as error:
        raise RequestValidationError(
            [{"loc": ("body", "deadline"), "msg": str(error), "type": "value_error"}]
        ) from None
    named = principal.named(by)
    live = await extend_deadline(client, mission.id, instant, named)
    await record_steering(
        request, mission.id, by=named, action="deadline.extended", detail=instant.isoformat()
    )
    return live
