"""Coordinators steer a running mission: cancel at any phase, extend the deadline, and the
mission continues as new without losing anything."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import col, select
from support import eu_us_later, eventually, in_year_offset, keep_history
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from test_mission_walk import WALK_2017, sleep_until

from api.missions import start_mission
from missionflow.domain.mission.messages import CancelRequest, DeadlineExtension
from missionflow.domain.refusals import CONFLICT, INVALID
from missionflow.runtime.models import Mission, PhaseTransition
from workflows.mission import MissionWorkflow

PHASE_STARTS = [("call_open", None), *WALK_2017[:-1]]


@pytest.mark.parametrize(("phase", "starts_2017"), PHASE_STARTS, ids=[p for p, _ in PHASE_STARTS])
async def test_cancel_at_each_phase(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, phase, starts_2017
) -> None:
    now = await time_env.get_current_time()
    mission, years = eu_us_later(now)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        if starts_2017 is not None:  # call_open: cancel at once, while the first write runs
            await sleep_until(time_env, in_year_offset(starts_2017, years) + timedelta(hours=1))
        status = await handle.execute_update(
            MissionWorkflow.cancel, CancelRequest(reason="Flights grounded", by="Ana")
        )
        assert status.phase == "cancelled"
        assert [p.phase for p in status.phases][-2] == phase
        outcome = await handle.result()
        if phase == "visits":
            await keep_history(handle, "cancelled-during-visits")
    assert outcome.phase == "cancelled" and outcome.cancel_reason == "Flights grounded"

    async with session_factory() as session:
        rows = (
            await session.exec(
                select(PhaseTransition)
                .where(PhaseTransition.mission_id == mission.id)
                .order_by(col(PhaseTransition.at))
            )
        ).all()
        row = await session.get(Mission, mission.id)
    assert [r.phase for r in rows][-2:] == [phase, "cancelled"]
    assert rows[-1].previous == phase and rows[-1].note == "Flights grounded"
    assert row is not None and row.phase == "cancelled"
    assert row.cancel_reason == "Flights grounded" and row.ended_at == outcome.ended_at


async def test_a_second_cancel_is_refused_by_the_validator(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue
) -> None:
    now = await time_env.get_current_time()
    mission, _ = eu_us_later(now)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client,
            session_factory,
            mission,
            task_queue=task_queue,
            now=now,
        )
        await handle.execute_update(MissionWorkflow.cancel, CancelRequest(reason="first"))
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(MissionWorkflow.cancel, CancelRequest(reason="second"))
        cause = refused.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == CONFLICT
        assert cause.message == "The mission is already cancelled; it cannot be cancelled."
        assert (await handle.result()).cancel_reason == "first"
    history = await handle.fetch_history()
    accepted = [
        e
        for e in history.events
        if e.HasField("workflow_execution_update_accepted_event_attributes")
    ]
    assert len(accepted) == 1  # the refused Update never reached the history


async def test_deadline_extensions_survive_continue_as_new(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue
) -> None:
    now = await time_env.get_current_time()
    mission, years = eu_us_later(now)
    deadline = mission.call.deadline
    extensions = [deadline + timedelta(days=d) for d in (1, 2, 3)]
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client,
            session_factory,
            mission,
            task_queue=task_queue,
            now=now,
            max_updates_per_run=2,
        )
        first_run = (await handle.describe()).run_id
        started = await handle.query(MissionWorkflow.status)
        for extension in extensions:
            status = await time_env.client.get_workflow_handle_for(
                MissionWorkflow.run, mission.workflow_id
            ).execute_update(MissionWorkflow.extend_deadline, DeadlineExtension(deadline=extension))
            assert status.deadline.utc == extension

        async def continued() -> str:
            run_id = (
                await time_env.client.get_workflow_handle(mission.workflow_id).describe()
            ).run_id
            assert run_id != first_run
            return run_id

        second_run = await eventually(continued)
        latest = time_env.client.get_workflow_handle_for(MissionWorkflow.run, mission.workflow_id)
        status = await latest.query(MissionWorkflow.status)
        assert status.deadline.utc == extensions[-1]
        assert status.updates_handled == 3
        assert status.phases == started.phases

        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await latest.execute_update(
                MissionWorkflow.extend_deadline, DeadlineExtension(deadline=deadline)
            )
        assert isinstance(refused.value.cause, ApplicationError)
        assert refused.value.cause.type == INVALID
        assert "is not later than the current one" in refused.value.cause.message

        await sleep_until(time_env, extensions[-1] - timedelta(seconds=1))
        assert (await latest.query(MissionWorkflow.status)).phase == "call_open"
        await sleep_until(time_env, extensions[-1] + timedelta(seconds=1))

        async def in_selection() -> None:
            assert (await latest.query(MissionWorkflow.status)).phase == "selection"

        await eventually(in_selection)
        await keep_history(
            time_env.client.get_workflow_handle(mission.workflow_id, run_id=first_run),
            "continued-as-new-first-run",
        )
        await keep_history(
            time_env.client.get_workflow_handle(mission.workflow_id, run_id=second_run),
            "continued-as-new-second-run-in-selection",
        )
        await latest.terminate("test over")

    async with session_factory() as session:
        rows = (
            await session.exec(
                select(PhaseTransition).where(PhaseTransition.mission_id == mission.id)
            )
        ).all()
    recorded = {r.phase: r for r in rows}
    assert set(recorded) == {"call_open", "selection"}
    assert recorded["call_open"].run_id == first_run  # not written again by the second run
    assert recorded["selection"].at == extensions[-1] and recorded["selection"].run_id == second_run
    assert in_year_offset(WALK_2017[0][1], years) + timedelta(days=3) == extensions[-1]


async def test_a_long_run_continues_as_new_as_it_enters_a_phase(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue
) -> None:
    """With the threshold at 0 every run is "long": each phase from confirmation on is entered
    by a new run, and the mission walks to the end the same."""
    now = await time_env.get_current_time()
    mission, years = eu_us_later(now)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client,
            session_factory,
            mission,
            task_queue=task_queue,
            now=now,
            handover_events=0,
        )
        first_run = (await handle.describe()).run_id
        outcome = await handle.result()
        await keep_history(
            time_env.client.get_workflow_handle(handle.id, run_id=first_run),
            "quiet-handover-first-run",
        )
        await keep_history(handle, "quiet-handover-last-run")
    assert outcome.phase == "completed"

    async with session_factory() as session:
        rows = (
            await session.exec(
                select(PhaseTransition)
                .where(PhaseTransition.mission_id == mission.id)
                .order_by(col(PhaseTransition.at))
            )
        ).all()
    assert [(r.phase, r.at) for r in rows] == [
        ("call_open", rows[0].at),
        *((phase, in_year_offset(at, years)) for phase, at in WALK_2017),
    ]
    # A run records the phase it enters, then hands over: call_open and selection are the first
    # run's, and each later phase is recorded by the run that began in the phase before it.
    assert rows[0].run_id == rows[1].run_id == first_run
    assert len({r.run_id for r in rows[1:]}) == len(rows) - 1
