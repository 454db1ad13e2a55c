"""Exactly once under a killed worker: a real `missionflow worker` process is killed with SIGKILL
while it delivers a 500-message announcement to a real SMTP server; a second worker takes the
batch over, and every message arrives once.

The server holds the conversation at a chosen step of one message in the middle of the batch
and the worker is killed right then, at each of the two places where a kill tests the takeover:
inside a message's envelope (the row is claimed, the server holds nothing of it: it must be sent
again) and after its final "." while the answer is pending (the row says "sent", the server took
the message: it must not be sent again). A kill at a random instant would also land, about once
in a hundred runs, in the window the delivery's docstring (activities/email.py) admits: between
the commit of "sent" and the write of the ".", where a message is lost rather than doubled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import pytest
from aiosmtpd.smtp import SMTP
from sqlmodel import func, select
from support import SEALING, eventually, rehearsal
from temporalio.testing import WorkflowEnvironment

from api.missions import start_mission
from missionflow.domain.mission.file import load_mission
from missionflow.runtime.db import create_engine, migrate, sessions
from missionflow.runtime.models import OutboxMessage
from workflows.postman import DELIVERY_BATCH

INVITEES = 500
KILL_AT = DELIVERY_BATCH // 2
"""The message, counted from 1, during which the worker is killed: in the middle of the first
delivery's batch, so that some of the messages it claimed are still unsent."""

Step = Literal["envelope", "answer"]


class HoldingMailbox:
    """Takes a few milliseconds per message, like a real relay, and holds the conversation at
    `step` of message `KILL_AT` until released: after its recipient arrives ("envelope"), or
    after its final "." was read and the message taken ("answer")."""

    def __init__(self, step: Step) -> None:
        self.step = step
        self.received: list[tuple[str, str]] = []
        self.holding = asyncio.Event()
        self.released = asyncio.Event()
        self._recipients = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        self._recipients += 1
        if self.step == "envelope" and self._recipients == KILL_AT:
            await self._hold()
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        await asyncio.sleep(0.01)
        message_id = next(
            line.split(b":", 1)[1].strip().decode()
            for line in envelope.original_content.splitlines()
            if line.lower().startswith(b"message-id:")
        )
        self.received.append((envelope.rcpt_tos[0], message_id))
        if self.step == "answer" and len(self.received) == KILL_AT:
            await self._hold()
        return "250 Message accepted for delivery"

    async def _hold(self) -> None:
        self.holding.set()
        await self.released.wait()


@pytest.mark.parametrize("step", ["envelope", "answer"])
async def test_a_worker_killed_mid_batch_loses_and_repeats_nothing(
    dev_env: WorkflowEnvironment, tmp_path: Path, task_queue: str, step: Step
) -> None:
    mailbox = HoldingMailbox(step)
    loop = asyncio.get_running_loop()
    smtp = await loop.create_server(lambda: SMTP(mailbox, hostname="relay.test"), "127.0.0.1", 0)
    url = f"sqlite:///{tmp_path / 'missionflow.db'}"
    migrate(url)
    engine = create_engine(url)
    env = {
        **os.environ,
        "MISSIONFLOW_HOME": str(tmp_path),
        "MISSIONFLOW_TEMPORAL_ADDRESS": dev_env.client.service_client.config.target_host,
        "MISSIONFLOW_TEMPORAL_NAMESPACE": dev_env.client.namespace,
        "MISSIONFLOW_TASK_QUEUE": task_queue,
        "MISSIONFLOW_DATABASE_URL": url,
        "MISSIONFLOW_SMTP_HOST": "127.0.0.1",
        "MISSIONFLOW_SMTP_PORT": str(smtp.sockets[0].getsockname()[1]),
        "MISSIONFLOW_SECRET_KEY": "link-secret-for-tests",
        "MISSIONFLOW_API_TOKEN": "coordinator-token-for-tests",
        # The worker opens what the test's client sealed: the same key, as in a deployment.
        "MISSIONFLOW_ENCRYPTION_KEYS": json.dumps(SEALING["encryption_keys"]),
    }
    document = rehearsal(matchmaking=None, visits=[])
    document["call"]["deadline"] = "+PT50M"
    document["selection"].update(decision_due="+PT51M", delegation_lock="+PT52M")
    document["reporting"]["report_due"] = "+PT55M"
    document["call"]["invitees"] = [
        {"organisation": f"Cluster {n}", "email": f"invitee{n}@example.org"}
        for n in range(INVITEES)
    ]
    now = datetime.now(UTC)
    mission = load_mission(document, now=now, live=True)
    first = await _worker(env, tmp_path / "first.log")
    second = None
    try:
        handle = await start_mission(
            dev_env.client, sessions(engine), mission, task_queue=task_queue, now=now
        )
        await asyncio.wait_for(mailbox.holding.wait(), timeout=60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
        mailbox.released.set()
        # Taken before the kill: the held message only if its "." was read.
        assert len(mailbox.received) == (KILL_AT if step == "answer" else KILL_AT - 1)

        second = await _worker(env, tmp_path / "second.log")
        await eventually(lambda: _at_least(mailbox, INVITEES), within=120)
        await eventually(lambda: _nothing_unsent(engine), within=30)
        await asyncio.sleep(1)  # a duplicate would arrive now, after the count was reached

        recipients = Counter(recipient for recipient, _ in mailbox.received)
        assert len(mailbox.received) == INVITEES
        assert set(recipients.values()) == {1}
        assert len({message_id for _, message_id in mailbox.received}) == INVITEES
        async with sessions(engine)() as session:
            statuses = dict(
                (
                    await session.exec(
                        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
                    )
                ).all()
            )
            retried = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.attempts > 1)
            )
        assert statuses == {"sent": INVITEES}
        assert retried, "no message was taken over from the killed worker's batch"
        await handle.terminate("test over")
    finally:
        for process in (first, second):
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
        await engine.dispose()
        smtp.close()
        await smtp.wait_closed()


async def _worker(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    output = log.open("wb")
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "missionflow"),
        "worker",
        env=env,
        stdout=output,
        stderr=output,
    )
    output.close()
    return process


async def _at_least(mailbox: HoldingMailbox, count: int) -> None:
    assert len(mailbox.received) >= count


async def _nothing_unsent(engine: Any) -> None:
    async with sessions(engine)() as session:
        unsent = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status.in_(("queued", "sending")))  # type: ignore[attr-defined]
        )
    assert unsent == 0
