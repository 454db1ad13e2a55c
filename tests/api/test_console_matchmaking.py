"""The console's matchmaking page over HTTP with real sign-ins, on the real dev server and both
databases: who sees it and who gets the forms, a hosts CSV refused at its rows and columns with
nothing loaded, then loaded; and a mission walked to a schedule whose grid names the meetings,
one left unplaced with its reason, and attendance recorded where the report reads it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from sqlmodel import select
from support import eventually, rehearsal
from test_console_pages import csrf_of, signed_in
from test_matchmaking_api import HOSTS_CSV, application
from test_people_and_roles import member, mission, person

from missionflow.domain.instants import local
from missionflow.domain.matchmaking.rules import SlotTime, slots_of
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime.models import Host, Meeting, Mission

Browser = Callable[[], httpx.AsyncClient]
PUBLIC = {"Authorization": ""}

GOOD_CSV = HOSTS_CSV.replace("session-9", "session-1")
"""Philly Energy Labs cannot meet in the event's one session."""
BAD_CSV = (
    "name,country,sector,description,contact_name,contact_email,unavailable\n"
    "Boston Nanofab,US,Advanced materials,Thin films,Hope Host,hope@nanofab.example.com,session-9\n"
    "Philly Energy Labs,XX,Energy and sustainability,,Paul Host,paul@energy.example.com,\n"
)


def upload(csv: str, csrf: str) -> dict[str, Any]:
    return {"data": {"csrf_token": csrf}, "files": {"hosts": ("hosts.csv", csv, "text/csv")}}


async def hosts_of(session_factory: Any, mission_id: str) -> list[str]:
    async with session_factory() as session:
        rows = await session.exec(select(Host.name).where(Host.mission_id == mission_id))
        return sorted(rows.all())


async def test_who_sees_the_page_and_a_hosts_csv_refused_then_loaded(
    api: httpx.AsyncClient, browsers: Browser, session_factory: Any
) -> None:
    ours, theirs = await mission(api), await mission(api)
    for email, name in (
        ("cora@example.org", "Cora Coordinator"),
        ("vera@example.org", "Vera Viewer"),
        ("rene@example.org", "Rene Reviewer"),
        ("oona@example.org", "Oona Outsider"),
    ):
        await person(api, email, name)
    await member(api, ours, "cora@example.org", "coordinator")
    await member(api, ours, "vera@example.org", "viewer")
    await member(api, ours, "rene@example.org", "reviewer")
    await member(api, theirs, "oona@example.org", "owner")
    path = f"/console/missions/{ours}/matchmaking"

    coordinator = browsers()
    await signed_in(coordinator, "cora@example.org")
    page = await coordinator.get(path)
    assert page.status_code == 200, page.text
    assert 'id="load-hosts"' in page.text and 'enctype="multipart/form-data"' in page.text
    assert "Matchmaking comes once the delegation locks, planned for" in page.text
    assert "America/New_York" in page.text and 'aria-current="page"' in page.text
    assert "No host is loaded yet." in page.text and "No meeting is placed yet" in page.text
    csrf = csrf_of(page)

    unproven = await coordinator.post(f"{path}/hosts", **upload(GOOD_CSV, "not it"))
    assert unproven.status_code == 403
    empty = await coordinator.post(f"{path}/hosts", **upload("", csrf))
    assert empty.status_code == 422 and 'id="hosts-error"' in empty.text
    assert "Choose the hosts&#39; CSV file" in empty.text
    huge = await coordinator.post(f"{path}/hosts", **upload("x" * (2 << 20) + "\n", csrf))
    assert huge.status_code == 413 and "At most 2 MiB of hosts." in huge.text
    assert 'id="hosts-error"' in huge.text

    bad = await coordinator.post(f"{path}/hosts", **upload(BAD_CSV, csrf))
    assert bad.status_code == 422, bad.text
    assert 'id="hosts-error"' in bad.text and "Nothing was loaded" in bad.text
    errors = bad.text.split('id="host-errors"')[1].split("</table>")[0]
    assert "<td>1</td><td>unavailable</td><td>No slot or session named session-9" in errors
    assert "<td>2</td><td>country</td>" in errors
    assert await hosts_of(session_factory, ours) == [], "one wrong row: nothing loaded"
    assert (await api.get(f"/missions/{ours}/hosts")).json() == []

    loaded = await coordinator.post(f"{path}/hosts", **upload(GOOD_CSV, csrf))
    assert (loaded.status_code, loaded.headers["location"]) == (303, f"{path}?done=hosts")
    shown = await coordinator.get(loaded.headers["location"])
    assert "The hosts are loaded" in shown.text
    assert "<td>Boston Nanofab</td>" in shown.text and "session-9" not in shown.text
    assert await hosts_of(session_factory, ours) == ["Boston Nanofab", "Philly Energy Labs"]
    listed = {h["name"] for h in (await api.get(f"/missions/{ours}/hosts")).json()}
    assert listed == {"Boston Nanofab", "Philly Energy Labs"}, "what the JSON route lists"

    viewer = browsers()
    await signed_in(viewer, "vera@example.org")
    seen = await viewer.get(path)
    assert seen.status_code == 200, seen.text
    assert "<td>Boston Nanofab</td>" in seen.text and 'id="load-hosts"' not in seen.text
    refused = await viewer.post(f"{path}/hosts", **upload(GOOD_CSV, csrf_of(seen)))
    assert refused.status_code == 403

    reviewer = browsers()
    await signed_in(reviewer, "rene@example.org")
    assert (await reviewer.get(path)).status_code == 403

    outsider = browsers()
    await signed_in(outsider, "oona@example.org")
    hidden = await outsider.get(path)
    assert hidden.status_code == 404 and f"No mission with id &#39;{ours}&#39;" in hidden.text
    posted = await outsider.post(
        f"{path}/hosts", **upload(GOOD_CSV, csrf_of(await outsider.get("/console")))
    )
    assert posted.status_code == 404
    assert (await outsider.get(f"/console/missions/{theirs}/matchmaking")).status_code == 200

    document = rehearsal(matchmaking=None)
    assert (await api.post("/missions", json=document)).status_code == 201
    none = await api.get(f"/console/missions/{document['id']}/matchmaking")
    assert none.status_code == 200 and "This mission has no matchmaking event." in none.text


def quick_matchmaking() -> dict[str, Any]:
    """A mission in matchmaking 8 s after it starts, its schedule placed at 25 s, the event's one
    session of three one-minute slots from 30 s (as in test_matchmaking_api, one slot longer)."""
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
        sessions=[{"start": "+PT30S", "end": "+PT3M30S"}],
        slot_minutes=1,
        tables=2,
        max_meetings_per_participant=2,
    )
    document["reporting"].update(report_due="+PT5M", follow_up=[])
    return document


def forcing_a_break(slots: list[SlotTime]) -> str:
    """Hosts whose availability decides the schedule: Alpha meets Boston Nanofab in the first
    slot and Gamma Labs in the third (a break between), Beta and Philly Energy Labs never."""
    first, second, third = (slot.id for slot in slots)
    return (
        f"{GOOD_CSV}"
        f"Gamma Labs,US,Advanced materials,,Gail Host,gail@gamma.example.com,{first};{second}\n"
    ).replace(
        "Hope Host,hope@nanofab.example.com,",
        f"Hope Host,hope@nanofab.example.com,{second};{third}",
    )


async def test_the_grid_names_the_meetings_and_attendance_is_recorded(
    api: httpx.AsyncClient, browsers: Browser, session_factory: Any
) -> None:
    document = quick_matchmaking()
    assert (await api.post("/missions", json=document)).status_code == 201
    ours = document["id"]
    api_path, path = f"/missions/{ours}", f"/console/missions/{ours}/matchmaking"
    async with session_factory() as session:
        row = await session.get(Mission, ours)
        assert row is not None
    event = MissionFile.model_validate(row.file).matchmaking
    assert event is not None
    slots = slots_of(event)
    await person(api, "olga@example.org", "Olga Owner")
    await person(api, "vera@example.org", "Vera Viewer")
    await member(api, ours, "olga@example.org", "owner")
    await member(api, ours, "vera@example.org", "viewer")
    links = {}
    for name in ("Alpha", "Beta"):
        created = (await api.post(f"{api_path}/applications", json=application(name))).json()
        links[name] = (created["application_id"], created["access_token"])

    owner = browsers()
    await signed_in(owner, "olga@example.org")
    csrf = csrf_of(await owner.get(path))
    loaded = await owner.post(f"{path}/hosts", **upload(forcing_a_break(slots), csrf))
    assert loaded.status_code == 303, loaded.text
    hosts = {h["name"]: h for h in (await api.get(f"{api_path}/hosts")).json()}

    async def seated() -> None:
        for aid, token in links.values():
            answer = await api.post(
                f"{api_path}/applications/{aid}/confirm?token={token}", headers=PUBLIC
            )
            assert answer.status_code in (200, 409), answer.text
            mine = (
                await api.get(f"{api_path}/applications/{aid}?token={token}", headers=PUBLIC)
            ).json()
            assert mine["seat"] == "confirmed"

    await eventually(seated, within=20)
    meetings = {}
    for delegate, host in (
        ("Alpha", "Boston Nanofab"),
        ("Alpha", "Gamma Labs"),
        ("Beta", "Philly Energy Labs"),
    ):
        aid, token = links[delegate]

        async def requested(aid: str = aid, token: str = token, host: str = host) -> str:
            response = await api.post(
                f"{api_path}/meeting-requests?token={token}",
                json={"from": aid, "to": hosts[host]["id"], "priority": 3},
                headers=PUBLIC,
            )
            assert response.status_code == 201, response.text
            return response.json()["meeting_id"]

        meetings[host] = await eventually(requested, within=20)
        if host != "Gamma Labs":
            host_token = hosts[host]["private_url"].split("token=")[1]
            accepted = await api.post(
                f"{api_path}/meeting-requests/{meetings[host]}/accept?token={host_token}",
                headers=PUBLIC,
            )
            assert accepted.status_code == 200, accepted.text

    during = (await owner.get(path)).text
    assert "Matchmaking comes once" not in during, "the phase has come"
    requests = during.split('id="requests"')[1].split("</table>")[0]
    assert (
        '<tr><td>Alpha Cluster <span class="muted">(delegate)</span></td>'
        '<td>Boston Nanofab <span class="muted">(host)</span></td><td>3</td><td>accepted</td>'
    ) in requests, "who asked whom, and the state"
    assert '<td>Gamma Labs <span class="muted">(host)</span></td><td>3</td><td>pending</td>' in (
        requests
    )
    gamma_token = hosts["Gamma Labs"]["private_url"].split("token=")[1]
    accepted = await api.post(
        f"{api_path}/meeting-requests/{meetings['Gamma Labs']}/accept?token={gamma_token}",
        headers=PUBLIC,
    )
    assert accepted.status_code == 200, accepted.text

    async def scheduled() -> str:
        page = (await owner.get(path)).text
        assert 'id="grid"' in page, "the schedule is placed at the request deadline"
        return page

    page = await eventually(scheduled, within=40)
    grid = page.split('id="grid"')[1].split("</table>")[0]
    lines = grid.split("<tr")[2:]  # after the heading
    assert len(lines) == 3 and "Table 2" in grid, "three slots × two tables"
    for line, host in zip(lines, ("Boston Nanofab", None, "Gamma Labs"), strict=True):
        if host is None:
            assert line.count('<td class="free">') == 2, "nobody meets in the second slot"
        else:
            assert f'id="cell-{meetings[host]}">Alpha Cluster<br>meets {host}</td>' in line
    figures = (await api.get(f"{api_path}/agenda")).json()["schedule"]
    assert (figures["scheduled"], figures["breaks"]) == (2, 1)
    assert f"2 of at most {figures['upper_bound']} (the most any schedule places)" in page
    assert "Breaks</dt><dd>1 (" in page
    idle, next_meeting = (local(slot.start, event.timezone) for slot in slots[1:])
    gap = f"{idle:%H:%M}–{next_meeting:%H:%M}"
    assert f"<tr><td>Alpha Cluster</td><td>1 break: {gap}</td></tr>" in page
    not_placed = page.split('id="unscheduled"')[1].split("</table>")[0]
    assert "<td>Beta Cluster</td><td>Philly Energy Labs</td><td>3</td>" in not_placed
    reason = not_placed.split("<td>3</td><td>")[1].split("</td>")[0]
    assert "are never available in the same slot" in reason
    assert "Beta Cluster" in reason and "Philly Energy Labs" in reason, "names for its ids"
    async with session_factory() as session:
        unplaced = await session.get(Meeting, uuid.UUID(meetings["Philly Energy Labs"]))
        assert unplaced is not None and unplaced.unscheduled_reason
        assert str(unplaced.invitee_id) in unplaced.unscheduled_reason, "the scheduler's words"

    placed = meetings["Boston Nanofab"]
    viewer = browsers()
    await signed_in(viewer, "vera@example.org")
    seen = await viewer.get(path)
    assert f'id="cell-{placed}"' in seen.text and "/attendance" not in seen.text, "no forms"
    refused = await viewer.post(
        f"{path}/meetings/{placed}/attendance",
        data={"csrf_token": csrf_of(seen), "attendance": "held"},
    )
    assert refused.status_code == 403

    mark = f"{path}/meetings/{placed}/attendance"
    wrong = await owner.post(mark, data={"csrf_token": csrf, "attendance": "maybe"})
    assert wrong.status_code == 422 and f'id="attendance-{placed}-error"' in wrong.text
    nowhere = await owner.post(
        f"{path}/meetings/{uuid.uuid4()}/attendance",
        data={"csrf_token": csrf, "attendance": "held"},
    )
    assert nowhere.status_code in (404, 409) and 'class="problem"' in nowhere.text
    not_scheduled = await owner.post(
        f"{path}/meetings/{meetings['Philly Energy Labs']}/attendance",
        data={"csrf_token": csrf, "attendance": "held"},
    )
    assert not_scheduled.status_code == 409 and 'class="problem"' in not_scheduled.text

    async def held() -> httpx.Response:
        answer = await owner.post(mark, data={"csrf_token": csrf, "attendance": "held"})
        assert answer.status_code == 303, "taken once the session has started"
        return answer

    answer = await eventually(held, within=20)
    assert answer.headers["location"] == f"{path}?done=attendance#meeting-{placed}"
    no_show = await owner.post(
        f"{path}/meetings/{meetings['Gamma Labs']}/attendance",
        data={"csrf_token": csrf, "attendance": "no_show"},
    )
    assert no_show.status_code == 303, no_show.text
    after = (await owner.get(answer.headers["location"])).text
    assert "Attendance is recorded" in after
    cell = f'id="cell-{placed}">Alpha Cluster<br>meets Boston Nanofab<br><span class="held">'
    assert cell in after
    assert f'id="cell-{meetings["Gamma Labs"]}">Alpha Cluster<br>meets Gamma Labs<br>' in after
    async with session_factory() as session:
        rows = (await session.exec(select(Meeting).where(Meeting.mission_id == ours))).all()
    marked = {str(m.id): m.attendance for m in rows}
    assert marked == {
        placed: "held",
        meetings["Gamma Labs"]: "no_show",
        meetings["Philly Energy Labs"]: None,
    }, "what the report counts"
    grid_json = (await api.get(f"{api_path}/agenda")).json()["meetings"]
    assert {m["meeting_id"]: m["attendance"] for m in grid_json} == marked
