"""Hosts' colleagues in the hosts CSV over HTTP on the real dev server: a `colleagues` cell
(`Name <email> (role); …`) names them, a wrong entry is refused at it with nothing loaded, and
the host's manager answers for one of them (docs/colleagues.md)."""

from __future__ import annotations

import httpx
from support import eventually, rehearsal
from test_matchmaking_api import PUBLIC, application

HEADER = "name,country,sector,contact_name,contact_email,colleagues\n"
NANOFAB = "Boston Nanofab,US,Advanced materials,Hope Host,hope@nanofab.example.com"
COLLEAGUES = "Hal Hoster <hal@nanofab.example.com> (CTO); Ida <ida@nanofab.example.com>"
HOSTS_CSV = f'{HEADER}{NANOFAB},"{COLLEAGUES}"\n'
WRONG_CSV = f"{HEADER}{NANOFAB},Hal Hoster <hal@nanofab.example.com>; Ida ida@nanofab.example.com\n"
CSV = {"Content-Type": "text/csv"}


async def test_a_csv_host_names_colleagues_and_answers_for_one(api: httpx.AsyncClient) -> None:
    document = rehearsal(visits=[])
    document["call"].update(deadline="+PT3S", reminders=[])
    document["call"]["invitees"] = []
    document["selection"].update(
        capacity=1,
        max_per_country=None,
        decision_due="+PT4S",
        confirm_within="PT3S",
        delegation_lock="+PT7S",
        auto_approve=True,
    )
    document["matchmaking"].update(
        requests_open_at="+PT8S",
        requests_deadline="+PT30S",
        sessions=[{"start": "+PT35S", "end": "+PT2M35S"}],
        slot_minutes=1,
        tables=2,
    )
    document["reporting"].update(report_due="+PT5M", follow_up=[])
    created = await api.post("/missions", json=document)
    assert created.status_code == 201, created.text
    mission = f"/missions/{document['id']}"
    applied = (await api.post(f"{mission}/applications", json=application("Alpha"))).json()
    alpha, alpha_token = applied["application_id"], applied["access_token"]

    wrong = await api.post(f"{mission}/hosts", content=WRONG_CSV, headers=CSV)
    assert wrong.status_code == 422, wrong.text
    (problem,) = wrong.json()["detail"]
    assert problem["loc"] == ["body", 0, "colleagues", 1]
    assert "'Ida ida@nanofab.example.com'" in problem["msg"]
    assert (await api.get(f"{mission}/hosts")).json() == []  # nothing loaded

    loaded = await api.post(f"{mission}/hosts", content=HOSTS_CSV, headers=CSV)
    assert loaded.status_code == 200, loaded.text
    (nanofab,) = loaded.json()["hosts"]
    nanofab_token = nanofab["private_url"].split("token=")[1]
    team = f"{mission}/participants/{nanofab['id']}/colleagues?token={nanofab_token}"
    named = (await api.get(team, headers=PUBLIC)).json()
    assert sorted((c["name"], c["email"], c["role"]) for c in named) == [
        ("Hal Hoster", "hal@nanofab.example.com", "CTO"),
        ("Ida", "ida@nanofab.example.com", None),
    ]
    ida = next(c["id"] for c in named if c["name"] == "Ida")

    async def seated() -> None:
        answer = await api.post(
            f"{mission}/applications/{alpha}/confirm?token={alpha_token}", headers=PUBLIC
        )
        assert answer.status_code in (200, 409), answer.text
        mine = await api.get(f"{mission}/applications/{alpha}?token={alpha_token}", headers=PUBLIC)
        assert mine.json()["seat"] == "confirmed"

    await eventually(seated, within=20)

    async def requested() -> str:
        response = await api.post(
            f"{mission}/meeting-requests?token={alpha_token}",
            json={"from": alpha, "to": nanofab["id"]},
            headers=PUBLIC,
        )
        assert response.status_code == 201, response.text
        return response.json()["meeting_id"]

    meeting = await eventually(requested, within=25)
    accepted = await api.post(
        f"{mission}/meeting-requests/{meeting}/accept?token={nanofab_token}",
        json={"on_behalf_of": [ida]},
        headers=PUBLIC,
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted", accepted.text
    page = await api.get(
        f"{mission}/participants/{nanofab['id']}?token={nanofab_token}", headers=PUBLIC
    )
    (line,) = page.json()["meetings"]
    assert (line["meeting_id"], line["going"]) == (meeting, [ida])
