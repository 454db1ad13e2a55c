"""The matchmaking scheduler's runs as kept (`ScheduleRun`): the latest one, and its figures
for the report and the coordinators' view."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.reporting.schedule import ScheduleFacts
from missionflow.runtime.models import ScheduleRun


async def latest(session: AsyncSession, mission_id: str) -> ScheduleRun | None:
    """The mission's latest schedule run (highest version, then newest), or None."""
    return (
        await session.exec(
            select(ScheduleRun)
            .where(ScheduleRun.mission_id == mission_id)
            .order_by(col(ScheduleRun.version).desc(), col(ScheduleRun.created_at).desc())
            .limit(1)
        )
    ).first()


def facts(run: ScheduleRun | None) -> ScheduleFacts | None:
    if run is None:
        return None
    return ScheduleFacts(**run.model_dump(exclude={"id", "mission_id", "created_at"}))
