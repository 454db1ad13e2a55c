"""Hosts, the directory, meeting requests and answers, agendas over HTTP on the real dev
server, with a mission whose timeline runs in well under a minute."""

from __future__ import annotations

from typing import Any

import httpx
from icalendar import Calendar
from support import eventually, rehearsal

COMPLETE = {"member_organisations": 80, "management_label": "Gold", "mission_objectives": "x"}
PUBLIC = {"Authorization": ""}


def application(name: str) -> dict[str, Any]:
    return {
        "organisation": f"{name} Cluster",
        "organisation_type": "cluster_organisation",
        "country": "DE",
        "city": "Munich",
        "contact_name": f"Contact {name}",
        "contact_email": f"{name.lower()}@example.org",
        "sectors": ["Advanced materials"],
        "answers": COMPLETE,
        "consent": True,
    }


HOSTS_CSV = (
    "name,country,sector,description,contact_name,contact_email,unavailable\n"
    "Boston Nanofab,US,Advanced materials,Thin films,Hope Host,hope@nanofab.example.com,\n"
    "Philly Energy Labs,US,Energy and sustainability,,Paul Host,paul@energy.example.com,session-9\n"
)


async def test_the_event_over_http(api: httpx.AsyncClient) -> None:
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
        requests_deadline="+PT25S",
        sessions=[{"start": "+PT30S", "end": "+PT2M30S"}],
        slot_minutes=1,
        tables=2,
        max_meetings_per_participant=2,
    )
    document["reporting"].update(report_due="+PT5M", follow_up=[])
    created = await api.post("/missions", json=document)
    assert created.status_code == 201, created.text
    mission = f"/missions/{document['id']}"
    links = {}
    for name in ("Alpha", "Beta"):
        created = (await api.post(f"{mission}/applications", json=application(name))).json()
        links[name] = (created["application_id"], created["access_token"])

    bad = await api.post(
        f"{mission}/hosts", content=HOSTS_CSV, headers={"Content-Type": "text/csv"}
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", 1, "unavailable"]
    wrong = await api.post(f"{mission}/hosts", json=[{"name": "X", "country": "XX"}])
    assert wrong.status_code == 422
    assert {tuple(e["loc"]) for e in wrong.json()["detail"]} >= {("body", 0, "country")}
    assert (
        await api.post(f"{mission}/hosts", content="x", headers={"Content-Type": "text/plain"})
    ).status_code == 415
    loaded = await api.post(
        f"{mission}/hosts",
        content=HOSTS_CSV.replace("session-9", "session-1"),
        headers={"Content-Type": "text/csv"},
    )
    assert loaded.status_code == 200, loaded.text
    hosts = {h["name"]: h for h in loaded.json()["hosts"]}
    assert loaded.json()["added"] == 2 and len(hosts["Philly Energy Labs"]["unavailable"]) == 2
    nanofab = hosts["Boston Nanofab"]
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
    alpha, alpha_token = links["Alpha"]

    directory = await api.get(
        f"{mission}/directory?participant={alpha}&token={alpha_token}&q=nanofab", headers=PUBLIC
    )
    assert [p["name"] for p in directory.json()] == ["Boston Nanofab"]
    as_host = await api.get(
        f"{mission}/directory?participant={nanofab['id']}&token={host_token}", headers=PUBLIC
    )
    assert {p["side"] for p in as_host.json()} == {"delegate"}
    stranger = await api.get(
        f"{mission}/directory?participant={nanofab['id']}&token={alpha_token}", headers=PUBLIC
    )
    assert stranger.status_code == 404

    async def requested() -> dict[str, Any]:
        response = await api.post(
            f"{mission}/meeting-requests?token={alpha_token}",
            json={"from": alpha, "to": nanofab["id"], "priority": 3, "note": "Thin films"},
            headers=PUBLIC,
        )
        assert response.status_code == 201, response.text
        return response.json()

    meeting = await eventually(requested, within=20)
    again = await api.post(
        f"{mission}/meeting-requests?token={alpha_token}",
        json={"from": alpha, "to": nanofab["id"]},
        headers=PUBLIC,
    )
    assert again.status_code == 200 and again.json()["merged"] is True
    unknown = await api.post(
        f"{mission}/meeting-requests",
        json={"from": alpha, "to": "00000000-0000-4000-8000-000000000000"},
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["body", "to"]
    rid = meeting["meeting_id"]
    page = await api.get(
        f"{mission}/participants/{nanofab['id']}?token={host_token}", headers=PUBLIC
    )
    assert page.status_code == 200, page.text
    (line,) = page.json()["meetings"]
    assert (line["meeting_id"], line["with_name"], line["asked_by_me"], line["status"]) == (
        rid,
        "Alpha Cluster",
        False,
        "pending",
    )
    nosy = await api.get(
        f"{mission}/participants/{nanofab['id']}?token={alpha_token}", headers=PUBLIC
    )
    assert nosy.status_code == 404
    by_requester = await api.post(
        f"{mission}/meeting-requests/{rid}/accept?token={alpha_token}", headers=PUBLIC
    )
    assert by_requester.status_code == 404  # only the one asked answers
    accepted = await api.post(
        f"{mission}/meeting-requests/{rid}/accept?token={host_token}", headers=PUBLIC
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    twice = await api.post(
        f"{mission}/meeting-requests/{rid}/decline?token={host_token}", headers=PUBLIC
    )
    assert twice.status_code == 409

    async def scheduled() -> dict[str, Any]:
        grid = (await api.get(f"{mission}/agenda")).json()
        assert grid["meetings"] and grid["meetings"][0]["table"] is not None
        return grid

    grid = await eventually(scheduled, within=40)
    assert grid["meetings"][0]["host"] == "Boston Nanofab"
    schedule = grid["schedule"]  # the latest schedule against its bounds
    assert (schedule["version"], schedule["requested"], schedule["scheduled"]) == (1, 1, 1)
    assert schedule["upper_bound"] == 1 and schedule["meetings_optimal"] is True
    assert schedule["placed"] == {
        "count": 1, "of": 1, "rate": 1.0, "basis": "the most meetings any schedule places",
    }  # fmt: skip
    assert (schedule["breaks"], schedule["idle_slots"], schedule["break_difference"]) == (0, 0, 0)
    if schedule["breaks_bound"] is not None:
        assert schedule["breaks_optimality"] == "proven optimal"
    assert schedule["method"] in ("fast", "exact")
    document = (await api.get("/openapi.json")).json()
    answer = document["paths"]["/missions/{mission_id}/agenda"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Grid"}
    assert "breaks_bound" in document["components"]["schemas"]["ScheduleFigures"]["properties"]
    csv_grid = await api.get(f"{mission}/agenda", headers={"Accept": "text/csv"})
    assert csv_grid.text.splitlines()[0].startswith("meeting_id,slot,start")
    late = await api.post(
        f"{mission}/meeting-requests?token={alpha_token}",
        json={"from": alpha, "to": hosts["Philly Energy Labs"]["id"]},
        headers=PUBLIC,
    )
    assert late.status_code == 409 and "closed on" in late.json()["detail"]
    ics = await api.get(
        f"{mission}/participants/{nanofab['id']}/agenda.ics?token={host_token}", headers=PUBLIC
    )
    assert ics.status_code == 200 and ics.headers["content-type"].startswith("text/calendar")
    calendar = Calendar.from_ical(ics.content)
    (vevent,) = list(calendar.walk("VEVENT"))
    assert "Alpha Cluster" in str(vevent["SUMMARY"])
    assert str(calendar["X-WR-CALDESC"]) == "No breaks between your meetings"

    async def attended() -> None:
        held = await api.post(f"{mission}/meetings/{rid}/attendance", json={"attendance": "held"})
        assert held.status_code == 200, held.text

    await eventually(attended, within=20)
    grid = (await api.get(f"{mission}/agenda")).json()
    assert grid["meetings"][0]["attendance"] == "held"
