"""GET /metrics: requests by route template and status, their latency, and the outbox's depth as
the database holds it. No Temporal is needed: the routes used here answer from the database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from api.main import create_app
from missionflow.runtime.models import Mission, OutboxMessage
from missionflow.runtime.settings import Settings

TOKEN = "coordinator-token-for-tests"
APPLICATIONS = "/missions/{mission_id}/applications"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """(sample name, its labels) -> value, from a Prometheus text exposition."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def app_settings(tmp_path: Path, unused_port: int) -> Settings:
    return Settings(
        api_token=TOKEN,
        home=tmp_path,
        temporal_address=f"127.0.0.1:{unused_port}",
        smtp_host="127.0.0.1",
        smtp_port=unused_port,
    )


async def client_for(settings: Settings, engine: AsyncEngine) -> httpx.AsyncClient:
    app = create_app(settings, engine=engine, mailbox=False)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    )


@pytest.fixture
async def client(app_settings: Settings, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    async with await client_for(app_settings, engine) as client:
        yield client


async def scrape(client: httpx.AsyncClient) -> str:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return response.text


async def test_requests_count_by_route_template_and_status(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    for mission_id in ("osaka-2016", "usa-2017", "usa-2017"):
        response = await client.get(f"/missions/{mission_id}/applications")
        assert response.status_code == 404
    assert (await client.get("/no/such/page")).status_code == 404
    after = await scrape(client)

    labels = {"method": "GET", "route": APPLICATIONS, "status": "404"}
    counted = value(after, "missionflow_http_requests_total", **labels)
    assert counted - value(before, "missionflow_http_requests_total", **labels) == 3
    unmatched = {"method": "GET", "route": "<unmatched>", "status": "404"}
    assert value(after, "missionflow_http_requests_total", **unmatched) == 1
    assert "osaka-2016" not in after and "usa-2017" not in after, "a raw path became a label"
    assert 'route="/metrics"' not in after, "/metrics counted itself"

    latency = {"method": "GET", "route": APPLICATIONS}
    assert value(after, "missionflow_http_request_duration_seconds_count", **latency) == 3
    buckets = [
        dict(labels)["le"]
        for name, labels in samples(after)
        if name == "missionflow_http_request_duration_seconds_bucket"
        and dict(labels)["route"] == APPLICATIONS
    ]
    assert {"0.005", "0.1", "1.0", "30.0", "+Inf"} <= set(buckets)
    assert value(after, "missionflow_http_request_duration_seconds_bucket", le="+Inf", **latency)


async def test_outbox_depth_is_what_the_database_holds(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    held = {"queued": 3, "sending": 1, "failed": 2, "sent": 4}
    async with session_factory() as session:
        session.add(
            Mission(
                id="usa-2017",
                workflow_id="mission-usa-2017",
                title="EU Cluster Mission to the USA",
                organiser="EU Cluster Platform",
                timezone="Europe/Brussels",
                phase="call_open",
                file={},
            )
        )
        await session.flush()
        for status, count in held.items():
            for _ in range(count):
                session.add(message("usa-2017", status))
        session.add(message("usa-2017", "queued", smtp_code=451))  # deferred by the relay
        await session.commit()

    text = await scrape(client)
    assert value(text, "missionflow_outbox_messages", status="queued") == 4
    assert value(text, "missionflow_outbox_messages", status="sending") == 1
    assert value(text, "missionflow_outbox_messages", status="failed") == 2
    assert not any(
        name == "missionflow_outbox_messages" and dict(labels)["status"] == "sent"
        for name, labels in samples(text)
    )
    assert value(text, "missionflow_outbox_failures", kind="temporary") == 1
    assert value(text, "missionflow_outbox_failures", kind="permanent") == 2
    assert value(text, "missionflow_outbox_oldest_unsent_seconds") >= 0
    assert value(text, "missionflow_outbox_readable") == 1


def message(mission_id: str, status: str, **values: object) -> OutboxMessage:
    key = uuid.uuid4().hex
    return OutboxMessage(
        mission_id=mission_id,
        template="application_received",
        idempotency_key=key,
        recipient="ana@example.org",
        subject="Your application",
        text_body="Thank you.",
        html_body="<p>Thank you.</p>",
        headers={},
        message_id=f"<{key}@missionflow.test>",
        status=status,
        **values,
    )


async def test_metrics_are_not_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    assert "/metrics" not in document["paths"]
    assert "/healthz" in document["paths"]


async def test_each_app_has_its_own_registry(
    app_settings: Settings, engine: AsyncEngine, client: httpx.AsyncClient
) -> None:
    async with await client_for(app_settings, engine) as other:
        await other.get("/missions/usa-2017/applications")
        await other.get("/missions/usa-2017/applications")
        labels = {"method": "GET", "route": APPLICATIONS, "status": "404"}
        assert value(await scrape(other), "missionflow_http_requests_total", **labels) == 2
        assert value(await scrape(client), "missionflow_http_requests_total", **labels) == 0


async def test_a_metrics_token_guards_the_metrics(
    app_settings: Settings, engine: AsyncEngine
) -> None:
    settings = app_settings.model_copy(update={"metrics_token": SecretStr("scrape-secret")})
    async with await client_for(settings, engine) as client:
        refused = await client.get("/metrics")  # the coordinator's token is not the metrics'
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        allowed = await client.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert allowed.status_code == 200
        assert "missionflow_outbox_messages" in allowed.text
