"""Limits on meeting requests (`max_pending_requests`, `max_sent_requests`) over HTTP on the
real dev server, SQLite and PostgreSQL: a request past a limit is a 422 naming it, and writes
nothing (no meeting, no email); an answer frees a pending place; the other side asking is an
acceptance, which no limit stops; four requests at once from one participant get exactly the
places left."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import func
from sqlmodel import select
from support import eventually, rehearsal
from test_matchmaking_api import PUBLIC, application

from missionflow.runtime.models import Meeting, OutboxMessage

HOSTS = [
    {
        "name": f"Host {number}",
        "country": "US",
        "sector": "Advanced materials",
        "contact_name": f"Host Contact {number}",
        "contact_email": f"host{number}@hosts.example.com",
    }
    for number in range(1, 6)
]


async def test_a_request_past_a_limit_is_a_422_naming_it_and_writes_nothing(
    api: httpx.AsyncClient, session_factory
) -> None:
    document = rehearsal(visits=[])
    document["call"].update(deadline="+PT3S", reminders=[])
    document["call"]["invitees"] = []
    document["selection"].update(
        capacity=2,
        max_per_country=None,
        decision_due="+PT4S",
        confirm_within="PT3S",
        delegation_lock="+PT7S",
        auto_approve=True,
    )
    document["matchmaking"].update(
        requests_open_at="+PT8S",
        requests_deadline="+PT2M",
        sessions=[{"start": "+PT3M", "end": "+PT4M"}],
        slot_minutes=1,
        tables=2,
        max_meetings_per_participant=3,
        max_pending_requests=2,
        max_sent_requests=3,
    )
    document["reporting"].update(report_due="+PT10M", follow_up=[])
    wrong = await api.post(
        "/missions",
        json={
            **document,
            "matchmaking": {**document["matchmaking"], "max_pending_requests": 0},
        },
    )
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"][-1] == "max_pending_requests"
    created = await api.post("/missions", json=document)
    assert created.status_code == 201, created.text
    mission_id = document["id"]
    mission = f"/missions/{mission_id}"
    links = {}
    for name in ("Alpha", "Beta"):
        made = (await api.post(f"{mission}/applications", json=application(name))).json()
        links[name] = (made["application_id"], made["access_token"])
    loaded = await api.post(f"{mission}/hosts", json=HOSTS)
    assert loaded.status_code == 200, loaded.text
    hosts = [h["id"] for h in sorted(loaded.json()["hosts"], key=lambda h: h["name"])]

    async def seated() -> None:
        for aid, token in links.values():
            answer = await api.post(
                f"{mission}/applications/{aid}/confirm?token={token}", headers=PUBLIC
            )
            assert answer.status_code in (200, 409), answer.text
            mine = (
                await api.get(f"{mission}/applications/{aid}?token={token}", headers=PUBLIC)
            ).json()
            assert mine["seat"] == "confirmed"

    await eventually(seated, within=20)
    alpha, beta = links["Alpha"][0], links["Beta"][0]

    async def ask(requester: str, invitee: str) -> httpx.Response:
        return await api.post(
            f"{mission}/meeting-requests", json={"from": requester, "to": invitee}
        )

    async def opened() -> dict[str, Any]:
        first = await ask(alpha, hosts[0])
        assert first.status_code == 201, first.text
        return first.json()

    first = await eventually(opened, within=20)
    second = await ask(alpha, hosts[1])
    assert second.status_code == 201

    async def written() -> tuple[int, int]:
        async with session_factory() as session:
            meetings = (
                await session.exec(
                    select(func.count())
                    .select_from(Meeting)
                    .where(Meeting.mission_id == mission_id)
                )
            ).one()
            emails = (
                await session.exec(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.mission_id == mission_id)
                )
            ).one()
        return meetings, emails

    before = await written()
    refused = await ask(alpha, hosts[2])
    assert refused.status_code == 422, refused.text
    (detail,) = refused.json()["detail"]
    assert detail["loc"] == ["body", "max_pending_requests"]
    assert detail["msg"].startswith(
        "max_pending_requests: you have 2 requests waiting for an answer (the most this event "
        "allows)"
    )
    assert await written() == before

    # Answers free pending places; the third request is then the last one Alpha may send.
    for meeting, action in ((first, "decline"), (second.json(), "accept")):
        answered = await api.post(f"{mission}/meeting-requests/{meeting['meeting_id']}/{action}")
        assert answered.status_code == 200, answered.text
    assert (await ask(alpha, hosts[2])).status_code == 201
    before = await written()
    over = await ask(alpha, hosts[3])
    assert over.status_code == 422
    assert over.json()["detail"] == [
        {
            "loc": ["body", "max_sent_requests"],
            "msg": "max_sent_requests: you have sent 3 meeting requests (the most this event "
            "allows).",
            "type": "refused",
        }
    ]
    assert await written() == before

    # A host asking Alpha counts against the host; Alpha asking back accepts it, past her limit.
    assert (await ask(hosts[4], alpha)).status_code == 201
    back = await ask(alpha, hosts[4])
    assert back.status_code == 200 and back.json()["status"] == "accepted", back.text

    # Beta asks four hosts at once: two are taken, two refused, whatever the order.
    answers = await asyncio.gather(*(ask(beta, host) for host in hosts[:4]))
    assert sorted(a.status_code for a in answers) == [201, 201, 422, 422], [a.text for a in answers]
    assert all(
        a.json()["detail"][0]["loc"] == ["body", "max_pending_requests"]
        for a in answers
        if a.status_code == 422
    )
    async with session_factory() as session:
        betas = (
            await session.exec(
                select(Meeting).where(
                    Meeting.mission_id == mission_id, Meeting.requester_id == uuid.UUID(beta)
                )
            )
        ).all()
    assert len(betas) == 2 and {m.status for m in betas} == {"pending"}
