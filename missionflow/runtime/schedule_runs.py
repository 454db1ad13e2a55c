"""The matchmaking scheduler's runs as kept (`ScheduleRun`): the latest one, and its figures
for the report and the coordinators' view."""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.reporting.figures import ScheduleFacts
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
    return ScheduleFacts(
        version=run.version,
        requested=run.requested,
        scheduled=run.scheduled,
        upper_bound=run.upper_bound,
        breaks=run.breaks,
        breaks_bound=run.breaks_bound,
        idle_slots=run.idle_slots,
        break_difference=run.break_difference,
        max_break_difference=run.max_break_difference,
        method=run.method,
        value=run.value,
        value_bound=run.value_bound,
        break_difference_bound=run.break_difference_bound,
        solve_seconds=run.solve_seconds,
    )
