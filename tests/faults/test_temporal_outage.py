"""Temporal goes down under a running API and comes back.

While it is down, writes answer 503 with Retry-After, and soon: one request within the Temporal
client's own retries (which ride out a blip of a few seconds), and a rush of applicants queued
behind it no later. Reads that need only the database still answer. Once it is back on the same
port and SQLite file, the same API instance (which connected by itself, from its settings, as
`missionflow api` does) takes an application again and the applicant's confirmation arrives. An
API started before Temporal answers 503 at once, leaves nothing behind, and works once it is up.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from support import eventually, rehearsal
from temporal_outage_support import RestartableServer, application, timed
from temporalio.worker import Worker

from api.main import create_app
from missionflow.runtime.db import create_engine, migrate, sessions
from missionflow.runtime.models import Application
from missionflow.runtime.settings import Settings
from missionflow.runtime.temporal import connect
from missionflow.stack.worker import build_worker

PROMPT = 15.0
"""Seconds a request may take to answer while Temporal is down: the client's retries (10 s at
most) and a margin for a loaded machine, well within what an HTTP client waits."""

RUSH = 30
"""Applicants at once while Temporal is down: more than one Update's batch (25) behind the first."""

ANONYMOUS = {"Authorization": ""}


@pytest.fixture
async def server(tmp_path: Path, unused_port: int) -> AsyncIterator[RestartableServer]:
    """The test's Temporal, not started yet."""
    server = RestartableServer(port=unused_port, database=tmp_path / "temporal.db")
    yield server
    await server.stop()


@pytest.fixture
def outage_settings(settings: Settings, server: RestartableServer) -> Settings:
    return settings.model_copy(update={"temporal_address": server.address})


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """The outage is Temporal's: one database (SQLite) is enough."""
    url = f"sqlite:///{tmp_path / 'missionflow.db'}"
    migrate(url)
    engine = create_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def api(
    outage_settings: Settings, sqlite_engine: AsyncEngine
) -> AsyncIterator[httpx.AsyncClient]:
    """The API as `missionflow api` builds it: given no Temporal client, it connects from its
    settings on first use."""
    app = create_app(outage_settings, engine=sqlite_engine, mailbox=False)
    headers = {"Authorization": f"Bearer {outage_settings.coordinator_token()}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
    ) as client:
        yield client


async def worker(settings: Settings, engine: AsyncEngine) -> Worker:
    """A worker on a client of its own, as `missionflow worker` runs it."""
    return build_worker(
        await connect(settings), task_queue=settings.task_queue, engine=engine, settings=settings
    )


async def test_temporal_down_answers_503_soon_and_back_works_again(
    api: httpx.AsyncClient,
    server: RestartableServer,
    outage_settings: Settings,
    sqlite_engine: AsyncEngine,
    mailbox,
) -> None:
    await server.start()
    async with await worker(outage_settings, sqlite_engine):
        await _down_and_back(api, server, sqlite_engine, mailbox)


async def test_an_api_started_before_temporal_works_once_it_is_up(
    api: httpx.AsyncClient,
    server: RestartableServer,
    outage_settings: Settings,
    sqlite_engine: AsyncEngine,
    mailbox,
) -> None:
    document = rehearsal()
    refused, took = await timed(api.post("/missions", json=document))
    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"].isdigit()
    assert took < PROMPT, f"the mission's start waited {took:.1f} s for its 503"
    listed = await api.get("/missions")
    assert listed.status_code == 200 and listed.json() == [], listed.text  # nothing half-made

    await server.start()
    async with await worker(outage_settings, sqlite_engine):
        started = await api.post("/missions", json=document)
        assert started.status_code == 201, started.text
        applied = await api.post(
            f"/missions/{document['id']}/applications", json=application(1), headers=ANONYMOUS
        )
        assert applied.status_code == 201, applied.text
        await eventually(lambda: _one_confirmation(mailbox, 1), within=60)


async def _down_and_back(
    api: httpx.AsyncClient, server: RestartableServer, sqlite_engine: AsyncEngine, mailbox
) -> None:
    document = rehearsal()
    mission_id = document["id"]
    started = await api.post("/missions", json=document)
    assert started.status_code == 201, started.text
    path = f"/missions/{mission_id}/applications"
    first = await api.post(path, json=application(1), headers=ANONYMOUS)
    assert first.status_code == 201, first.text
    aid, token = first.json()["application_id"], first.json()["access_token"]
    await eventually(lambda: _one_confirmation(mailbox, 1), within=30)

    await server.stop()

    applied, took = await timed(api.post(path, json=application(2), headers=ANONYMOUS))
    assert applied.status_code == 503, applied.text
    assert applied.headers["Retry-After"].isdigit()
    assert took < PROMPT, f"an application waited {took:.1f} s for its 503"

    rush = await asyncio.gather(
        *(timed(api.post(path, json=application(n), headers=ANONYMOUS)) for n in range(3, 3 + RUSH))
    )
    assert [answer.status_code for answer, _ in rush] == [503] * RUSH
    assert all(answer.headers["Retry-After"].isdigit() for answer, _ in rush)
    slowest = max(took for _, took in rush)
    assert slowest < PROMPT, f"applicants at once waited up to {slowest:.1f} s for their 503"

    extended, took = await timed(
        api.post(f"/missions/{mission_id}/deadline", json={"deadline": "2099-01-01T00:00:00Z"})
    )
    assert extended.status_code == 503, extended.text
    assert extended.headers["Retry-After"].isdigit()
    assert took < PROMPT, f"the deadline's extension waited {took:.1f} s for its 503"

    listed = await api.get(path)
    assert listed.status_code == 200, listed.text
    assert [row["contact_email"] for row in listed.json()] == ["applicant1@example.org"]
    mine = await api.get(f"{path}/{aid}", headers={**ANONYMOUS, "X-Access-Token": token})
    assert mine.status_code == 200, mine.text
    assert mine.json()["organisation"] == "Outage Cluster 1"
    mission, took = await timed(api.get(f"/missions/{mission_id}"))
    assert mission.status_code == 200, mission.text
    assert (mission.json()["phase"], mission.json()["live"]) == ("call_open", False)
    assert took < PROMPT, f"the mission's page waited {took:.1f} s"

    await server.start()

    again = await api.post(path, json=application(2), headers=ANONYMOUS)
    assert again.status_code == 201, again.text
    await eventually(lambda: _one_confirmation(mailbox, 2), within=60)
    live = await api.get(f"/missions/{mission_id}")
    assert live.json()["live"] is True and live.json()["applications"] == 2, live.json()
    async with sessions(sqlite_engine)() as session:
        rows = (await session.exec(select(Application.contact_email))).all()
    assert sorted(rows) == ["applicant1@example.org", "applicant2@example.org"]
    assert len(mailbox.sent("application_received")) == 2


async def _one_confirmation(mailbox, number: int) -> None:
    assert len(mailbox.sent("application_received", f"applicant{number}@example.org")) == 1
