"""The API in-process (httpx over ASGI) with a worker, on the real Temporal dev server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from missionflow.runtime.settings import Settings
from missionflow.stack.worker import build_worker

TOKEN = "coordinator-token-for-tests"


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
