"""The mission routes, in-process, against the real Temporal dev server and both databases."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml
from sqlmodel import func, select
from support import EXAMPLES, eventually, example, rehearsal, unique_id
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from api.main import create_app
from missionflow.runtime.models import Mission, PhaseTransition
from missionflow.runtime.settings import Settings
from missionflow.runtime.temporal import MISSION_ID, MISSION_PHASE

TOKEN = "coordinator-token-for-tests"


async def test_start_from_yaml_then_read_it_back(api: httpx.AsyncClient, dev_env) -> None:
    document = rehearsal()
    body = yaml.safe_dump(document)
    response = await api.post(
        "/missions", content=body, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 201, response.text
    mission_id = document["id"]
    assert response.json() == {
        "id": mission_id,
        "workflow_id": f"mission-{mission_id}",
        "phase": "call_open",
        "years_later": 0,
    }
    assert response.headers["location"] == f"/missions/{mission_id}"

    mission = (await api.get(f"/missions/{mission_id}")).json()
    assert mission["phase"] == "call_open" and mission["live"] is True
    deadline = mission["deadline"]
    assert mission["waiting_for"].startswith(
        f"Call open: waiting for the deadline, {deadline['text']}; next reminder "
    )
    assert deadline["zone"] == document["timezone"]
    names = [instant["name"] for instant in mission["instants"]]
    assert names[:6] == [
        "call_opens",
        "reminder:PT1M",
        "reminder:PT30S",
        "deadline",
        "decision_due",
        "delegation_lock",
    ]
    berlin = next(i for i in mission["instants"] if i["name"] == "visit:berlin:starts")
    assert berlin["zone"] == "Europe/Berlin"

    async def recorded() -> None:
        transitions = (await api.get(f"/missions/{mission_id}")).json()["transitions"]
        assert [t["phase"] for t in transitions] == ["call_open"]

    await eventually(recorded)
    description = await dev_env.client.get_workflow_handle(f"mission-{mission_id}").describe()
    assert description.typed_search_attributes.get(MISSION_ID) == mission_id
    assert description.typed_search_attributes.get(MISSION_PHASE) == "call_open"
    summary = await description.static_summary()
    assert summary is not None and document["title"] in summary
    details = await description.static_details()
    assert details is not None and "**the call's deadline**" in details


async def test_start_from_json_and_list(api: httpx.AsyncClient) -> None:
    document = rehearsal()
    response = await api.post("/missions", json=document)
    assert response.status_code == 201, response.text
    listed = (await api.get("/missions")).json()
    assert document["id"] in [m["id"] for m in listed]
    assert document["id"] in [m["id"] for m in (await api.get("/missions?phase=call_open")).json()]
    assert document["id"] not in [m["id"] for m in (await api.get("/missions?phase=visits")).json()]
    assert (await api.get("/missions?phase=sleeping")).status_code == 422


async def test_the_2017_reference_mission_is_refused_live_and_replayed_on_request(
    api: httpx.AsyncClient,
) -> None:
    document = yaml.safe_load((EXAMPLES / "eu-us-2017.yaml").read_text())
    document["id"] = unique_id("eu-us-2017")
    live = await api.post("/missions", json=document)
    assert live.status_code == 422
    assert "replay=true" in live.json()["detail"][0]["msg"]

    replayed = await api.post("/missions?replay=true", json=document)
    assert replayed.status_code == 201, replayed.text
    years = replayed.json()["years_later"]
    assert years >= 10
    mission = (await api.get(f"/missions/{document['id']}")).json()
    year = 2017 + years
    assert mission["deadline"]["text"] == f"22 Mar {year} 24:00 CET (23:00 UTC)"
    philadelphia = next(i for i in mission["instants"] if i["name"] == "visit:philadelphia:starts")
    assert philadelphia["local"] == f"{year}-05-17T09:00:00-04:00"
    assert mission["waiting_for"] in (
        f"Call announced: waiting for the call to open, 15 Feb {year} 09:00 CET (08:00 UTC)",
        f"Call open: waiting for the deadline, 22 Mar {year} 24:00 CET (23:00 UTC)",
    )


async def test_a_duplicate_start_is_a_conflict_and_writes_nothing(
    api: httpx.AsyncClient, session_factory
) -> None:
    document = rehearsal()
    assert (await api.post("/missions", json=document)).status_code == 201
    again = await api.post("/missions", json={**document, "title": "Another title"})
    assert again.status_code == 409
    assert again.json() == {"detail": f"A mission with id {document['id']!r} already exists."}
    async with session_factory() as session:
        count = await session.scalar(
            select(func.count()).select_from(Mission).where(Mission.id == document["id"])
        )
        row = await session.get(Mission, document["id"])
    assert count == 1 and row is not None and row.title == document["title"]


@pytest.mark.parametrize(
    ("change", "location", "message"),
    [
        ({"timezone": "Europe/Atlantis"}, ["body", "timezone"], "unknown time zone"),
        (
            {"call": {**example("rehearsal")["call"], "deadline": "2017-03-22T24:00"}},
            ["body", "call", "deadline"],
            "the deadline has already passed",
        ),
        ({"id": "Not A Slug!"}, ["body", "id"], "String should match pattern"),
        ({"coordinators": []}, ["body", "coordinators"], "at least 1 item"),
        ({"dealine": "+PT2M"}, ["body", "dealine"], "Extra inputs are not permitted"),
    ],
)
async def test_a_bad_file_is_refused_at_its_field_and_leaves_nothing(
    api: httpx.AsyncClient, dev_env, session_factory, change, location, message
) -> None:
    document = rehearsal(**change)
    response = await api.post("/missions", json=document)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert any(e["loc"] == location and message in e["msg"] for e in errors), errors
    await _assert_nothing_left(document["id"], dev_env, session_factory)


async def test_capacity_below_one_is_refused(api: httpx.AsyncClient) -> None:
    document = rehearsal()
    document["selection"]["capacity"] = 0
    response = await api.post("/missions", json=document)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "selection", "capacity"]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "detail"),
    [
        ("id: [unclosed", "application/yaml", 422, "The body is not valid YAML"),
        ("{not json", "application/json", 422, "The body is not valid JSON"),
        ("- a\n- list\n", "application/yaml", 422, "must be a mapping"),
        ("id: x", "text/plain", 415, "application/json or application/yaml"),
        ("x" * (1024 * 1024 + 1), "application/yaml", 413, "at most 1024 KiB"),
    ],
)
async def test_unreadable_bodies(api: httpx.AsyncClient, content, content_type, status, detail):
    response = await api.post("/missions", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert detail in json.dumps(response.json()["detail"])


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/missions"),
        ("POST", "/missions"),
        ("GET", "/missions/anything"),
        ("POST", "/missions/anything/cancel"),
        ("POST", "/missions/anything/deadline"),
    ],
)
async def test_coordinator_routes_need_the_token(api: httpx.AsyncClient, method, path) -> None:
    missing = await api.request(method, path, headers={"Authorization": ""})
    assert missing.status_code == 401
    assert missing.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer" in missing.json()["detail"]
    wrong = await api.request(method, path, headers={"Authorization": "Bearer not-the-token"})
    assert wrong.status_code == 403
    assert wrong.json() == {"detail": "This token is not the coordinator token."}


async def test_cancel_ends_the_mission_and_is_recorded(
    api: httpx.AsyncClient, session_factory
) -> None:
    document = rehearsal()
    await api.post("/missions", json=document)
    mission_id = document["id"]
    assert (
        await api.post(f"/missions/{mission_id}/cancel", json={"reason": ""})
    ).status_code == 422

    response = await api.post(
        f"/missions/{mission_id}/cancel", json={"reason": "Venue closed", "by": "Ana"}
    )
    assert response.status_code == 200, response.text
    assert response.json()["phase"] == "cancelled"
    assert response.json()["waiting_for"].endswith(": Venue closed")

    again = await api.post(f"/missions/{mission_id}/cancel", json={"reason": "twice"})
    assert again.status_code == 409
    assert "already cancelled" in again.json()["detail"] or "has ended" in again.json()["detail"]

    async def stored() -> None:
        async with session_factory() as session:
            row = await session.get(Mission, mission_id)
            phases = (
                await session.exec(
                    select(PhaseTransition.phase).where(PhaseTransition.mission_id == mission_id)
                )
            ).all()
        assert row is not None and row.phase == "cancelled"
        assert row.cancel_reason == "Venue closed" and row.ended_at is not None
        assert sorted(phases) == ["call_open", "cancelled"]

    await eventually(stored)
    assert (await api.post("/missions/nope/cancel", json={"reason": "x"})).status_code == 404

    async def ended() -> None:  # the workflow itself has completed: Temporal refuses Updates
        late = await api.post(f"/missions/{mission_id}/cancel", json={"reason": "again"})
        assert late.status_code == 409
        assert late.json() == {"detail": "The mission has ended; it takes no more requests."}

    await eventually(ended)


async def test_extend_the_deadline(api: httpx.AsyncClient) -> None:
    document = rehearsal()
    await api.post("/missions", json=document)
    mission_id = document["id"]
    before = (await api.get(f"/missions/{mission_id}")).json()["deadline"]

    earlier = await api.post(f"/missions/{mission_id}/deadline", json={"deadline": "+PT1M"})
    assert earlier.status_code == 422
    assert earlier.json()["detail"][0]["loc"] == ["body", "deadline"]
    assert "is not later than the current one" in earlier.json()["detail"][0]["msg"]

    past = await api.post(f"/missions/{mission_id}/deadline", json={"deadline": "2020-01-01T12:00"})
    assert past.status_code == 422 and "has already passed" in past.json()["detail"][0]["msg"]

    garbage = await api.post(f"/missions/{mission_id}/deadline", json={"deadline": "soon"})
    assert garbage.status_code == 422 and "not an ISO 8601 instant" in garbage.text

    after_selection = await api.post(f"/missions/{mission_id}/deadline", json={"deadline": "+PT5M"})
    assert after_selection.status_code == 422
    assert "must come before the selection decision" in after_selection.text

    moved = await api.post(f"/missions/{mission_id}/deadline", json={"deadline": "+PT2M30S"})
    assert moved.status_code == 200, moved.text
    after = moved.json()["deadline"]
    assert after["utc"] > before["utc"]
    assert moved.json()["waiting_for"].startswith(
        f"Call open: waiting for the deadline, {after['text']}"
    )

    cancelled = await api.post(f"/missions/{mission_id}/cancel", json={"reason": "done"})
    assert cancelled.status_code == 200, cancelled.text
    closed = await api.post(f"/missions/{mission_id}/deadline", json={"deadline": "+PT2M40S"})
    assert closed.status_code == 409


async def test_reading_an_unknown_mission_is_404(api: httpx.AsyncClient) -> None:
    response = await api.get("/missions/no-such-mission")
    assert response.status_code == 404
    assert response.json() == {"detail": "No mission with id 'no-such-mission'."}


async def test_healthz(api: httpx.AsyncClient) -> None:
    response = await api.get("/healthz", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "temporal": "ok", "smtp": "ok"}


async def test_without_temporal_health_fails_and_a_start_leaves_nothing(
    engine, session_factory, tmp_path: Path, unused_port: int
) -> None:
    settings = Settings(api_token=TOKEN, home=tmp_path, temporal_address=f"127.0.0.1:{unused_port}")
    app = create_app(settings, engine=engine, mailbox=False)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
    ) as client:
        health = await client.get("/healthz")
        assert health.status_code == 503
        assert health.json()["database"] == "ok" and health.json()["temporal"] != "ok"
        document = rehearsal()
        response = await client.post("/missions", json=document)
        assert response.status_code == 503
        assert "Temporal is not reachable" in response.json()["detail"]
    async with session_factory() as session:
        assert await session.get(Mission, document["id"]) is None


async def test_a_start_temporal_refuses_leaves_no_row(
    dev_env: WorkflowEnvironment, engine, session_factory, tmp_path: Path
) -> None:
    """The row and the workflow go together: when Temporal refuses the start, no row stays."""
    settings = Settings(api_token=TOKEN, home=tmp_path, task_queue="")
    app = create_app(settings, client=dev_env.client, engine=engine, mailbox=False)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test", headers=headers
    ) as client:
        document = rehearsal()
        response = await client.post("/missions", json=document)
    assert response.status_code == 503
    assert "Temporal did not start the mission" in response.json()["detail"]
    await _assert_nothing_left(document["id"], dev_env, session_factory)


async def _assert_nothing_left(mission_id: str, env: WorkflowEnvironment, session_factory) -> None:
    async with session_factory() as session:
        assert await session.get(Mission, mission_id) is None
    with pytest.raises(RPCError) as refused:
        await env.client.get_workflow_handle(f"mission-{mission_id}").describe()
    assert refused.value.status == RPCStatusCode.NOT_FOUND
