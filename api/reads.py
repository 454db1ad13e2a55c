"""What several routes read of a mission besides its row: its view with the live status, its
matchmaking event, and the names of the organisations that applied or host."""

from __future__ import annotations

import uuid

from fastapi import HTTPException, status
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.schemas import MissionView, TransitionView
from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.messages import MissionStatus
from missionflow.domain.mission.phases import Phase
from missionflow.runtime.models import Application, Host, Mission, PhaseTransition


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


async def mission_view(
    session: AsyncSession, row: Mission, live: MissionStatus | None
) -> MissionView:
    """The mission as the API and the console show it: its row, its phase transitions, and
    what the workflow answered (`live`; None when Temporal could not be asked)."""
    transitions = (
        await session.exec(
            select(PhaseTransition)
            .where(PhaseTransition.mission_id == row.id)
            .order_by(col(PhaseTransition.at), col(PhaseTransition.recorded_at))
        )
    ).all()
    return MissionView(
        id=row.id,
        workflow_id=row.workflow_id,
        title=row.title,
        organiser=row.organiser,
        timezone=row.timezone,
        phase=live.phase if live else Phase(row.phase),
        created_at=row.created_at,
        ended_at=row.ended_at,
        live=live is not None,
        waiting_for=live.waiting_for if live else None,
        next=live.next if live else None,
        deadline=live.deadline if live else None,
        instants=live.instants if live else [],
        transitions=[TransitionView.model_validate(t, from_attributes=True) for t in transitions],
        cancel_reason=live.cancel_reason if live else row.cancel_reason,
        applications=live.applications if live else None,
        withdrawn=live.withdrawn if live else None,
        seats=live.seats if live else None,
    )
