"""PostgreSQL restarted under a stream of applications: the requests it cuts answer a clean 503
with Retry-After (never a 500), their retries succeed, and no application is half-written.

The API runs in-process (httpx over ASGI) with a worker on the real Temporal dev server, both on
a PostgreSQL cluster of this test's own: `APPLICANTS` applicants, `CONCURRENCY` at a time, one
every `PACE` seconds, each with an Idempotency-Key (a retry is the same application) and every
other one with its one-slide presentation; `RESTART_AFTER` seconds into the stream the cluster
stops (fast: every session cut), stays down `DOWN_FOR` seconds, and starts again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from pg_cluster import restart, throwaway_cluster
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from support import eventually, rehearsal
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from missionflow.runtime.db import create_engine, migrate, sessions
from missionflow.runtime.models import Application, Slide
from missionflow.runtime.settings import Settings
from missionflow.stack.worker import build_worker

APPLICANTS = 40
CONCURRENCY = 10
PACE = 0.1
RESTART_AFTER = 1.0
DOWN_FOR = 2.0
RETRY_WITHIN = 60.0
"""Seconds an applicant keeps retrying after a 503 before the test gives up."""


@pytest.fixture
def cluster() -> Iterator[str]:
    """A PostgreSQL cluster for this test alone (the session's is shared: not to be restarted)."""
    with throwaway_cluster() as url:
        migrate(url)
        yield url


@pytest.fixture
async def worker_engine(cluster: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(cluster)
    yield engine
    await engine.dispose()


@pytest.fixture
async def api_engine(cluster: str, settings: Settings) -> AsyncIterator[AsyncEngine]:
    """The API's engine, its pool sized as for PostgreSQL in production."""
    engine = create_engine(
        cluster, settings.model_copy(update={"database_url": cluster}).database_pool()
    )
    yield engine
    await engine.dispose()


@pytest.fixture
async def api(
    dev_env: WorkflowEnvironment,
    worker_engine: AsyncEngine,
    api_engine: AsyncEngine,
    task_queue: str,
    settings: Settings,
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, client=dev_env.client, engine=api_engine, mailbox=False)
    async with (
        build_worker(
            dev_env.client, task_queue=task_queue, engine=worker_engine, settings=settings
        ),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield client


def slide(number: int) -> bytes:
    return f"%PDF-1.4\n% the one slide of Restart Cluster {number}\n%%EOF\n".encode()


def email(number: int) -> str:
    return f"restart{number}@example.org"


async def submit(api: httpx.AsyncClient, mission_id: str, number: int) -> httpx.Response:
    """Applicant `number`'s application, always the same request: every even one with a slide."""
    fields = {
        "organisation": f"Restart Cluster {number}",
        "organisation_type": "cluster_organisation",
        "country": ("DE", "FR", "IT")[number % 3],
        "city": "Lyon",
        "contact_name": f"Contact {number}",
        "contact_email": email(number),
        "sectors": "Advanced materials",
        "answers": json.dumps({"member_organisations": 10 + number}),
        "consent": "true",
    }
    files = {"slide": (f"slide-{number}.pdf", slide(number), "application/pdf")}
    return await api.post(
        f"/missions/{mission_id}/applications",
        data=fields,
        files=files if number % 2 == 0 else None,
        headers={"Idempotency-Key": f"restart-test-{number}"},
    )


async def test_a_postgres_restart_mid_stream_answers_503_then_every_retry_succeeds(
    api: httpx.AsyncClient,
    dev_env: WorkflowEnvironment,
    cluster: str,
    worker_engine: AsyncEngine,
    settings: Settings,
    mailbox,
) -> None:
    document = rehearsal(matchmaking=None, visits=[])
    document["call"].update(deadline="+PT50M", invitees=[])
    document["selection"].update(decision_due="+PT51M", delegation_lock="+PT52M")
    document["reporting"]["report_due"] = "+PT55M"
    coordinator = {"Authorization": f"Bearer {settings.coordinator_token()}"}
    started = await api.post("/missions", json=document, headers=coordinator)
    assert started.status_code == 201, started.text
    mission_id = document["id"]

    answers: dict[int, list[httpx.Response]] = {n: [] for n in range(APPLICANTS)}
    lanes = asyncio.Semaphore(CONCURRENCY)
    begun = time.monotonic()

    async def first_try(number: int) -> None:
        await asyncio.sleep(number * PACE)
        async with lanes:
            answers[number].append(await submit(api, mission_id, number))

    async def outage() -> tuple[float, float]:
        await asyncio.sleep(RESTART_AFTER)
        down = time.monotonic() - begun
        await asyncio.to_thread(restart, cluster, down_for=DOWN_FOR)
        return down, time.monotonic() - begun

    *_, (down_at, up_at) = await asyncio.gather(
        *(first_try(n) for n in range(APPLICANTS)), outage()
    )
    first = Counter(tries[0].status_code for tries in answers.values())
    assert set(first) <= {200, 201, 503}, [t[0].text for t in answers.values()]
    assert first[503], f"no request met the restart ({down_at:.1f}-{up_at:.1f} s): {first}"

    async def until_taken(number: int) -> None:
        deadline = time.monotonic() + RETRY_WITHIN
        while answers[number][-1].status_code == 503:
            assert answers[number][-1].headers["Retry-After"].isdigit()
            assert time.monotonic() < deadline, answers[number][-1].text
            await asyncio.sleep(1)
            answers[number].append(await submit(api, mission_id, number))

    await asyncio.gather(*(until_taken(n) for n in range(APPLICANTS)))
    every = Counter(answer.status_code for tries in answers.values() for answer in tries)
    assert set(every) <= {200, 201, 503}, _statuses(answers)

    taken = {n: tries[-1].json() for n, tries in answers.items()}
    async with sessions(worker_engine)() as session:
        rows = (
            await session.exec(select(Application).where(Application.mission_id == mission_id))
        ).all()
        slides = (await session.exec(select(Slide).where(Slide.mission_id == mission_id))).all()
    assert [s.filename for s in slides if s.application_id is None] == []  # none left staged
    by_email = {row.contact_email: row for row in rows}
    assert sorted(row.contact_email for row in rows) == sorted(map(email, range(APPLICANTS)))
    for number, answer in taken.items():
        row = by_email[email(number)]
        assert uuid.UUID(answer["application_id"]) == row.id, number
        kept = [s for s in slides if s.application_id == row.id]
        if number % 2 == 0:
            assert [s.sha256 for s in kept] == [hashlib.sha256(slide(number)).hexdigest()]
        else:
            assert kept == [], number
        read = await api.get(
            f"/missions/{mission_id}/applications/{row.id}",
            headers={"X-Access-Token": answer["access_token"]},
        )
        assert read.status_code == 200, read.text

    async def one_confirmation_each() -> None:
        for number in range(APPLICANTS):
            assert len(mailbox.sent("application_received", email(number))) == 1, number

    await eventually(one_confirmation_each, within=60)
    await asyncio.sleep(1)  # a second confirmation would arrive now
    await one_confirmation_each()
    await dev_env.client.get_workflow_handle(f"mission-{mission_id}").terminate("test over")


def _statuses(answers: dict[int, list[httpx.Response]]) -> dict[int, list[int]]:
    return {n: [a.status_code for a in tries] for n, tries in answers.items()}
