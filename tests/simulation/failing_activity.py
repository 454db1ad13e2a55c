"""A workflow whose one activity always fails, naming a person as an SMTP refusal would: what a
stuck simulation reports, and what Temporal must hold only sealed."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

REFUSAL = "550 no such user: zofia.quellbrunn@example.org"


@activity.defn
async def deliver() -> None:
    raise ApplicationError(REFUSAL)


@workflow.defn
class AlwaysFailing:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_activity(
            deliver,
            start_to_close_timeout=timedelta(seconds=5),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=50)),
        )
