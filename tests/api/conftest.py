"""The API in-process (httpx over ASGI) with a worker, on the real Temporal dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from missionflow.runtime.settings import Settings
from missionflow.stack.worker import build_worker

TOKEN = "coordinator-token-for-tests"

Browser = Callable[[], httpx.AsyncClient]


@pytest.fixture
async def api(
    dev_env: WorkflowEnvironment, engine, task_queue: str, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, client=dev_env.client, engine=engine, mailbox=False)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {settings.coordinator_token()}"}
    async with (
        build_worker(dev_env.client, task_queue=task_queue, engine=engine, settings=settings),
        httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client,
    ):
        yield client


@pytest.fixture
async def browsers(
    api: httpx.AsyncClient, dev_env: WorkflowEnvironment, engine, settings: Settings
) -> AsyncIterator[Browser]:
    """New clients of the API without the bootstrap token, each with its own cookie jar, as
    separate browsers would be (the `api` fixture runs the worker)."""
    app = create_app(settings, client=dev_env.client, engine=engine, mailbox=False)
    opened: list[httpx.AsyncClient] = []

    def browser() -> httpx.AsyncClient:
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")
        opened.append(client)
        return client

    yield browser
    for client in opened:
        await client.aclose()
