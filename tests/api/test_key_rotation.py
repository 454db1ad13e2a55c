"""A key rotation with missions running: a mission started under key A goes on after the worker
and the API restart with key B sealing and A kept to open what A sealed. The new worker, its
cache empty, replays the history sealed under A; an applicant applies under B; the mission's
query answers; and a process that dropped A is told which key it lacks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from support import eventually, payloads_in, rehearsal
from temporalio.api.history.v1 import History
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from missionflow.runtime.codec import KEY_ID, UnsealError
from missionflow.runtime.settings import Settings, new_sealing_key
from missionflow.runtime.temporal import data_converter, sealing_codec
from missionflow.stack.worker import build_worker

KEY_A, KEY_B = new_sealing_key(), new_sealing_key()


def applicant(number: int) -> dict[str, object]:
    return {
        "organisation": f"Rotation Cluster {number}",
        "organisation_type": "cluster_organisation",
        "country": "DE",
        "city": "Munich",
        "contact_name": f"Rotating Applicant {number}",
        "contact_email": f"rotating{number}@example.org",
        "sectors": ["Advanced materials"],
        "answers": {"member_organisations": 10 + number},
        "consent": True,
    }


def with_keys(settings: Settings, keys: dict[str, str], current: str | None = None) -> Settings:
    """The test's settings with these payload keys, checked as at a process's start."""
    return Settings(
        **{**settings.model_dump(), "encryption_keys": keys, "encryption_key_id": current}
    )


@asynccontextmanager
async def deployment(
    env: WorkflowEnvironment, engine: AsyncEngine, settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    """A worker and the API as processes started with `settings` would run them: their own
    client, its converter from these settings, on the same Temporal server."""
    client = Client(
        env.client.service_client,
        namespace=env.client.namespace,
        data_converter=data_converter(settings),
    )
    app = create_app(settings, client=client, engine=engine, mailbox=False)
    headers = {"Authorization": f"Bearer {settings.coordinator_token()}"}
    async with (
        build_worker(client, task_queue=settings.task_queue, engine=engine, settings=settings),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
        ) as api,
    ):
        yield api


async def test_missions_go_on_across_a_key_rotation(
    dev_env: WorkflowEnvironment, engine: AsyncEngine, settings: Settings, mailbox
) -> None:
    before = with_keys(settings, {"a": KEY_A})
    after = with_keys(settings, {"a": KEY_A, "b": KEY_B}, current="b")
    mission = rehearsal()
    path = f"/missions/{mission['id']}/applications"
    async with deployment(dev_env, engine, before) as api:
        assert (await api.post("/missions", json=mission)).status_code == 201
        first = await api.post(path, json=applicant(1))
        assert first.status_code == 201, first.text
        await eventually(lambda: _told(mailbox, "rotating1@example.org"))

    async with deployment(dev_env, engine, after) as api:
        second = await api.post(path, json=applicant(2))
        assert second.status_code == 201, second.text
        await eventually(lambda: _told(mailbox, "rotating2@example.org"))
        shown = await api.get(f"/missions/{mission['id']}")
        assert shown.status_code == 200, shown.text
        assert shown.json()["applications"] == 2, "the query answers, under key B"
        again = await api.post(path, json=applicant(1))
        assert again.status_code == 200, "the first applicant, sealed under A, is recognised"
        assert again.json()["application_id"] == first.json()["application_id"]

    workflow_id = f"mission-{mission['id']}"
    history = await dev_env.client.get_workflow_handle(workflow_id).fetch_history()
    sealed = [p for p in payloads_in(History(events=history.events)) if KEY_ID in p.metadata]
    assert {p.metadata[KEY_ID] for p in sealed} == {b"a", b"b"}, "both keys sealed some of it"
    assert sealed[0].metadata[KEY_ID] == b"a" and sealed[-1].metadata[KEY_ID] == b"b"

    only_b = sealing_codec(Settings(encryption_keys={"b": KEY_B}))
    with pytest.raises(UnsealError, match="sealed with key 'a', which is not configured here"):
        await only_b.decode(sealed)
    await dev_env.client.get_workflow_handle(workflow_id).terminate("test over")


async def _told(mailbox, address: str) -> None:
    assert mailbox.sent("application_received", address)
