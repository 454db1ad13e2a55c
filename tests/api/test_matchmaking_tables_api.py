"""Named tables, a host's fixed table and remote meetings over HTTP on the real dev server:
the hosts CSV's `table` and `remote` columns refused at their row and column, the schedule
keeping the fixed table and giving a remote meeting none, and the calendar files naming the
table and its location, or carrying the video link."""

from __future__ import annotations

from typing import Any

import httpx
from conftest import Browser
from icalendar import Calendar
from support import eventually, rehearsal
from test_console_pages import signed_in
from test_matchmaking_api import PUBLIC, application
from test_people_and_roles import member, person

TABLES = [
    {"id": "a1", "name": "Table A1", "location": "Hall B"},
    {"id": "salon", "name": "Salon rouge", "location": "First floor"},
]
HEADER = "name,country,sector,contact_name,contact_email,table,remote\n"
NANOFAB = "Boston Nanofab,US,Advanced materials,Hope Host,hope@nanofab.example.com"
ENERGY = "Philly Energy Labs,US,Energy and sustainability,Paul Host,paul@energy.example.com"
CSV = "text/csv"


async def test_fixed_tables_and_remote_meetings_over_http(
    api: httpx.AsyncClient, browsers: Browser
) -> None:
    document = rehearsal(visits=[])
    document["call"].update(deadline="+PT3S", reminders=[])
    document["call"]["invitees"] = []
    document["selection"].update(
        capacity=3,
        max_per_country=None,
        decision_due="+PT4S",
        confirm_within="PT3S",
        delegation_lock="+PT7S",
        auto_approve=True,
    )
    document["matchmaking"].update(
        requests_open_at="+PT8S",
        requests_deadline="+PT25S",
        sessions=[{"start": "+PT30S", "end": "+PT2M30S"}],
        slot_minutes=1,
        tables=TABLES,
        video_link="https://meet.example.org/{mission}-{meeting}",
        max_meetings_per_participant=2,
    )
    document["reporting"].update(report_due="+PT5M", follow_up=[])
    created = await api.post("/missions", json=document)
    assert created.status_code == 201, created.text
    mission_id = document["id"]
    mission = f"/missions/{mission_id}"
    links = {}
    for name in ("Alpha", "Beta", "Gamma"):
        made = (await api.post(f"{mission}/applications", json=application(name))).json()
        links[name] = (made["application_id"], made["access_token"])

    unknown = await api.post(
        f"{mission}/hosts",
        content=f"{HEADER}{NANOFAB},salon,\n{ENERGY},z9,\n",
        headers={"Content-Type": CSV},
    )
    assert unknown.status_code == 422
    ((problem),) = unknown.json()["detail"]
    assert problem["loc"] == ["body", 1, "table"]
    assert problem["msg"] == "No table z9; the tables are a1, salon."
    both = await api.post(
        f"{mission}/hosts", content=f"{HEADER}{ENERGY},a1,yes\n", headers={"Content-Type": CSV}
    )
    assert both.status_code == 422
    assert [e["loc"] for e in both.json()["detail"]] == [["body", 0, "remote"]]
    assert (await api.get(f"{mission}/hosts")).json() == []  # a refused file loads nobody
    loaded = await api.post(
        f"{mission}/hosts",
        content=f"{HEADER}{NANOFAB},salon,\n{ENERGY},,yes\n",
        headers={"Content-Type": CSV},
    )
    assert loaded.status_code == 200, loaded.text
    hosts = {h["name"]: h for h in loaded.json()["hosts"]}
    nanofab, energy = hosts["Boston Nanofab"], hosts["Philly Energy Labs"]
    assert (nanofab["table"], nanofab["remote"], energy["table"], energy["remote"]) == (
        "salon",
        False,
        None,
        True,
    )
    host_token = nanofab["private_url"].split("token=")[1]

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
    (alpha, alpha_token), (beta, beta_token) = links["Alpha"], links["Beta"]
    gamma, gamma_token = links["Gamma"]

    remote_url = f"{mission}/participants/{{}}/remote"
    marked = await api.put(remote_url.format(gamma), json={"remote": True})
    assert marked.status_code == 200, marked.text
    assert marked.json() == {"participant_id": gamma, "remote": True, "changed": True}
    again = await api.put(remote_url.format(gamma), json={"remote": True})
    assert again.json()["changed"] is False
    seated_host = await api.put(remote_url.format(nanofab["id"]), json={"remote": True})
    assert seated_host.status_code == 422
    assert seated_host.json()["detail"][0]["loc"] == ["body", "remote"]
    for body in ({}, {"remote": "yes"}, {"remote": True, "table": "a1"}):
        wrong = await api.put(remote_url.format(alpha), json=body)
        assert wrong.status_code == 422, body
    nobody = await api.put(
        remote_url.format("00000000-0000-4000-8000-000000000000"), json={"remote": True}
    )
    assert nobody.status_code == 404

    async def requested(who: str, token: str, host: dict[str, Any]) -> str:
        response = await api.post(
            f"{mission}/meeting-requests?token={token}",
            json={"from": who, "to": host["id"], "priority": 2},
            headers=PUBLIC,
        )
        assert response.status_code == 201, response.text
        return str(response.json()["meeting_id"])

    in_person = await eventually(lambda: requested(alpha, alpha_token, nanofab), within=20)
    remote = await requested(beta, beta_token, energy)
    remote_delegate = await requested(gamma, gamma_token, nanofab)
    for meeting in (in_person, remote, remote_delegate):
        accepted = await api.post(f"{mission}/meeting-requests/{meeting}/accept")
        assert accepted.status_code == 200, accepted.text

    async def scheduled() -> dict[str, Any]:
        grid = (await api.get(f"{mission}/agenda")).json()
        assert len(grid["meetings"]) == 3 and all(m["slot"] for m in grid["meetings"])
        return {m["meeting_id"]: m for m in grid["meetings"]}

    grid = await eventually(scheduled, within=40)
    assert grid[in_person]["table"] == 2  # Salon rouge, Nanofab's fixed table
    assert grid[remote]["table"] is None
    assert grid[remote_delegate]["table"] is None  # Gamma is remote: no table, even Nanofab's

    ics = await api.get(
        f"{mission}/participants/{nanofab['id']}/agenda.ics?token={host_token}", headers=PUBLIC
    )
    assert ics.status_code == 200, ics.text
    events = {
        str(e["UID"]).split("@")[0]: e for e in Calendar.from_ical(ics.content).walk("VEVENT")
    }
    assert str(events[in_person]["LOCATION"]).endswith(", Salon rouge, First floor")
    assert "URL" not in events[in_person]
    link = f"https://meet.example.org/{mission_id}-{remote_delegate}"
    assert str(events[remote_delegate]["URL"]) == link

    ics = await api.get(
        f"{mission}/participants/{beta}/agenda.ics?token={beta_token}", headers=PUBLIC
    )
    assert ics.status_code == 200, ics.text
    (vevent,) = Calendar.from_ical(ics.content).walk("VEVENT")
    link = f"https://meet.example.org/{mission_id}-{remote}"
    assert str(vevent["LOCATION"]) == link and str(vevent["URL"]) == link
    assert f"Video link: {link}" in str(vevent["DESCRIPTION"])

    await person(api, "cora@example.org", "Cora Coordinator")
    await member(api, mission_id, "cora@example.org", "coordinator")
    coordinator = browsers()
    await signed_in(coordinator, "cora@example.org")
    page = await coordinator.get(f"/console/missions/{mission_id}/matchmaking")
    assert page.status_code == 200, page.text
    head = page.text.split('id="grid"')[1].split("</thead>")[0]
    assert '<th scope="col">Table A1<br><span class="muted">Hall B</span></th>' in head
    assert '<th scope="col">Salon rouge<br><span class="muted">First floor</span></th>' in head
    assert '<th scope="col">By video</th>' in head
    assert "<td>at Salon rouge</td>" in page.text and "<td>by video</td>" in page.text
    cells = page.text.split('id="grid"')[1].split("</table>")[0]
    assert f'<span id="cell-{remote}">Beta Cluster<br>meets Philly Energy Labs' in cells
    assert f'<td id="cell-{in_person}">Alpha Cluster<br>meets Boston Nanofab' in cells

    # Alpha goes remote after the schedule: placed again, in the same slot, at no table.
    slot = grid[in_person]["slot"]
    went = await api.put(remote_url.format(alpha), json={"remote": True})
    assert went.status_code == 200 and went.json()["changed"] is True, went.text

    async def moved_online() -> None:
        again = await scheduled()
        assert (again[in_person]["slot"], again[in_person]["table"]) == (slot, None)

    await eventually(moved_online, within=30)
    ics = await api.get(
        f"{mission}/participants/{alpha}/agenda.ics?token={alpha_token}", headers=PUBLIC
    )
    (vevent,) = Calendar.from_ical(ics.content).walk("VEVENT")
    assert str(vevent["URL"]) == f"https://meet.example.org/{mission_id}-{in_person}"
