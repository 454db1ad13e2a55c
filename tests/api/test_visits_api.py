"""The visits over HTTP on the real dev server: delegates' places by private link, the
coordinators' changes and their refusals, with a mission whose timeline runs in seconds."""

from __future__ import annotations

import re

import httpx
from support import eventually, rehearsal
from test_matchmaking_api import PUBLIC, application


async def test_places_and_changes_over_http(api: httpx.AsyncClient) -> None:
    document = rehearsal(matchmaking=None)
    document["call"].update(deadline="+PT3S", reminders=[])
    document["call"]["invitees"] = []
    document["selection"].update(
        capacity=2,
        max_per_country=None,
        decision_due="+PT4S",
        confirm_within="PT3S",
        delegation_lock="+PT8S",
        auto_approve=True,
    )
    document["visits"][0].update(starts_at="+PT5M", ends_at="+PT6M", capacity=1)
    document["visits"][1].update(starts_at="+PT7M", ends_at="+PT8M")
    document["reporting"].update(feedback_within="PT1M", report_due="+PT10M", follow_up=[])
    assert (await api.post("/missions", json=document)).status_code == 201
    mission = f"/missions/{document['id']}"
    links = {}
    for name in ("Alpha", "Beta"):
        created = (await api.post(f"{mission}/applications", json=application(name))).json()
        links[name] = (created["application_id"], created["access_token"])
    (alpha, alpha_token), (beta, beta_token) = links["Alpha"], links["Beta"]

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

    stranger = await api.get(
        f"{mission}/visits?delegate={alpha}&token={beta_token}", headers=PUBLIC
    )
    assert stranger.status_code == 404
    itinerary = await api.get(
        f"{mission}/visits?delegate={alpha}&token={alpha_token}", headers=PUBLIC
    )
    assert itinerary.status_code == 200, itinerary.text
    berlin = itinerary.json()[0]
    assert berlin["id"] == "berlin" and berlin["timezone"] == "Europe/Berlin"
    assert berlin["your_place"] is None
    # In Berlin's zone: "Mon 23 Nov 2026, 14:05–14:06 CET", or, for a visit that crosses
    # Berlin's midnight (this test run near 23:00 UTC), each end with its own date and UTC.
    assert re.fullmatch(
        r".*, \d\d:\d\d–\d\d:\d\d CES?T|.* CES?T \(.*\) – .* CES?T \(.*\)", berlin["when"]
    )

    places = f"{mission}/visits/berlin/registrations"
    taken = await api.post(
        f"{places}?token={alpha_token}", json={"application_id": alpha}, headers=PUBLIC
    )
    assert taken.status_code == 201, taken.text
    assert taken.json()["status"] == "registered"
    again = await api.post(
        f"{places}?token={alpha_token}", json={"application_id": alpha}, headers=PUBLIC
    )
    assert again.status_code == 200
    waiting = await api.post(
        places, json={"application_id": beta}, headers={"X-Access-Token": beta_token, **PUBLIC}
    )
    assert waiting.status_code == 201
    assert waiting.json() == {
        "visit_id": "berlin",
        "application_id": beta,
        "status": "waitlisted",
        "waitlist_position": 1,
    }
    foreign = await api.post(
        f"{places}?token={alpha_token}", json={"application_id": beta}, headers=PUBLIC
    )
    assert foreign.status_code == 404
    nowhere = await api.post(
        f"{mission}/visits/atlantis/registrations?token={alpha_token}",
        json={"application_id": alpha},
        headers=PUBLIC,
    )
    assert nowhere.status_code == 404 and "atlantis" in nowhere.json()["detail"]
    malformed = await api.post(f"{places}?token={alpha_token}", json={}, headers=PUBLIC)
    assert malformed.status_code == 422
    assert malformed.json()["detail"][0]["loc"] == ["body", "application_id"]

    change = f"{mission}/visits/berlin"
    assert (await api.patch(change, json={"address": "x"}, headers=PUBLIC)).status_code == 401
    unreadable = await api.patch(change, json={"starts_at": "tomorrow morning"})
    assert unreadable.status_code == 422
    assert unreadable.json()["detail"][0]["loc"] == ["body", "starts_at"]
    backwards = await api.patch(change, json={"ends_at": "2000-01-01T10:00"})
    assert (
        backwards.status_code == 422
        and "has already passed" in backwards.json()["detail"][0]["msg"]
    )
    overlapping = await api.patch(change, json={"ends_at": berlin["ends_at"][:10] + "T23:59"})
    assert overlapping.status_code == 422
    moved = await api.patch(
        change, json={"address": "Invalidenstraße 2, 10115 Berlin", "note": "New building."}
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["address"] == "Invalidenstraße 2, 10115 Berlin"

    early = await api.post(
        f"{change}/attendance", json={"application_id": alpha, "attendance": "attended"}
    )
    assert early.status_code == 409 and "once the visit has started" in early.json()["detail"]

    given_up = await api.delete(f"{places}/{alpha}?token={alpha_token}", headers=PUBLIC)
    assert given_up.status_code == 200 and given_up.json()["status"] == "cancelled"
    listed = await api.get(places)
    assert [(r["organisation"], r["status"]) for r in listed.json()] == [
        ("Beta Cluster", "registered")
    ]
    assert (await api.get(places, headers=PUBLIC)).status_code == 401
