"""The matchmaking event's grid as the coordinators read it: every accepted meeting with its slot,
table and both sides, and the latest schedule against its bounds. One code path for
`GET /missions/{id}/agenda` and the console's matchmaking page."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.reads import organisation_names
from api.routes.matchmaking import GridMeeting, ScheduleFigures, schedule_view
from missionflow.domain.instants import describe
from missionflow.domain.matchmaking.rules import DELEGATE, HOST
from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.reporting.schedule import schedule_figures
from missionflow.runtime import schedule_runs
from missionflow.runtime.models import Meeting


async def grid_meetings(
    session: AsyncSession, mission_id: str, event: Matchmaking
) -> list[GridMeeting]:
    """The accepted meetings by start and table; those the scheduler could not place last, each
    with its reason."""
    names = await organisation_names(session, mission_id)
    rows = (
        await session.exec(
            select(Meeting)
            .where(Meeting.mission_id == mission_id)
            .where(col(Meeting.status) == "accepted")
            .order_by(
                col(Meeting.starts_at),
                col(Meeting.table).nulls_last(),  # remote meetings after the tables
                col(Meeting.id),
            )
        )
    ).all()
    return [
        GridMeeting(
            meeting_id=str(m.id),
            slot=m.slot_id,
            start=m.starts_at.isoformat() if m.starts_at else None,
            local=_local_text(m.starts_at, event),
            table=m.table,
            delegate=names.get(m.requester_id if m.requester_kind == DELEGATE else m.invitee_id),
            host=names.get(m.invitee_id if m.invitee_kind == HOST else m.requester_id),
            priority=m.priority,
            attendance=m.attendance,
            unscheduled_reason=m.unscheduled_reason,
        )
        for m in rows
    ]


async def latest_schedule(session: AsyncSession, mission_id: str) -> ScheduleFigures | None:
    """The latest scheduler run's figures (placed against the upper bound, breaks against
    their proven bound); None before the first."""
    run = schedule_runs.facts(await schedule_runs.latest(session, mission_id))
    return schedule_view(schedule_figures(run))


def _local_text(instant: datetime | None, event: Matchmaking) -> str | None:
    return None if instant is None else describe(instant.astimezone(UTC), event.timezone)
