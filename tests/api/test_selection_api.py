"""Coordinators review, override and approve the proposed delegation over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
from support import eventually, rehearsal

COMPLETE = {
    "member_organisations": 80,
    "management_label": "Gold",
    "mission_objectives": "Partners",
}


def application(name: str, country: str) -> dict[str, Any]:
    return {
        "organisation": name,
        "organisation_type": "cluster_organisation",
        "country": country,
        "city": "Somewhere",
        "contact_name": f"Contact of {name}",
        "contact_email": f"{name.split()[0].lower()}@example.org",
        "sectors": ["Advanced materials"],
        "answers": COMPLETE,
        "consent": True,
    }


async def test_review_over_http(api: httpx.AsyncClient) -> None:
    document = rehearsal(matchmaking=None, visits=[])
    document["call"].update(deadline="+PT4S", reminders=[])
    document["selection"].update(
        capacity=2,
        max_per_country=1,
        decision_due="+PT1H",
        delegation_lock="+PT2H",
        auto_approve=False,
    )
    document["reporting"].update(report_due="+PT3H", follow_up=[])
    assert (await api.post("/missions", json=document)).status_code == 201
    mission = f"/missions/{document['id']}"
    tokens = {}
    for name, country in (("Alpha Cluster", "DE"), ("Beta Cluster", "DE"), ("Gamma", "FR")):
        response = await api.post(f"{mission}/applications", json=application(name, country))
        assert response.status_code == 201, response.text
        tokens[name] = (response.json()["application_id"], response.json()["access_token"])
    early = (await api.get(f"{mission}/selection")).json()
    assert early["proposed"] is False and early["decisions"] == []
    assert (await api.post(f"{mission}/selection/approve", json={})).status_code == 409

    async def proposed() -> dict[str, Any]:
        page = (await api.get(f"{mission}/selection")).json()
        assert page["proposed"] is True
        return page

    page = await eventually(proposed, within=30)
    gamma_id, gamma_secret = tokens["Gamma"]
    own = await api.get(
        f"{mission}/applications/{gamma_id}?token={gamma_secret}", headers={"Authorization": ""}
    )
    assert own.json()["decision"] is None  # the proposal is not the applicant's to see yet
    listed = (await api.get(f"{mission}/applications")).json()
    assert {a["organisation"]: a["decision"] for a in listed}["Gamma"] == "selected"
    by_name = {d["organisation"]: d for d in page["decisions"]}
    assert by_name["Gamma"]["decision"] == "selected"
    skipped = next(
        d for d in page["decisions"] if d["country"] == "DE" and d["decision"] != "selected"
    )
    assert any("Germany" in reason for reason in skipped["reasons"])
    assert page["audit"][0]["action"] == "proposed"

    unknown = await api.post(
        f"{mission}/selection/overrides",
        json={
            "overrides": [
                {
                    "application_id": "00000000-0000-4000-8000-000000000000",
                    "decision": "selected",
                    "reason": "x",
                }
            ]
        },
    )
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "overrides", 0, "application_id"]
    bad_decision = await api.post(
        f"{mission}/selection/overrides",
        json={
            "overrides": [
                {"application_id": skipped["application_id"], "decision": "maybe", "reason": "x"}
            ]
        },
    )
    assert bad_decision.status_code == 422
    breach = await api.post(
        f"{mission}/selection/approve",
        json={
            "overrides": [
                {
                    "application_id": skipped["application_id"],
                    "decision": "selected",
                    "reason": "Strong",
                }
            ]
        },
    )
    assert breach.status_code == 422
    assert "Germany" in breach.json()["detail"][0]["msg"]
    anonymous = await api.post(
        f"{mission}/selection/approve", json={}, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401

    moved = await api.post(
        f"{mission}/selection/overrides",
        json={
            "overrides": [
                {
                    "application_id": skipped["application_id"],
                    "decision": "waitlisted",
                    "reason": "Second German choice",
                }
            ],
            "by": "Anna",
        },
    )
    assert moved.status_code == 200, moved.text
    event = moved.json()["audit"][-1]
    assert (event["action"], event["by"], event["reason"]) == (
        "overridden",
        "Anna",
        "Second German choice",
    )

    approved = await api.post(f"{mission}/selection/approve", json={"by": "Anna"})
    assert approved.status_code == 200, approved.text
    final = approved.json()
    assert final["approved"] is True and final["selected"] == 2 and final["waitlisted"] == 1
    late = await api.post(
        f"{mission}/selection/overrides",
        json={
            "overrides": [{"application_id": gamma_id, "decision": "not_selected", "reason": "x"}]
        },
    )
    assert (
        late.status_code == 409 and late.json()["detail"] == "The delegation is already approved."
    )
    empty = await api.post(f"{mission}/selection/overrides", json={"overrides": []})
    assert empty.status_code == 422 and empty.json()["detail"][0]["loc"] == ["body", "overrides"]
    reasonless = await api.post(
        f"{mission}/selection/overrides",
        json={"overrides": [{"application_id": gamma_id, "decision": "selected"}]},
    )
    assert reasonless.status_code == 422
    assert reasonless.json()["detail"][0]["loc"] == ["body", "overrides", 0, "reason"]
    twice = await api.post(f"{mission}/selection/approve", json={"by": "Anna"})
    assert (
        twice.status_code == 409 and twice.json()["detail"] == "The delegation is already approved."
    )

    async def confirming() -> None:
        assert (await api.get(mission)).json()["phase"] == "confirmation"

    await eventually(confirming)

    gamma, gamma_token = tokens["Gamma"]
    link = f"{mission}/applications/{gamma}"
    public = {"Authorization": ""}
    stranger = await api.post(f"{link}/confirm?token={tokens['Alpha Cluster'][1]}", headers=public)
    assert stranger.status_code == 404
    confirmed = await api.post(f"{link}/confirm?token={gamma_token}", headers=public)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["seat"] == "confirmed"
    again = await api.post(f"{link}/confirm", headers={**public, "X-Access-Token": gamma_token})
    assert again.status_code == 409 and again.json()["detail"] == "This seat is already confirmed."
    waiting_id, waiting_token = next(
        tokens[d["organisation"]] for d in final["decisions"] if d["decision"] == "waitlisted"
    )
    no_seat = await api.post(
        f"{mission}/applications/{waiting_id}/decline?token={waiting_token}", headers=public
    )
    assert no_seat.status_code == 409
    assert no_seat.json()["detail"] == "This application has no seat offer."
    mine = (await api.get(f"{link}?token={gamma_token}", headers=public)).json()
    assert (mine["decision"], mine["seat"]) == ("selected", "confirmed")
    seats = (await api.get(mission)).json()["seats"]
    assert seats == {"confirmed": 1, "pending": 1, "released": 0, "waitlist": 1}
