"""The SMTP relay down for a while in the middle of a burst of deadline reminders: once it is
back, every reminder arrives, and none twice.

A mission with `INVITEES` invitees on the time-skipping server: the call's announcement goes out
with the relay up; then the relay goes down (it refuses connections, greets with 421 and hangs
up, or answers every recipient 451), the clock skips to the reminder, the reminders are queued
and their deliveries (`DELIVERY_BATCH` messages each) fail for `OUTAGE` seconds; then the relay
comes back on the same port.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from smtp_outage_support import REMINDER_AFTER, Outage, Relay, reminded_call
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from support import eventually
from temporalio.testing import WorkflowEnvironment

from api.missions import start_mission
from missionflow.runtime.db import sessions
from missionflow.runtime.models import OutboxMessage
from missionflow.runtime.settings import Settings
from missionflow.stack.worker import build_worker
from workflows.postman import DEFERRED_RETRY, DELIVERY_BATCH

INVITEES = [f"invitee{n}@example.org" for n in range(3 * DELIVERY_BATCH + 50)]
"""Whom the burst reminds: four deliveries, the last one partial."""

OUTAGE = 3.0
"""Seconds the relay stays down once the reminders are queued: past the delivery's first retry
(DELIVERY_RETRY waits 2 s, then 4 s), so the first delivery's messages are claimed again."""


@pytest.mark.parametrize("outage", ["refused", "421", "451"])
async def test_a_relay_outage_mid_reminder_burst_delays_but_neither_loses_nor_repeats(
    time_env: WorkflowEnvironment,
    engine: AsyncEngine,
    settings: Settings,
    task_queue: str,
    outage: Outage,
) -> None:
    now = await time_env.get_current_time()
    mission = reminded_call(now, INVITEES)
    async with Relay() as relay:
        relayed = settings.model_copy(update={"smtp_port": relay.port})
        async with build_worker(
            time_env.client, task_queue=task_queue, engine=engine, settings=relayed
        ):
            handle = await start_mission(
                time_env.client, sessions(engine), mission, task_queue=task_queue, now=now
            )
            await eventually(lambda: _each_once(relay, "call_announcement"), within=60)

            await relay.down(outage)
            await time_env.sleep(REMINDER_AFTER + timedelta(seconds=1))
            down_since = time.monotonic()
            await eventually(lambda: _reminders_queued(engine), within=30)
            await asyncio.sleep(OUTAGE - (time.monotonic() - down_since))
            assert not relay.got("deadline_reminder")

            await relay.up()
            if outage == "451":  # the postman waits before it tries deferred messages again
                await time_env.sleep(DEFERRED_RETRY)
            back_since = time.monotonic()
            await eventually(lambda: _each_once(relay, "deadline_reminder"), within=60)
            recovered_in = time.monotonic() - back_since
            await eventually(lambda: _all_sent(engine), within=30)
            await asyncio.sleep(1)  # a duplicate would arrive now, after the count was reached
            await handle.terminate("test over")

    assert relay.got("deadline_reminder") == {email: 1 for email in INVITEES}
    assert relay.got("call_announcement") == {email: 1 for email in INVITEES}
    reminders = await _rows(engine, "deadline_reminder")
    assert sorted(row.recipient for row in reminders) == sorted(INVITEES)
    assert {row.status for row in reminders} == {"sent"}
    assert any(row.attempts > 1 for row in reminders), "no reminder was tried during the outage"
    # The retry after the outage comes within DELIVERY_RETRY's next interval or two.
    assert recovered_in < 30, f"the reminders took {recovered_in:.1f} s after the relay was back"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_relay_answering_451_is_not_asked_again_before_the_deferred_retry(
    time_env: WorkflowEnvironment,
    engine: AsyncEngine,
    settings: Settings,
    task_queue: str,
) -> None:
    """A relay that defers every recipient asked for a pause: no message is offered to it twice
    before DEFERRED_RETRY has passed (the clock stands still here, DEFERRED_RETRY is a minute)."""
    now = await time_env.get_current_time()
    mission = reminded_call(now, INVITEES)
    async with Relay() as relay:
        await relay.down("451")
        relayed = settings.model_copy(update={"smtp_port": relay.port})
        async with build_worker(
            time_env.client, task_queue=task_queue, engine=engine, settings=relayed
        ):
            handle = await start_mission(
                time_env.client, sessions(engine), mission, task_queue=task_queue, now=now
            )
            await asyncio.sleep(OUTAGE)
            await handle.terminate("test over")

    announcements = await _rows(engine, "call_announcement")
    assert len(announcements) == len(INVITEES)
    assert {row.status for row in announcements} <= {"queued", "sending"}
    offered = max(row.attempts for row in announcements)
    assert offered == 1, f"a deferred announcement was offered {offered} times within {OUTAGE} s"


async def _each_once(relay: Relay, template: str) -> None:
    assert relay.got(template) == {recipient: 1 for recipient in INVITEES}


async def _reminders_queued(engine: AsyncEngine) -> None:
    assert len(await _rows(engine, "deadline_reminder")) == len(INVITEES)


async def _rows(engine: AsyncEngine, template: str) -> list[OutboxMessage]:
    async with sessions(engine)() as session:
        statement = select(OutboxMessage).where(OutboxMessage.template == template)
        return list((await session.exec(statement)).all())


async def _all_sent(engine: AsyncEngine) -> None:
    async with sessions(engine)() as session:
        unsent = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(col(OutboxMessage.status) != "sent")
        )
    assert unsent == 0
