"""What several routes read of a mission besides its row: its matchmaking event, and the names
of the organisations that applied or host."""

from __future__ import annotations

import uuid

from fastapi import HTTPException, status
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime.models import Application, Host, Mission


def matchmaking_event(mission: Mission) -> Matchmaking:
    """The mission's matchmaking event, or a 404 when it has none."""
    event = MissionFile.model_validate(mission.file).matchmaking
    if event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This mission has no matchmaking event.")
    return event


async def organisation_names(session: AsyncSession, mission_id: str) -> dict[uuid.UUID, str]:
    """Every applicant's and host's name, whatever became of their seat since."""
    hosts = (
        await session.exec(select(Host.id, Host.name).where(Host.mission_id == mission_id))
    ).all()
    apps = (
        await session.exec(
            select(Application.id, Application.organisation).where(
                Application.mission_id == mission_id
            )
        )
    ).all()
    return {**dict(apps), **dict(hosts)}
