"""Checking participants in at the matchmaking event's desk, shared by the JSON route
(`api.routes.check_ins`, for scanning apps) and the console's check-in page
(`api.console.check_in`): the code read from what was typed, scanned or pasted, the participant
it belongs to, the `check_in` Update, and the arrivals with their counts.

An unknown code is refused here, at the field `code`, before anything reaches the workflow; the
workflow says whether the desk is open, and the activity writes the arrival once.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.updates import send_update
from missionflow.domain.matchmaking.check_in import (
    CheckInInput,
    CheckInReceipt,
    check_in_code,
    read_code,
)
from missionflow.domain.matchmaking.rules import DELEGATE, HOST
from missionflow.runtime import participants
from missionflow.runtime.check_ins import arrivals
from missionflow.runtime.participants import Participant
from missionflow.runtime.settings import Settings
from workflows.mission import MissionWorkflow

UNKNOWN_CODE = "No participant of this event has this check-in code."


class CheckInBody(BaseModel):
    code: str = Field(
        min_length=1,
        max_length=2000,
        description="The code on the participant's agenda (ABCDE-FGHIJ, any case), or the "
        "check-in link its QR code holds.",
    )


class Arrival(BaseModel):
    participant_id: uuid.UUID
    name: str
    side: str
    checked_in_at: datetime
    checked_in_by: str


class Arrivals(BaseModel):
    """Who arrived, the latest first, and how many of those expected (the confirmed delegates
    and every host), by side."""

    arrived: dict[str, int]
    expected: dict[str, int]
    arrivals: list[Arrival]


async def participant_by_code(
    session: AsyncSession, settings: Settings, mission_id: str, text: str
) -> Participant:
    """The confirmed delegate or host whose code `text` holds (one HMAC each: milliseconds for
    thousands); a 422 at `code` otherwise."""
    code = read_code(text)
    if code is not None:
        secret = settings.link_secret()
        for person in await participants.everyone(session, mission_id):
            if check_in_code(secret, person.id) == code:
                return person
    raise RequestValidationError([{"loc": ("body", "code"), "msg": UNKNOWN_CODE, "type": "value"}])


async def check_in(
    client: Client,
    session: AsyncSession,
    settings: Settings,
    mission_id: str,
    body: CheckInBody,
    *,
    by: str,
) -> CheckInReceipt:
    person = await participant_by_code(session, settings, mission_id, body.code)
    return await record_arrival(
        client, mission_id, CheckInInput(participant_id=person.id, by=by[:200])
    )


async def record_arrival(client: Client, mission_id: str, arrival: CheckInInput) -> CheckInReceipt:
    """The `check_in` Update, for a participant already found (the simulation's desk too)."""
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.check_in, arrival)
    )


async def arrivals_of(session: AsyncSession, mission_id: str) -> Arrivals:
    people = {p.id: p for p in await participants.everyone(session, mission_id)}
    expected = Counter(p.kind for p in people.values())
    listed = []
    for row in await arrivals(session, mission_id):
        # One who arrived and withdrew since is no longer expected, but did arrive.
        person = people.get(row.participant_id) or await participants.find(
            session, mission_id, row.participant_id
        )
        listed.append(
            Arrival(
                participant_id=row.participant_id,
                name=person.name if person else "",
                side=row.side,
                checked_in_at=row.checked_in_at,
                checked_in_by=row.checked_in_by,
            )
        )
    return Arrivals(
        arrived={side: sum(a.side == side for a in listed) for side in (DELEGATE, HOST)},
        expected={side: expected[side] for side in (DELEGATE, HOST)},
        arrivals=listed,
    )
