"""A mission after its event, written straight to the database: two confirmed delegates, one
waitlisted applicant and one host, plus a host of another mission. The feedback tests use it
without running a workflow."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from support import rehearsal

from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.runtime.models import Application, Host, Mission, SelectionDecision


@dataclass(frozen=True)
class People:
    mission: MissionFile
    delegates: tuple[uuid.UUID, uuid.UUID]
    waitlisted: uuid.UUID
    host: uuid.UUID
    foreign_host: uuid.UUID
    """A host of another mission."""


async def seed(
    factory: async_sessionmaker[AsyncSession], *, phase: str = "reporting", **changes: Any
) -> People:
    """The people of a rehearsal mission in `phase`, its file changed by `changes` (top-level
    keys, e.g. `languages`)."""
    now = datetime.now(UTC)
    mission = load_mission(rehearsal(**changes), now=now, live=True)
    other = load_mission(rehearsal(), now=now, live=True)
    async with factory() as session, session.begin():
        for file in (mission, other):
            session.add(_mission_row(file, phase))
        await session.flush()
        delegates = [_application(mission, name, now) for name in ("Alpha", "Beta")]
        waitlisted = _application(mission, "Gamma", now)
        session.add_all([*delegates, waitlisted])
        await session.flush()
        for rank, row in enumerate([*delegates, waitlisted], start=1):
            seat = "confirmed" if row in delegates else None
            session.add(_decision(mission, row, rank, seat, now))
        host = _host(mission, "Boston Nanofab", now)
        foreign = _host(other, "Elsewhere Labs", now)
        session.add_all([host, foreign])
    return People(
        mission=mission,
        delegates=(delegates[0].id, delegates[1].id),
        waitlisted=waitlisted.id,
        host=host.id,
        foreign_host=foreign.id,
    )


def _mission_row(file: MissionFile, phase: str) -> Mission:
    return Mission(
        id=file.id,
        workflow_id=file.workflow_id,
        title=file.title,
        organiser=file.organiser,
        timezone=file.timezone,
        phase=phase,
        file=file.model_dump(mode="json"),
    )


def _application(mission: MissionFile, name: str, now: datetime) -> Application:
    return Application(
        mission_id=mission.id,
        organisation=f"{name} Cluster",
        organisation_key=f"{name.lower()} cluster",
        organisation_type="cluster_organisation",
        country="DE",
        city="Munich",
        contact_name=f"Contact {name}",
        contact_email=f"{name.lower()}@example.org",
        email_key=f"{name.lower()}@example.org",
        sectors=[mission.call.sectors[0]],
        answers={},
        consent=True,
        status="received",
        complete=True,
        missing=[],
        submitted_at=now,
        updated_at=now,
    )


def _decision(
    mission: MissionFile, row: Application, rank: int, seat: str | None, now: datetime
) -> SelectionDecision:
    return SelectionDecision(
        application_id=row.id,
        mission_id=mission.id,
        score=1.0,
        breakdown={},
        rank=rank,
        proposed="selected" if seat else "waitlisted",
        decision="selected" if seat else "waitlisted",
        waitlist_position=None if seat else 1,
        reasons=[],
        seat=seat,
        updated_at=now,
    )


def _host(mission: MissionFile, name: str, now: datetime) -> Host:
    return Host(
        mission_id=mission.id,
        name=name,
        name_key=name.casefold(),
        country="US",
        sector="Advanced materials",
        contact_name=f"Contact {name}",
        contact_email=f"{name.split()[0].lower()}@host.example.com",
        unavailable=[],
        added_at=now,
    )
