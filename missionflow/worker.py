"""The Temporal worker: the mission workflow and every activity, on one task queue."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.records import RecordActivities
from workflows.mission import MissionWorkflow

WORKFLOWS = [MissionWorkflow]


def build_worker(client: Client, *, task_queue: str, engine: AsyncEngine) -> Worker:
    records = RecordActivities(engine)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[records.record_phase],
    )
