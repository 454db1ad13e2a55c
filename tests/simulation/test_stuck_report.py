"""When a simulated mission does not complete, the error says which activity failed and why: the
failure's message is sealed in Temporal like every payload, so the report opens it first."""

from __future__ import annotations

import uuid

from failing_activity import REFUSAL, AlwaysFailing, deliver
from support import eventually
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from missionflow.simulation.simulate import _stuck


async def test_the_stuck_report_opens_the_sealed_failure(time_env: WorkflowEnvironment) -> None:
    queue = f"stuck-{uuid.uuid4().hex[:8]}"
    async with Worker(
        time_env.client, task_queue=queue, workflows=[AlwaysFailing], activities=[deliver]
    ):
        handle = await time_env.client.start_workflow(
            AlwaysFailing.run, id=f"stuck-{uuid.uuid4()}", task_queue=queue
        )

        async def retried() -> None:
            pending = (await handle.describe()).raw_description.pending_activities
            assert pending and pending[0].attempt >= 2

        await eventually(retried)
        stored = (await handle.describe()).raw_description.pending_activities[0].last_failure
        assert "zofia" not in stored.message and "zofia" not in stored.stack_trace, "sealed"
        report = await _stuck(handle, time_env.client.data_converter)
        await handle.terminate("test over")
    assert report.startswith("activity deliver on attempt ")
    assert REFUSAL in report
