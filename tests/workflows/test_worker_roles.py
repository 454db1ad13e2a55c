"""A worker split in two on one task queue, as the dev stack and docker-compose.yml run it: the
workflows in one process, the activities in the other. Each half takes only its own tasks, and
together they run a mission."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from support import eventually, rehearsal
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from api.missions import start_mission
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.stack.worker_role import WorkerRole

UNTAKEN = 1.0
"""Seconds a task is left to a half that must not take it; either half takes its own within
milliseconds on this server."""


def _mission() -> MissionFile:
    document = rehearsal(matchmaking=None, visits=[])
    return load_mission(document, now=datetime.now(UTC), live=True)


async def _announced(mailbox, mission: MissionFile) -> None:
    for invitee in mission.call.invitees:
        assert mailbox.sent("call_announcement", str(invitee.email)), f"{invitee.email} not told"


async def test_the_workflows_half_leaves_the_activities_to_the_other(
    dev_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    mission = _mission()
    assert mission.call.invitees
    async with worker_for(dev_env, WorkerRole.WORKFLOWS):
        handle = await start_mission(
            dev_env.client, session_factory, mission, task_queue=task_queue, now=datetime.now(UTC)
        )

        async def scheduled() -> None:  # the workflow ran: it waits for its first activity
            pending = (await handle.describe()).raw_description.pending_activities
            assert [activity.activity_type.name for activity in pending] == ["record_phase"]

        await eventually(scheduled)
        await asyncio.sleep(UNTAKEN)
        (pending,) = (await handle.describe()).raw_description.pending_activities
        assert pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED
        async with worker_for(dev_env, WorkerRole.ACTIVITIES):
            await eventually(lambda: _announced(mailbox, mission), within=60)
            await handle.terminate("test over")


async def test_the_activities_half_leaves_the_workflows_to_the_other(
    dev_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    mission = _mission()
    async with worker_for(dev_env, WorkerRole.ACTIVITIES):
        handle: WorkflowHandle = await start_mission(
            dev_env.client, session_factory, mission, task_queue=task_queue, now=datetime.now(UTC)
        )
        await asyncio.sleep(UNTAKEN)
        description = await handle.describe()
        assert description.history_length == 2  # started, and its first task still scheduled
        assert not description.raw_description.pending_activities
        async with worker_for(dev_env, WorkerRole.WORKFLOWS):
            await eventually(lambda: _announced(mailbox, mission), within=60)
            await handle.terminate("test over")
