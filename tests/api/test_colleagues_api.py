"""Several people per organisation over HTTP on the real dev server: a manager names their
colleagues, books and answers for them (a stranger: 404, nothing written), colleagues who go
together are one meeting in each one's agenda, and a colleague who goes apart too is never in
two meetings at once."""

from __future__ import annotations

from typing import Any

import httpx
from icalendar import Calendar
from support import eventually, rehearsal
from test_matchmaking_api import PUBLIC, application

HOSTS_CSV = (
    "name,country,sector,description,contact_name,contact_email,unavailable\n"
    "Boston Nanofab,US,Advanced materials,Thin films,Hope Host,hope@nanofab.example.com,\n"
    "Philly Energy Labs,US,Energy and sustainability,,Paul Host,paul@energy.example.com,\n"
)


async def test_a_manager_books_and_answers_for_colleagues(api: httpx.AsyncClient) -> None:
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
        requests_deadline="+PT30S",
        sessions=[{"start": "+PT35S", "end": "+PT2M35S"}],
        slot_minutes=1,
        tables=2,
        max_meetings_per_participant=2,
    )
    document["reporting"].update(report_due="+PT5M", follow_up=[])
    created = await api.post("/missions", json=document)
    assert created.status_code == 201, created.text
    mission = f"/missions/{document['id']}"
    wrong = await api.post(
        f"{mission}/applications",
        json=application("Alpha") | {"colleagues": [{"name": "Cleo", "email": "cleo"}]},
    )
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"][:4] == ["body", "colleagues", 0, "email"]
    links = {}
    cleo_applied = {"name": "Cleo Alpha", "email": "Cleo@example.org", "role": "CTO"}
    for name, colleagues in (("Alpha", [cleo_applied]), ("Beta", [])):
        body = application(name) | {"colleagues": colleagues}
        created = (await api.post(f"{mission}/applications", json=body)).json()
        links[name] = (created["application_id"], created["access_token"])
    loaded = await api.post(
        f"{mission}/hosts", content=HOSTS_CSV, headers={"Content-Type": "text/csv"}
    )
    assert loaded.status_code == 200, loaded.text
    hosts = {h["name"]: h for h in loaded.json()["hosts"]}
    nanofab, energy = hosts["Boston Nanofab"], hosts["Philly Energy Labs"]
    nanofab_token = nanofab["private_url"].split("token=")[1]
    energy_token = energy["private_url"].split("token=")[1]

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

    # Alpha applied with Cleo; its manager names Dan too; a stranger cannot
    team = f"{mission}/participants/{alpha}/colleagues"
    applied = (await api.get(f"{team}?token={alpha_token}", headers=PUBLIC)).json()
    assert [(c["name"], c["email"], c["role"]) for c in applied] == [
        ("Cleo Alpha", "Cleo@example.org", "CTO")
    ]
    export = await api.get(f"{mission}/applications/{alpha}/data?token={alpha_token}")
    assert [c["name"] for c in export.json()["colleagues"]] == ["Cleo Alpha"]
    beta_team = f"{mission}/participants/{beta}/colleagues?token={beta_token}"
    assert (await api.get(beta_team, headers=PUBLIC)).json() == []
    wrong = await api.put(
        f"{team}?token={alpha_token}",
        json={"colleagues": [{"name": "Cleo", "email": "not an address"}]},
        headers=PUBLIC,
    )
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"][:4] == ["body", "colleagues", 0, "email"]
    nosy = await api.put(f"{team}?token={beta_token}", json={"colleagues": []}, headers=PUBLIC)
    assert nosy.status_code == 404
    named = await api.put(
        f"{team}?token={alpha_token}",
        json={
            "colleagues": [
                {"name": "Cleo Alpha", "email": "cleo@example.org", "role": "CTO"},
                {"name": "Dan Alpha", "email": "dan@example.org"},
            ]
        },
        headers=PUBLIC,
    )
    assert named.status_code == 200, named.text
    colleagues = {c["name"]: c["id"] for c in named.json()}
    cleo, dan = colleagues["Cleo Alpha"], colleagues["Dan Alpha"]
    assert cleo == applied[0]["id"]  # given again by email: the same colleague
    again = await api.get(f"{team}?token={alpha_token}", headers=PUBLIC)
    assert {c["id"] for c in again.json()} == {cleo, dan}
    # Nanofab loaded again, as JSON, with Hal: added to the same host
    again = {
        "name": "Boston Nanofab", "country": "US", "sector": "Advanced materials",
        "contact_name": "Hope Host", "contact_email": "hope@nanofab.example.com",
        "colleagues": [{"name": "Hal Host", "email": "hal@nanofab.example.com"}],
    }  # fmt: skip
    reloaded = await api.post(f"{mission}/hosts", json=[again])
    assert reloaded.status_code == 200 and reloaded.json()["updated"] == 1, reloaded.text
    hosts_team = f"{mission}/participants/{nanofab['id']}/colleagues?token={nanofab_token}"
    (hal_row,) = (await api.get(hosts_team, headers=PUBLIC)).json()
    hal = hal_row["id"]

    async def meetings_of(pid: str, token: str) -> list[dict[str, Any]]:
        page = await api.get(f"{mission}/participants/{pid}?token={token}", headers=PUBLIC)
        assert page.status_code == 200, page.text
        return page.json()["meetings"]

    async def requested() -> dict[str, Any]:
        # Cleo and Dan go together to Nanofab: one meeting
        response = await api.post(
            f"{mission}/meeting-requests?token={alpha_token}",
            json={"from": alpha, "to": nanofab["id"], "on_behalf_of": [cleo, dan]},
            headers=PUBLIC,
        )
        assert response.status_code == 201, response.text
        return response.json()

    joint = (await eventually(requested, within=25))["meeting_id"]
    for stranger in (beta, hal):  # not of Alpha: refused, and nothing written
        refused = await api.post(
            f"{mission}/meeting-requests?token={alpha_token}",
            json={"from": alpha, "to": energy["id"], "on_behalf_of": [stranger]},
            headers=PUBLIC,
        )
        assert refused.status_code == 404, refused.text
    (line,) = await meetings_of(alpha, alpha_token)  # the manager's page: who goes
    assert (line["meeting_id"], sorted(line["going"])) == (joint, sorted([cleo, dan]))
    assert await meetings_of(energy["id"], energy_token) == []
    # Dan also goes, apart, to Energy
    apart = await api.post(
        f"{mission}/meeting-requests?token={alpha_token}",
        json={"from": alpha, "to": energy["id"], "on_behalf_of": [dan]},
        headers=PUBLIC,
    )
    assert apart.status_code == 201, apart.text
    alone = apart.json()["meeting_id"]

    # Nanofab's manager answers for Hal; naming someone of Alpha is refused, nothing written
    answer = f"{mission}/meeting-requests/{joint}/accept?token={nanofab_token}"
    wrong_side = await api.post(answer, json={"on_behalf_of": [cleo]}, headers=PUBLIC)
    assert wrong_side.status_code == 404
    (line,) = await meetings_of(nanofab["id"], nanofab_token)
    assert line["status"] == "pending"
    accepted = await api.post(answer, json={"on_behalf_of": [hal]}, headers=PUBLIC)
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    plain = await api.post(
        f"{mission}/meeting-requests/{alone}/accept?token={energy_token}", headers=PUBLIC
    )
    assert plain.status_code == 200, plain.text

    async def scheduled() -> dict[str, Any]:
        grid = (await api.get(f"{mission}/agenda")).json()
        assert len(grid["meetings"]) == 2, grid
        assert all(m["start"] is not None for m in grid["meetings"]), grid
        return grid

    grid = await eventually(scheduled, within=60)
    starts = {m["meeting_id"]: m["start"] for m in grid["meetings"]}
    assert starts[joint] != starts[alone]  # Dan is in both: never at once

    async def agenda(organisation: str, token: str, colleague: str) -> dict[str, list[str]]:
        url = f"{mission}/participants/{organisation}/colleagues/{colleague}/agenda"
        response = await api.get(f"{url}?token={token}", headers=PUBLIC)
        assert response.status_code == 200, response.text
        return {line["meeting_id"]: sorted(line["going"]) for line in response.json()}

    assert await agenda(alpha, alpha_token, cleo) == {joint: ["Cleo Alpha", "Dan Alpha"]}
    assert await agenda(alpha, alpha_token, dan) == {
        joint: ["Cleo Alpha", "Dan Alpha"],
        alone: ["Dan Alpha"],
    }
    assert await agenda(nanofab["id"], nanofab_token, hal) == {joint: ["Hal Host"]}
    for colleague, count in ((cleo, 1), (dan, 2)):  # their own calendar files
        url = f"{mission}/participants/{alpha}/colleagues/{colleague}/agenda.ics"
        ics = await api.get(f"{url}?token={alpha_token}", headers=PUBLIC)
        assert ics.status_code == 200, ics.text
        assert len(list(Calendar.from_ical(ics.content).walk("VEVENT"))) == count
    other = f"{mission}/participants/{alpha}/colleagues/{hal}/agenda?token={alpha_token}"
    assert (await api.get(other, headers=PUBLIC)).status_code == 404
    still = await api.put(
        f"{team}?token={alpha_token}",
        json={"colleagues": [{"name": "Dan Alpha", "email": "dan@example.org"}]},
        headers=PUBLIC,
    )
    assert still.status_code == 409 and "Cleo Alpha" in still.json()["detail"]
    assert len((await api.get(f"{team}?token={alpha_token}", headers=PUBLIC)).json()) == 2
