"""How fast the outbox delivers, against aiosmtplib alone, and whether it delivers exactly once.

    .venv/bin/python benchmarks/email.py [--count 10000]

An aiosmtpd sink runs in its own process on loopback (so it does not share the client's event
loop) and counts every Message-ID it accepts. Two runs of `--count` messages each:

- raw: aiosmtplib sending prebuilt messages over one reused connection, the ceiling;
- outbox: `deliver_outbox` draining the same number of queued `deadline_reminder` rows from a
  SQLite database, 1,000 per call, each committed as "sent" before its final ".".

It prints messages/s for both, the ratio outbox/raw (the issue asks for 0.5 or more), and the
duplicates and missing messages the sink saw; it exits 1 if there are any.
"""

# ruff: noqa: E402  (the path must be fixed before anything imports the `email` package)
from __future__ import annotations

import sys
from pathlib import Path

# This file is named email.py: run as a script, its folder would shadow the standard library's
# `email` package for every import below.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [entry for entry in sys.path if Path(entry or ".").resolve() != _HERE]

import argparse
import asyncio
import multiprocessing
import re
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

import aiosmtplib
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from sqlmodel import select

from activities.email import EmailActivities
from missionflow.domain.mission.messages import DeliveryRequest
from missionflow.runtime.db import create_engine, migrate, sessions
from missionflow.runtime.mail.message import build_message
from missionflow.runtime.mail.outbox import queue
from missionflow.runtime.models import Mission, OutboxMessage, utc_now
from missionflow.runtime.settings import Settings

MAIL_FROM = "missionflow <missions@example.org>"
_MESSAGE_ID = re.compile(rb"^Message-ID:[ \t]*(\S+)", re.IGNORECASE | re.MULTILINE)


class _Counting:
    """The sink's handler: keeps the Message-ID of every message accepted."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        found = _MESSAGE_ID.search(envelope.original_content or b"")
        self.message_ids.append(found.group(1).decode() if found else "")
        return "250 OK"


def _sink(control: Connection) -> None:
    """The sink process: serve SMTP; on "report" send back (and forget) the Message-IDs seen."""

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        handler = _Counting()
        server = await loop.create_server(
            lambda: SMTPServer(handler, hostname="sink.benchmark", loop=loop), "127.0.0.1", 0
        )
        control.send(server.sockets[0].getsockname()[1])
        while (command := await asyncio.to_thread(control.recv)) != "stop":
            if command == "report":
                control.send(handler.message_ids)
                handler.message_ids = []
        server.close()

    asyncio.run(serve())


class Sink:
    def __init__(self) -> None:
        self._control, child = multiprocessing.get_context("spawn").Pipe()
        self._process = multiprocessing.get_context("spawn").Process(
            target=_sink, args=(child,), daemon=True
        )
        self._process.start()
        self.port: int = self._control.recv()

    def report(self) -> list[str]:
        """The Message-IDs accepted since the last report."""
        self._control.send("report")
        ids: list[str] = self._control.recv()
        return ids

    def stop(self) -> None:
        self._control.send("stop")
        self._process.join(timeout=10)


def _context(mission: Mission) -> dict[str, Any]:
    return {
        "mission": {
            "id": mission.id,
            "title": mission.title,
            "organiser": mission.organiser,
            "destination": "United States",
            "timezone": mission.timezone,
            "coordinators": [{"name": "Anna Verbeke", "email": "anna.verbeke@example.org"}],
        },
        "deadline": utc_now().replace(microsecond=0),
        "time_left": "2 days",
        "missing": ["the one-slide presentation"],
        "private_url": "http://localhost:8000/missions/bench/applications/1?token=secret",
    }


async def _queue(settings: Settings, url: str, count: int) -> tuple[list[str], float]:
    """Queue `count` reminders; return their Message-IDs and the seconds it took."""
    engine = create_engine(url)
    mission = Mission(
        id="bench",
        workflow_id="mission-bench",
        title="High-level EU Cluster Mission to the USA",
        organiser="European Cluster Collaboration Platform",
        timezone="Europe/Brussels",
        phase="call_open",
        file={},
    )
    started = time.perf_counter()
    async with sessions(engine)() as session:
        session.add(mission)
        await session.commit()
        context = _context(mission)
        for number in range(count):
            await queue(
                session,
                mission_id=mission.id,
                template="deadline_reminder",
                recipient=f"applicant-{number}@example.org",
                recipient_name=f"Applicant {number}",
                context=context,
                idempotency_key=f"bench:deadline_reminder:P2D:{number}",
                reply_to=["Anna Verbeke <anna.verbeke@example.org>"],
                from_name=mission.organiser,
                auto_submitted=True,
                sender=settings.mail_from,
                now=datetime.now(UTC),
            )
        await session.commit()
        elapsed = time.perf_counter() - started
        message_ids = list(await session.exec(select(OutboxMessage.message_id)))
    await engine.dispose()
    return message_ids, elapsed


async def _raw(settings: Settings, url: str, count: int, port: int) -> float:
    """Send `count` prebuilt copies of a queued message (fresh Message-IDs) with aiosmtplib."""
    engine = create_engine(url)
    async with sessions(engine)() as session:
        row = (await session.exec(select(OutboxMessage).limit(1))).one()
    await engine.dispose()
    prebuilt = []
    for number in range(count):
        message = build_message(row, sender=settings.mail_from, now=utc_now())
        message.replace_header("Message-ID", f"<raw-{number}@example.org>")
        prebuilt.append((f"applicant-{number}@example.org", message.as_bytes()))
    sender = "missions@example.org"
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, local_hostname="benchmark")
    started = time.perf_counter()
    await smtp.connect()
    for recipient, content in prebuilt:
        await smtp.sendmail(sender, [recipient], content)
    await smtp.quit()
    return time.perf_counter() - started


async def _outbox(settings: Settings, url: str, mission_id: str) -> float:
    """Drain the outbox with `deliver_outbox`, 1,000 messages per call, as the workflow would."""
    engine = create_engine(url)
    delivery = EmailActivities(engine, settings)
    started = time.perf_counter()
    while (await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))).remaining:
        pass
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed


def _faults(seen: list[str], expected: list[str]) -> tuple[int, int]:
    """(duplicates, missing): Message-IDs seen more than once, expected ones never seen."""
    counts = Counter(seen)
    return sum(1 for n in counts.values() if n > 1), len(set(expected) - set(counts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000, help="messages per run")
    count = parser.parse_args().count
    sink = Sink()
    try:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=sink.port, mail_from=MAIL_FROM)
        with tempfile.TemporaryDirectory() as folder:
            url = f"sqlite:///{folder}/benchmark.db"
            migrate(url)
            queued, queue_seconds = asyncio.run(_queue(settings, url, count))
            raw_seconds = asyncio.run(_raw(settings, url, count, sink.port))
            raw_faults = _faults(sink.report(), [f"<raw-{n}@example.org>" for n in range(count)])
            outbox_seconds = asyncio.run(_outbox(settings, url, "bench"))
            outbox_faults = _faults(sink.report(), queued)
    finally:
        sink.stop()

    print(f"{'':16} {'messages':>9} {'seconds':>8} {'messages/s':>11} {'dup':>4} {'missing':>7}")
    rows = (("raw aiosmtplib", raw_seconds, raw_faults), ("outbox", outbox_seconds, outbox_faults))
    for name, seconds, (duplicates, missing) in rows:
        print(
            f"{name:16} {count:>9} {seconds:>8.2f} {count / seconds:>11.0f} "
            f"{duplicates:>4} {missing:>7}"
        )
    print(f"ratio outbox/raw: {raw_seconds / outbox_seconds:.2f} (goal: 0.50 or more)")
    print(f"queueing {count} messages (render + insert, one transaction): {queue_seconds:.2f} s")
    duplicates, missing = outbox_faults
    return 1 if duplicates or missing or any(raw_faults) else 0


if __name__ == "__main__":
    sys.exit(main())
