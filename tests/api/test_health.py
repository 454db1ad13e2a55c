"""GET /healthz names the dependency that is down: the database, Temporal or the SMTP relay.

An SMTP relay down leaves the API serving (200, "degraded": emails wait in the outbox); the
database or Temporal down makes it unavailable (503)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from aiosmtpd.smtp import SMTP
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from missionflow.runtime.settings import Settings


class _Sink:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


async def _health(
    settings: Settings, engine: AsyncEngine, client: Client | None = None
) -> httpx.Response:
    app = create_app(settings, client=client, engine=engine, mailbox=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as api:
        return await api.get("/healthz")


async def test_a_stopped_smtp_sink_is_named_and_the_api_keeps_serving(
    dev_env: WorkflowEnvironment, engine: AsyncEngine, tmp_path: Path
) -> None:
    loop = asyncio.get_running_loop()
    sink = await loop.create_server(lambda: SMTP(_Sink(), hostname="sink.test"), "127.0.0.1", 0)
    port = sink.sockets[0].getsockname()[1]
    settings = Settings(api_token="t" * 20, home=tmp_path, smtp_host="127.0.0.1", smtp_port=port)

    up = await _health(settings, engine, client=dev_env.client)
    assert up.status_code == 200
    assert up.json() == {"status": "ok", "database": "ok", "temporal": "ok", "smtp": "ok"}

    sink.close()
    await sink.wait_closed()
    down = await _health(settings, engine, client=dev_env.client)
    assert down.status_code == 200, "an SMTP outage must not take the API out of service"
    body = down.json()
    assert body["status"] == "degraded"
    assert body["database"] == body["temporal"] == "ok"
    assert body["smtp"] != "ok" and str(port) in body["smtp"], body["smtp"]


async def test_temporal_and_smtp_down_are_both_named(
    engine: AsyncEngine, tmp_path: Path, unused_port: int
) -> None:
    settings = Settings(
        api_token="t" * 20,
        home=tmp_path,
        temporal_address=f"127.0.0.1:{unused_port}",
        smtp_host="127.0.0.1",
        smtp_port=unused_port,
    )
    response = await _health(settings, engine)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["database"] == "ok"
    assert body["temporal"] != "ok" and body["smtp"] != "ok"
