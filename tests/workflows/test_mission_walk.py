"""The whole phase walk of eu-us-2017 (replayed in a coming year) on the time-skipping server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select
from support import eu_us_later, eventually, in_year_offset, keep_history
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.missions import start_mission
from missionflow.domain.mission.messages import MissionOutcome, MissionStatus
from missionflow.runtime.models import Mission, PhaseTransition
from missionflow.runtime.temporal import MISSION_ID, MISSION_PHASE
from workflows.mission import MissionWorkflow


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# Each phase and the true instant it starts in 2017: the file's local times read in their zones.
# The same wall times fall on the same UTC times in any later year (same DST rules).
WALK_2017 = [
    ("selection", utc("2017-03-22T23:00:00")),  # deadline 22 Mar 24:00 CET
    ("confirmation", utc("2017-03-31T15:00:00")),  # decision due 31 Mar 17:00 CEST
    ("matchmaking", utc("2017-04-14T15:00:00")),  # delegation locks 14 Apr 17:00 CEST
    ("visits", utc("2017-05-15T21:30:00")),  # matchmaking ends 15 May 17:30 EDT
    ("reporting", utc("2017-05-18T20:00:00")),  # last visit (Washington DC) ends 16:00 EDT
    ("follow_up", utc("2017-05-22T10:00:00")),  # report due 22 May 12:00 CEST
    # The last survey goes out P6M after the report (22 Nov, 12:00 CET) and takes answers for
    # P1M (survey_within): the mission completes then.
    ("completed", utc("2017-12-22T11:00:00")),
]


async def test_eu_us_walks_every_phase_on_its_true_instants(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue: str
) -> None:
    now = await time_env.get_current_time()
    mission, years = eu_us_later(now)
    walk = [(phase, in_year_offset(at, years)) for phase, at in WALK_2017]
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )

        status = await handle.query(MissionWorkflow.status)
        assert status.phase == "call_open"
        assert status.waiting_for == (
            "Call announced: waiting for the call to open, "
            f"15 Feb {2017 + years} 09:00 CET (08:00 UTC)"
        )
        await _expect_search_attributes(handle, mission.id, "call_open")

        previous = "call_open"
        for phase, starts_at in walk[:-1]:
            await sleep_until(time_env, starts_at - timedelta(seconds=1))
            assert (await handle.query(MissionWorkflow.status)).phase == previous, phase
            await sleep_until(time_env, starts_at + timedelta(seconds=1))
            await _expect_status(handle, phase=phase)
            await _expect_search_attributes(handle, mission.id, phase)
            previous = phase

        outcome: MissionOutcome = await handle.result()
        await keep_history(handle, "walk-completed")
    assert outcome.phase == "completed"
    assert outcome.ended_at == walk[-1][1]
    await _expect_search_attributes(handle, mission.id, "completed")

    async with session_factory() as session:
        rows = (
            await session.exec(
                select(PhaseTransition)
                .where(PhaseTransition.mission_id == mission.id)
                .order_by(PhaseTransition.at)
            )
        ).all()
        row = await session.get(Mission, mission.id)
    assert [(r.phase, r.at) for r in rows[1:]] == walk
    assert rows[0].phase == "call_open" and rows[0].previous is None
    assert [r.previous for r in rows[1:]] == ["call_open"] + [phase for phase, _ in walk[:-1]]
    assert row is not None and row.phase == "completed" and row.ended_at == walk[-1][1]


async def test_waiting_for_names_the_visit_in_its_city_zone(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue: str
) -> None:
    now = await time_env.get_current_time()
    mission, years = eu_us_later(now)
    year = 2017 + years
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        await sleep_until(time_env, utc(f"{year}-05-16T18:00:00"))  # Boston visit under way
        await _expect_status(
            handle,
            waiting_for=(
                f"Visit 1 of 3: Boston under way, until 16 May {year} 17:00 EDT (21:00 UTC)"
            ),
        )
        await sleep_until(time_env, utc(f"{year}-05-17T00:00:00"))
        status = await _expect_status(
            handle, waiting_for=f"Visit 2 of 3: Philadelphia, 17 May {year} 09:00 EDT (13:00 UTC)"
        )
        assert status.next is not None and status.next.local == f"{year}-05-17T09:00:00-04:00"
        await handle.terminate("test over")


async def sleep_until(env: WorkflowEnvironment, instant: datetime) -> None:
    remaining = instant - await env.get_current_time()
    if remaining > timedelta(0):
        await env.sleep(remaining)


async def _expect_status(
    handle: WorkflowHandle, *, phase: str | None = None, waiting_for: str | None = None
) -> MissionStatus:
    """The query answers from the last workflow task; the next may still be on its way."""

    async def check() -> MissionStatus:
        status = await handle.query(MissionWorkflow.status)
        if phase is not None:
            assert status.phase == phase
        if waiting_for is not None:
            assert status.waiting_for == waiting_for
        return status

    return await eventually(check)


async def _expect_search_attributes(handle: WorkflowHandle, mission_id: str, phase: str) -> None:
    async def check() -> None:
        attributes = (await handle.describe()).typed_search_attributes
        assert attributes.get(MISSION_ID) == mission_id
        assert attributes.get(MISSION_PHASE) == phase

    await eventually(check)
