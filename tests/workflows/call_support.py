"""What the call's workflow tests share: applicants, an open call, a run's history read."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
from support import eu_us_later, in_year_offset, unsealed
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from test_mission_walk import sleep_until, utc

from activities.applications import ApplicationActivities
from api.missions import start_mission
from missionflow.domain.call.applications import ApplicationForm
from missionflow.domain.call.messages import (
    ApplicationReceipt,
    ApplicationSubmission,
    ApplicationSubmissions,
)
from missionflow.domain.mission.file import MissionFile
from workflows.mission import MissionWorkflow

DEADLINE_2017 = utc("2017-03-22T23:00:00")  # 22 Mar 24:00 CET


def submission(number: int) -> ApplicationSubmission:
    return ApplicationSubmission(application_id=uuid.uuid4(), form=form(number))


def form(number: int, **changes: object) -> ApplicationForm:
    return ApplicationForm.model_validate(
        {
            "organisation": f"Cluster {number}",
            "organisation_type": "cluster_organisation",
            "country": ("DE", "FR", "IT")[number % 3],
            "city": "Lyon",
            "contact_name": f"Contact {number}",
            "contact_email": f"contact{number}@clusters.example.org",
            "sectors": ["Nanotechnologies"],
            "answers": {},
            "consent": True,
            **changes,
        }
    )


async def apply(handle: WorkflowHandle, number: int, **changes: object) -> ApplicationReceipt:
    """One submission as the API's intake gate sends it when nothing else waits."""
    answer = await handle.execute_update(
        MissionWorkflow.submit_applications,
        ApplicationSubmissions(
            submissions=[
                ApplicationSubmission(application_id=uuid.uuid4(), form=form(number, **changes))
            ]
        ),
    )
    (receipt,) = answer.receipts
    return receipt


@asynccontextmanager
async def call_open(
    time_env: WorkflowEnvironment,
    worker_for,
    session_factory,
    task_queue: str,
    **input_options: object,
) -> AsyncIterator[tuple[MissionFile, WorkflowHandle]]:
    """A mission started under a worker, its clock on 1 March at noon: the call is open."""
    now = await time_env.get_current_time()
    mission, years = eu_us_later(now)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client,
            session_factory,
            mission,
            task_queue=task_queue,
            now=now,
            **input_options,
        )
        await sleep_until(time_env, in_year_offset(utc("2017-03-01T12:00:00"), years))
        yield mission, handle


async def each_got(mailbox, template: str, people: list[str]) -> None:
    for person in people:
        assert mailbox.sent(template, person), f"no {template} for {person}"


def scheduled(history, activity_type: str) -> list[datetime]:
    """When the workflow scheduled each run of an activity, in the server's (skipped) time."""
    return [
        event.event_time.ToDatetime().replace(tzinfo=UTC)
        for event in scheduled_events(history, activity_type)
    ]


def scheduled_events(history, activity_type: str) -> list:
    """The event scheduling each run of an activity, in order."""
    return [
        event
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == activity_type
    ]


def hold_the_first_write(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold the admitter's first write: (set once it is held, set it to let the write go)."""
    writing, release = asyncio.Event(), asyncio.Event()
    write = ApplicationActivities._write_and_confirm

    async def held(self, mission_id, records):  # type: ignore[no-untyped-def]
        if not writing.is_set():
            writing.set()
            await release.wait()
        return await write(self, mission_id, records)

    monkeypatch.setattr(ApplicationActivities, "_write_and_confirm", held)
    return writing, release


def completed(history, scheduled_event_id: int) -> int:
    """The id of the event completing the activity scheduled by `scheduled_event_id`."""
    (completed,) = (
        event.event_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        and event.activity_task_completed_event_attributes.scheduled_event_id == scheduled_event_id
    )
    return completed


def timers(history, summary: str) -> dict[int, EventType.ValueType]:
    """How each timer with this summary ended (fired or cancelled), by the id of the event that
    ended it; a timer still running is left out."""
    started = {
        event.event_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED
        and json.loads(unsealed(event.user_metadata.summary).data) == summary
    }
    return {
        event.event_id: event.event_type
        for event in history.events
        if (
            event.event_type == EventType.EVENT_TYPE_TIMER_FIRED
            and event.timer_fired_event_attributes.started_event_id in started
        )
        or (
            event.event_type == EventType.EVENT_TYPE_TIMER_CANCELED
            and event.timer_canceled_event_attributes.started_event_id in started
        )
    }


def local_activities(history) -> list[str]:
    """The activity type of each local activity recorded in the history, in order."""
    return [
        json.loads(event.marker_recorded_event_attributes.details["data"].payloads[0].data)[
            "activity_type"
        ]
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and event.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]


def answer(kind: str, choices: list[str] | None) -> object:
    return {"integer": 12, "boolean": False, "choice": (choices or [""])[0]}.get(kind, "Text")
