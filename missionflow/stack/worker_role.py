"""What a worker process runs, in a module of its own: the CLI names it without importing the
worker's workflows, activities and Temporal (a third of a second on every command)."""

from __future__ import annotations

from enum import StrEnum


class WorkerRole(StrEnum):
    """Everything, or one of the two halves that share a task queue (see
    `missionflow.stack.worker`)."""

    ALL = "all"
    WORKFLOWS = "workflows"
    ACTIVITIES = "activities"
