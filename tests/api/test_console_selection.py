"""The console's selection page over HTTP, on the real dev server and both databases: before
the proposal, the proposal by role, the override and approve forms with their refusals at
their fields or at the top, seats after approval, and the audit log naming the person."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from support import eventually, rehearsal
from test_console_pages import csrf_of, signed_in
from test_people_and_roles import member, mission, person
from test_selection_api import application

Browser = Callable[[], httpx.AsyncClient]


async def _review_mission(api: httpx.AsyncClient) -> str:
    """Two seats, one per country, reviewed by hand; the call closes in seconds."""
    document = rehearsal(matchmaking=None, visits=[])
    document["call"].update(deadline="+PT5S", reminders=[])
    document["call"]["invitees"] = []
    document["selection"].update(
        capacity=2,
        max_per_country=1,
        decision_due="+PT1H",
        delegation_lock="+PT2H",
        auto_approve=False,
    )
    document["reporting"].update(report_due="+PT3H", follow_up=[])
    assert (await api.post("/missions", json=document)).status_code == 201
    return document["id"]


async def test_the_selection_page_reviews_and_approves_naming_the_person(
    api: httpx.AsyncClient, browsers: Browser
) -> None:
    ours, theirs = await _review_mission(api), await mission(api)
    await person(api, "cora@example.org", "Cora Coordinator")
    await person(api, "vera@example.org", "Vera Viewer")
    await person(api, "otto@example.org", "Otto Other")
    await member(api, ours, "cora@example.org", "coordinator")
    await member(api, ours, "vera@example.org", "viewer")
    await member(api, theirs, "otto@example.org", "coordinator")
    path = f"/console/missions/{ours}/selection"
    coordinator = browsers()
    await signed_in(coordinator, "cora@example.org")

    early = await coordinator.get(path)
    assert early.status_code == 200, early.text
    deadline = (await api.get(f"/missions/{ours}")).json()["deadline"]["text"]
    assert "The mission is in Call open." in early.text
    assert f"comes when the call closes, {deadline}" in early.text
    assert 'id="override"' not in early.text and 'aria-current="page"' in early.text

    ids = {}
    for name, country in (("Alpha Cluster", "DE"), ("Beta Cluster", "DE"), ("Gamma", "FR")):
        created = await api.post(f"/missions/{ours}/applications", json=application(name, country))
        assert created.status_code == 201, created.text
        ids[name] = created.json()["application_id"]

    async def proposed() -> dict[str, Any]:
        page = (await api.get(f"/missions/{ours}/selection")).json()
        assert page["proposed"] is True
        return page

    proposal = await eventually(proposed, within=30)
    skipped = next(
        d for d in proposal["decisions"] if d["country"] == "DE" and d["decision"] != "selected"
    )

    viewer = browsers()
    await signed_in(viewer, "vera@example.org")
    seen = await viewer.get(path)
    assert seen.status_code == 200, seen.text
    for decision in proposal["decisions"]:
        assert f'id="application-{decision["application_id"]}"' in seen.text
        for criterion in decision["breakdown"]:
            assert f"{criterion}: " in seen.text
    assert any("Germany" in reason for reason in skipped["reasons"])
    assert "Germany" in seen.text and "(under review)" in seen.text
    assert 'id="override"' not in seen.text and 'id="approve"' not in seen.text
    forbidden = await viewer.post(
        f"{path}/approve", data={"csrf_token": csrf_of(seen), "confirm": "yes"}
    )
    assert forbidden.status_code == 403
    other = browsers()
    await signed_in(other, "otto@example.org")
    assert (await other.get(path)).status_code == 404

    page = await coordinator.get(path)
    assert 'id="override"' in page.text and 'id="approve"' in page.text
    assert "breaks no quota" in page.text
    csrf = csrf_of(page)
    override = {"csrf_token": csrf, "decision": "selected", "reason": "Strong partner"}

    unproven = await coordinator.post(f"{path}/overrides", data={**override, "csrf_token": ""})
    assert unproven.status_code == 403
    unknown = await coordinator.post(
        f"{path}/overrides", data={**override, "application_id": str(uuid.uuid4())}
    )
    assert unknown.status_code == 422 and 'id="application_id-error"' in unknown.text
    assert "is in this mission&#39;s selection" in unknown.text
    blank = await coordinator.post(
        f"{path}/overrides",
        data={**override, "application_id": skipped["application_id"], "reason": " "},
    )
    assert blank.status_code == 422 and 'id="reason-error"' in blank.text, blank.text
    assert "Say why the decision is overridden." in blank.text

    moved = await coordinator.post(
        f"{path}/overrides", data={**override, "application_id": skipped["application_id"]}
    )
    assert (moved.status_code, moved.headers["location"]) == (303, f"{path}?done=overridden")
    breaking = await coordinator.get(moved.headers["location"])
    assert "The decision is overridden" in breaking.text
    assert 'id="breaches"' in breaking.text and "Germany" in breaking.text
    unconfirmed = await coordinator.post(f"{path}/approve", data={"csrf_token": csrf})
    assert unconfirmed.status_code == 422 and 'id="confirm-error"' in unconfirmed.text
    broken = await coordinator.post(f"{path}/approve", data={"csrf_token": csrf, "confirm": "yes"})
    assert broken.status_code == 422 and "breaks its quotas" in broken.text
    assert 'class="problem"' in broken.text
    assert (await api.get(f"/missions/{ours}/selection")).json()["approved"] is False

    back = await coordinator.post(
        f"{path}/overrides",
        data={
            **override,
            "application_id": skipped["application_id"],
            "decision": "waitlisted",
            "reason": "Second German choice",
        },
    )
    assert back.status_code == 303, back.text
    approved = await coordinator.post(
        f"{path}/approve", data={"csrf_token": csrf, "confirm": "yes"}
    )
    assert (approved.status_code, approved.headers["location"]) == (303, f"{path}?done=approved")
    final = await coordinator.get(approved.headers["location"])
    assert "The delegation is approved" in final.text and "(approved)" in final.text
    assert "offered, until" in final.text and "waitlist position 1" in final.text
    assert 'id="override"' not in final.text, "no review once approved"
    late = await coordinator.post(
        f"{path}/overrides", data={**override, "application_id": skipped["application_id"]}
    )
    assert late.status_code == 409 and "already approved" in late.text
    assert "Second German choice" in final.text and "Cora Coordinator" in final.text

    log = (await api.get(f"/missions/{ours}/audit")).json()["entries"]
    by = "Cora Coordinator <cora@example.org>"
    assert sorted((e["action"], e["by"], e["subject"], e["detail"]) for e in log) == [
        ("selection.approved", by, None, "2 selected, 1 waitlisted"),
        ("selection.overridden", by, skipped["application_id"], "selected"),
        ("selection.overridden", by, skipped["application_id"], "waitlisted"),
    ]
