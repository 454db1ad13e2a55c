"""The matchmaking event's check-in desk over HTTP, on the real dev server and both databases:
a host checked in by a scanning app's JSON route (its code in any case, then its link: checked
in once, the second scan says since when), a delegate by the console's form (the link a phone
opens names them first), an unknown code refused at its field with nothing written, the counts
by side, who may read and who may check in, the report's arrival figures equal to the check-ins
made, and a desk that is not open yet."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from support import eventually, rehearsal
from test_console_pages import Browser, csrf_of, signed_in
from test_matchmaking_api import HOSTS_CSV, PUBLIC, application
from test_people_and_roles import member, person

from activities.report import read as report_input
from missionflow.domain.matchmaking.check_in import check_in_code
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.reporting.figures import figures
from missionflow.domain.reporting.messages import ReportingNotice
from missionflow.runtime.check_ins import CheckIn, check_in_url
from missionflow.runtime.models import Mission
from missionflow.runtime.settings import Settings

HOSTS = HOSTS_CSV.replace("session-9", "")


def desk_mission(first_session: str) -> dict[str, Any]:
    """Two delegates seated within seconds; the first session at `first_session`."""
    document = rehearsal(visits=[])
    document["call"].update(deadline="+PT3S", reminders=[], invitees=[])
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
        requests_deadline="+PT25S",
        sessions=[{"start": first_session, "end": "+PT4H"}],
        slot_minutes=20,
        tables=2,
        max_meetings_per_participant=2,
    )
    document["reporting"].update(report_due="+PT5H", follow_up=[])
    return document


async def started(api: httpx.AsyncClient, document: dict[str, Any]) -> dict[str, Any]:
    """The mission started with its hosts; the hosts by name."""
    assert (await api.post("/missions", json=document)).status_code == 201
    loaded = await api.post(
        f"/missions/{document['id']}/hosts", content=HOSTS, headers={"Content-Type": "text/csv"}
    )
    assert loaded.status_code == 200, loaded.text
    return {h["name"]: h for h in loaded.json()["hosts"]}


async def stored(factory: async_sessionmaker[AsyncSession], mission_id: str) -> list[CheckIn]:
    async with factory() as session:
        return list(
            (await session.exec(select(CheckIn).where(CheckIn.mission_id == mission_id))).all()
        )


async def test_the_desk_by_json_and_by_the_console(
    api: httpx.AsyncClient,
    browsers: Browser,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await person(api, "cora@example.org", "Cora Coordinator")
    await person(api, "vera@example.org", "Vera Viewer")
    coordinator, viewer = browsers(), browsers()
    await signed_in(coordinator, "cora@example.org")
    await signed_in(viewer, "vera@example.org")
    document = desk_mission("+PT40S")
    ours = document["id"]
    hosts = await started(api, document)
    await member(api, ours, "cora@example.org", "coordinator")
    await member(api, ours, "vera@example.org", "viewer")
    mission = f"/missions/{ours}"
    links = {}
    for name in ("Alpha", "Beta"):
        created = (await api.post(f"{mission}/applications", json=application(name))).json()
        links[name] = (uuid.UUID(created["application_id"]), created["access_token"])
    secret = settings.link_secret()
    nanofab = uuid.UUID(hosts["Boston Nanofab"]["id"])

    # A scanning app: the code as typed from a phone, in lower case, without its dash.
    typed = check_in_code(secret, nanofab).replace("-", "").lower()
    first = await api.post(f"{mission}/check-ins", json={"code": typed})
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert (receipt["name"], receipt["side"], receipt["already"]) == (
        "Boston Nanofab",
        "host",
        False,
    )
    again = await api.post(
        f"{mission}/check-ins", json={"code": check_in_url(settings, ours, nanofab)}
    )
    assert again.status_code == 200 and again.json()["already"] is True
    assert again.json()["checked_in_at"] == receipt["checked_in_at"]
    for bad in ("AAAAA-AAAAA", "not a code", f"{settings.base_url}/console?code=ZZ"):
        unknown = await api.post(f"{mission}/check-ins", json={"code": bad})
        assert unknown.status_code == 422, unknown.text
        assert unknown.json()["detail"][0]["loc"] == ["body", "code"]
        assert "No participant of this event has this check-in code." in unknown.text
    for body in ({}, {"code": ""}, {"code": "x" * 2001}, {"code": 5}):
        refused = await api.post(f"{mission}/check-ins", json=body)
        assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == [
            "body",
            "code",
        ]
    # An applicant without a confirmed seat has no code that works: the delegation checks in.
    alpha, _ = links["Alpha"]
    unseated = await api.post(f"{mission}/check-ins", json={"code": check_in_code(secret, alpha)})
    assert unseated.status_code == 422
    assert [(r.participant_id, r.side) for r in await stored(session_factory, ours)] == [
        (nanofab, "host")
    ]

    async def seated() -> None:
        for aid, token in links.values():
            await api.post(f"{mission}/applications/{aid}/confirm?token={token}", headers=PUBLIC)
            mine = (
                await api.get(f"{mission}/applications/{aid}?token={token}", headers=PUBLIC)
            ).json()
            assert mine["seat"] == "confirmed"

    await eventually(seated, within=30)

    # The console: a viewer reads, without the form; a coordinator's phone opens the link.
    path = f"/console/missions/{ours}/check-in"
    read = await viewer.get(path)
    assert read.status_code == 200, read.text
    assert 'aria-current="page">Check-in</a>' in read.text
    assert 'name="code"' not in read.text
    assert "Arrived: 1 of 4" in read.text and "1 of 2 hosts" in read.text
    link = check_in_url(settings, ours, alpha)
    opened = await coordinator.get(link.removeprefix(settings.base_url))
    assert opened.status_code == 200, opened.text
    assert "This is the code of <strong>Alpha Cluster</strong>" in opened.text
    csrf = csrf_of(opened)
    assert (
        await viewer.post(path, data={"csrf_token": csrf_of(read), "code": link})
    ).status_code == 403
    assert (await coordinator.post(path, data={"code": link})).status_code == 403  # no CSRF
    wrong = await coordinator.post(path, data={"csrf_token": csrf, "code": "BBBBB-BBBBB"})
    assert wrong.status_code == 422
    assert 'id="code-error"' in wrong.text and "No participant of this event" in wrong.text
    assert 'aria-invalid="true"' in wrong.text and 'value="BBBBB-BBBBB"' in wrong.text
    empty = await coordinator.post(path, data={"csrf_token": csrf, "code": ""})
    assert empty.status_code == 422 and 'id="code-error"' in empty.text
    nul = await coordinator.post(path, data={"csrf_token": csrf, "code": link + "\x00"})
    assert nul.status_code == 422 and "NUL character" in nul.text
    assert len(await stored(session_factory, ours)) == 1

    scanned = await coordinator.post(path, data={"csrf_token": csrf, "code": link})
    assert scanned.status_code == 303, scanned.text
    assert scanned.headers["location"] == f"{path}?checked={alpha}"
    after = await coordinator.get(scanned.headers["location"])
    assert "Alpha Cluster (delegate) is checked in, at" in after.text
    assert "Arrived: 2 of 4" in after.text and "1 of 2 delegates, 1 of 2 hosts" in after.text
    twice = await coordinator.post(path, data={"csrf_token": csrf, "code": link})
    assert twice.headers["location"] == f"{path}?checked={alpha}&already=1"
    said = (await coordinator.get(twice.headers["location"])).text
    assert "Alpha Cluster (delegate) is already checked in: since" in said
    assert "by Cora Coordinator" in said

    rows = {r.participant_id: r for r in await stored(session_factory, ours)}
    assert set(rows) == {nanofab, alpha}
    assert (
        rows[alpha].checked_in_by == "Cora Coordinator <cora@example.org>"
        and rows[alpha].side == "delegate"
    )
    listed = (await api.get(f"{mission}/check-ins")).json()
    assert listed["arrived"] == {"delegate": 1, "host": 1}
    assert listed["expected"] == {"delegate": 2, "host": 2}
    assert [a["name"] for a in listed["arrivals"]] == ["Alpha Cluster", "Boston Nanofab"]

    # The report reads the same arrivals: its figures are the check-ins made.
    async with session_factory() as session:
        plan = MissionFile.model_validate((await session.get(Mission, ours)).file)
        notice = ReportingNotice(mission_id=ours, at=datetime.now(UTC), version=1)
        day = figures(await report_input(session, plan, notice))["arrivals"]
    assert (day["expected"], day["arrived"], day["not_arrived"]) == (4, 2, 2)
    for side in ("delegate", "host"):
        assert day["by_side"][side]["arrived"] == listed["arrived"][side]
        assert day["by_side"][side]["expected"] == listed["expected"][side]
    assert day["meetings"] == {"scheduled": 0, "held": 0, "no_show": 0, "not_recorded": 0}


async def test_the_desk_opens_two_hours_before_the_first_session(
    api: httpx.AsyncClient,
    browsers: Browser,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    document = desk_mission("+PT2H30M")
    hosts = await started(api, document)
    code = check_in_code(settings.link_secret(), uuid.UUID(hosts["Boston Nanofab"]["id"]))
    early = await api.post(f"/missions/{document['id']}/check-ins", json={"code": code})
    assert early.status_code == 409, early.text
    assert "Check-in opens on" in early.json()["detail"]
    assert "two hours before the first session" in early.json()["detail"]
    await person(api, "cora@example.org", "Cora Coordinator")
    await member(api, document["id"], "cora@example.org", "coordinator")
    coordinator = browsers()
    await signed_in(coordinator, "cora@example.org")
    path = f"/console/missions/{document['id']}/check-in"
    csrf = csrf_of(await coordinator.get(path))
    form = await coordinator.post(path, data={"csrf_token": csrf, "code": code})
    assert form.status_code == 409 and 'class="problem"' in form.text
    assert "Check-in opens on" in form.text
    assert await stored(session_factory, document["id"]) == []
