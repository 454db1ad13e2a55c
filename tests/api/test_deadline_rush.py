"""The last hour before a popular call's deadline, with the database's pool cut to one connection:
no request holds it while it waits on the mission's workflow, a saturated pool answers 503 with
Retry-After (never a 500), the form comes back with what the applicant typed, and a retried
submission is the same application with one confirmation email."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import func, select
from support import eventually
from temporalio.testing import WorkflowEnvironment
from test_applications_api import application, started

from api.main import create_app
from missionflow.runtime.db import create_engine, sessions
from missionflow.runtime.models import Application
from missionflow.runtime.settings import PoolOptions, Settings
from missionflow.stack.worker import build_worker

APPLICANTS = 20
ONE_CONNECTION = PoolOptions(size=1, max_overflow=0, timeout=1.0)


@pytest.fixture
async def narrow_engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The API's engine, one connection for everyone: a request holding it across a wait on
    Temporal makes every other request time out."""
    engine = create_engine(database_url, ONE_CONNECTION)
    yield engine
    await engine.dispose()


@pytest.fixture
async def rush(
    dev_env: WorkflowEnvironment,
    engine: AsyncEngine,
    narrow_engine: AsyncEngine,
    task_queue: str,
    settings: Settings,
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, client=dev_env.client, engine=narrow_engine, mailbox=False)
    headers = {"Authorization": f"Bearer {settings.coordinator_token()}"}
    async with (
        build_worker(dev_env.client, task_queue=task_queue, engine=engine, settings=settings),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
        ) as client,
    ):
        yield client


def applicant(number: int) -> dict[str, Any]:
    return application(
        organisation=f"Rush Cluster {number}", contact_email=f"rush{number}@example.org"
    )


async def test_twenty_applicants_at_once_share_one_connection(
    rush: httpx.AsyncClient, engine: AsyncEngine, mailbox
) -> None:
    mission = await started(rush)
    path = f"/missions/{mission['id']}/applications"
    answers = await asyncio.gather(*(rush.post(path, json=applicant(n)) for n in range(APPLICANTS)))
    assert [a.status_code for a in answers] == [201] * APPLICANTS, [a.text for a in answers]
    async with sessions(engine)() as session:
        rows = (
            await session.exec(select(Application).where(Application.mission_id == mission["id"]))
        ).all()
    assert sorted(r.contact_email for r in rows) == sorted(
        f"rush{n}@example.org" for n in range(APPLICANTS)
    )

    async def confirmed() -> None:
        for n in range(APPLICANTS):
            assert len(mailbox.sent("application_received", f"rush{n}@example.org")) == 1

    await eventually(confirmed, within=60)


async def test_a_saturated_pool_answers_503_and_the_form_keeps_what_was_typed(
    rush: httpx.AsyncClient, narrow_engine: AsyncEngine, engine: AsyncEngine
) -> None:
    mission = await started(rush)
    form_path = f"/missions/{mission['id']}/apply"
    assert (await rush.get(form_path)).status_code == 200
    # The call is read once, as a first applicant's submission does.
    first = await rush.post(
        f"/missions/{mission['id']}/applications", json=applicant(1), headers={"Authorization": ""}
    )
    assert first.status_code == 201, first.text
    async with narrow_engine.connect() as held:  # the pool's only connection, busy elsewhere
        await held.exec_driver_sql("SELECT 1")
        answer = await rush.get(
            f"/missions/{mission['id']}/applications", params={"status": "received"}
        )
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"].isdigit()
        assert "try again" in answer.json()["detail"]
        page = await rush.post(
            form_path,
            data={
                "organisation": "Typed Cluster Oy",
                "organisation_type": "cluster_organisation",
                "country": "FI",
                "city": "Espoo",
                "contact_name": "Aino Virtanen",
                "contact_email": "aino@example.org",
                "sectors": "Advanced materials",
                "consent": "on",
            },
        )
        assert page.status_code == 503
        assert page.headers["Retry-After"].isdigit()
        assert "text/html" in page.headers["content-type"]
        assert "try again in a moment" in page.text
        assert 'value="Typed Cluster Oy"' in page.text and 'value="aino@example.org"' in page.text
    async with sessions(engine)() as session:
        count = (
            await session.exec(
                select(func.count())
                .select_from(Application)
                .where(Application.contact_email == "aino@example.org")
            )
        ).one()
    assert count == 0  # refused, and nothing half-written


async def test_a_retried_submission_is_the_same_application(
    rush: httpx.AsyncClient, engine: AsyncEngine, mailbox
) -> None:
    mission = await started(rush)
    path = f"/missions/{mission['id']}/applications"
    key = {"Idempotency-Key": "form-4711", "Authorization": ""}
    first = await rush.post(path, json=applicant(7), headers=key)
    assert first.status_code == 201, first.text
    # The answer was lost; the client sends it again, at once and a moment later.
    again = await asyncio.gather(*(rush.post(path, json=applicant(7), headers=key) for _ in "ab"))
    assert [a.status_code for a in again] == [200, 200]
    assert {a.json()["application_id"] for a in again} == {first.json()["application_id"]}
    assert all(a.json()["access_token"] == first.json()["access_token"] for a in again)
    # The same key with another applicant's details names the same application still.
    other = await rush.post(path, json=applicant(8), headers=key)
    assert other.status_code == 200
    assert other.json()["application_id"] == first.json()["application_id"]
    too_long = await rush.post(path, json=applicant(9), headers={"Idempotency-Key": "k" * 201})
    assert too_long.status_code == 422
    assert too_long.json()["detail"][0]["loc"] == ["header", "idempotency-key"]
    await eventually(lambda: _one_email(mailbox, "rush7@example.org"), within=30)
    await asyncio.sleep(2)  # the admitter's next batch would have come by now
    await _one_email(mailbox, "rush7@example.org")
    assert not mailbox.sent("application_received", "rush8@example.org")
    async with sessions(engine)() as session:
        rows = (
            await session.exec(select(Application).where(Application.mission_id == mission["id"]))
        ).all()
    assert [r.contact_email for r in rows] == ["rush7@example.org"]


async def _one_email(mailbox, to: str) -> None:
    assert len(mailbox.sent("application_received", to)) == 1
