"""An Update the server aborts with its workflow task is sent again by the API, not answered
503: CI once lost a coordinator's cancellation so (the cancel raced another workflow task, the
server refused the task's completion and answered WorkflowNotReady)."""

from __future__ import annotations

import uuid

import pytest
from temporalio import workflow
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from api.updates import _aborted, send_update
from missionflow.domain.mission.file import workflow_id_for

UNREGISTERED = SearchAttributeKey.for_keyword("NotRegisteredOnThisServer")

SPOILED: list[str] = []
"""Questions whose first workflow task the server must refuse. Module state, read only by the
test workflow below, which is not sandboxed: that is what lets one attempt differ from the next."""


@workflow.defn(sandboxed=False)
class Respondent:
    def __init__(self) -> None:
        self._done = False

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._done)

    @workflow.update
    def ask(self, question: str) -> str:
        if question in SPOILED:
            SPOILED.remove(question)
            # The server refuses to complete a task that sets an unknown search attribute.
            workflow.upsert_search_attributes([UNREGISTERED.value_set("x")])
        return f"answer to {question}"

    @workflow.signal
    def finish(self) -> None:
        self._done = True


async def test_an_aborted_update_is_sent_again(dev_env: WorkflowEnvironment) -> None:
    client = dev_env.client
    task_queue = f"aborted-{uuid.uuid4().hex[:8]}"
    mission_id = f"aborted-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue=task_queue, workflows=[Respondent]):
        handle = await client.start_workflow(
            Respondent.run, id=workflow_id_for(mission_id), task_queue=task_queue
        )

        SPOILED.append("first")
        with pytest.raises(RPCError) as raised:
            await handle.execute_update(Respondent.ask, "first")
        assert raised.value.status == RPCStatusCode.FAILED_PRECONDITION
        assert "unexpected workflow task failure" in raised.value.message
        assert _aborted(raised.value)

        SPOILED.append("second")
        answer = await send_update(
            client, mission_id, lambda h: h.execute_update(Respondent.ask, "second")
        )
        assert answer == "answer to second"
        assert SPOILED == []  # the first attempt was refused, the answer is the second's

        await handle.signal(Respondent.finish)
        await handle.result()
