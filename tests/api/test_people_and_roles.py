"""People and roles over HTTP, on the real dev server and both databases: sign-in and its
cookies, CSRF, lockout, personal tokens, roles per mission, and who the records name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from sqlmodel import select
from support import eventually, rehearsal

from api.main import create_app
from missionflow.runtime.audit import AuditEntry
from missionflow.runtime.models import Mission, SelectionEvent
from missionflow.runtime.people import PersonSession
from missionflow.runtime.settings import Settings

Browser = Callable[[], httpx.AsyncClient]
"""The `browsers` fixture (tests/api/conftest.py) hands out clients of this shape."""

PASSWORD = "correct horse battery staple"
ANONYMOUS = {"Authorization": ""}

APPLICATION = {
    "organisation": "Cluster Munich",
    "organisation_type": "cluster_organisation",
    "country": "DE",
    "city": "Munich",
    "website": "https://cluster.example.org",
    "contact_name": "Jana Weber",
    "contact_email": "jana@munich.example.org",
    "sectors": ["Advanced materials"],
    "answers": {"member_organisations": 80, "management_label": "Gold", "mission_objectives": "x"},
    "consent": True,
}


async def person(api: httpx.AsyncClient, email: str, name: str, **extra: Any) -> dict[str, Any]:
    body = {"email": email, "display_name": name, "password": PASSWORD, **extra}
    created = await api.post("/people", json=body)
    assert created.status_code == 201, created.text
    return created.json()


async def mission(api: httpx.AsyncClient) -> str:
    document = rehearsal()
    assert (await api.post("/missions", json=document)).status_code == 201
    return document["id"]


async def member(api: httpx.AsyncClient, mission_id: str, email: str, role: str) -> None:
    added = await api.post(f"/missions/{mission_id}/members", json={"email": email, "role": role})
    assert added.status_code == 201, added.text


async def signed_in(client: httpx.AsyncClient, email: str) -> str:
    """Sign in; the session's CSRF token."""
    response = await client.post("/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


async def test_sign_in_sets_safe_cookies_and_signing_out_ends_the_session(
    api: httpx.AsyncClient, browsers: Browser, settings: Settings, dev_env, engine
) -> None:
    await person(api, "ada@example.org", "Ada Lovelace")
    browser = browsers()
    wrong = await browser.post(
        "/auth/sign-in", json={"email": "ada@example.org", "password": "not it"}
    )
    unknown = await browser.post(
        "/auth/sign-in", json={"email": "nobody@example.org", "password": PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json(), "no answer tells who has an account"

    response = await browser.post(
        "/auth/sign-in", json={"email": " ADA@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    cookies = {c.split("=", 1)[0]: c.lower() for c in response.headers.get_list("set-cookie")}
    session = cookies["missionflow_session"]
    assert "httponly" in session and "samesite=lax" in session and "path=/" in session
    assert "secure" not in session, "development over http"
    assert "httponly" not in cookies["missionflow_csrf"], "the page's script reads it"
    csrf = response.json()["csrf_token"]
    assert response.json()["me"]["name"] == "Ada Lovelace"
    me = await browser.get("/auth/me")
    assert me.status_code == 200 and me.json()["email"] == "ada@example.org"

    unproven = await browser.post("/auth/sign-out")
    assert unproven.status_code == 403, "a cookie alone changes nothing"
    cookie = browser.cookies["missionflow_session"]
    assert (await browser.post("/auth/sign-out", headers={"X-CSRF-Token": csrf})).status_code == 204
    stale = browsers()
    stale.cookies.set("missionflow_session", cookie)
    after = await stale.get("/auth/me")
    assert after.status_code == 401, "the old cookie is no session any more"

    secure = Settings(**{**settings.model_dump(), "session_cookie_secure": True})
    app = create_app(secure, client=dev_env.client, engine=engine, mailbox=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://test"
    ) as https:
        response = await https.post(
            "/auth/sign-in", json={"email": "ada@example.org", "password": PASSWORD}
        )
    assert "secure" in response.headers["set-cookie"].lower()


async def test_repeated_failures_lock_the_email_for_a_while(
    api: httpx.AsyncClient, browsers: Browser
) -> None:
    await person(api, "grace@example.org", "Grace Hopper")
    browser = browsers()
    for email in ("grace@example.org", "ghost@example.org"):
        for _ in range(5):
            failed = await browser.post("/auth/sign-in", json={"email": email, "password": "x"})
            assert failed.status_code == 401
        locked = await browser.post("/auth/sign-in", json={"email": email, "password": PASSWORD})
        assert locked.status_code == 429, "locked, even with the right password"
        assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    other = await browser.post(
        "/auth/sign-in", json={"email": "GRACE@example.org ", "password": PASSWORD}
    )
    assert other.status_code == 429, "the same email however it is written"
    nul = await browser.post("/auth/sign-in", json={"email": "a\x00@x.org", "password": "x"})
    assert nul.status_code == 422, "refused at the field, not by PostgreSQL"


async def test_roles_decide_who_reads_and_who_steers(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    ours, theirs = await mission(api), await mission(api)
    await person(api, "vera@example.org", "Vera Viewer")
    await person(api, "cora@example.org", "Cora Coordinator")
    await person(api, "oona@example.org", "Oona Outsider")
    await member(api, ours, "vera@example.org", "viewer")
    await member(api, ours, "cora@example.org", "coordinator")
    await member(api, theirs, "oona@example.org", "owner")

    viewer = browsers()
    viewer_csrf = await signed_in(viewer, "vera@example.org")
    assert (await viewer.get(f"/missions/{ours}")).status_code == 200
    refused = await viewer.post(
        f"/missions/{ours}/cancel", json={"reason": "x"}, headers={"X-CSRF-Token": viewer_csrf}
    )
    assert refused.status_code == 403, refused.text
    assert [m["id"] for m in (await viewer.get("/missions")).json()] == [ours]

    outsider = browsers()
    outsider_csrf = await signed_in(outsider, "oona@example.org")
    assert (await outsider.get(f"/missions/{ours}")).status_code == 404
    hidden = await outsider.post(
        f"/missions/{ours}/cancel",
        json={"reason": "not mine"},
        headers={"X-CSRF-Token": outsider_csrf},
    )
    assert hidden.status_code == 404 and hidden.json()["detail"] == f"No mission with id {ours!r}."
    assert (await outsider.get(f"/missions/{ours}/emails")).status_code == 404
    joined = await outsider.post(
        f"/missions/{ours}/members",
        json={"email": "oona@example.org", "role": "owner"},
        headers={"X-CSRF-Token": outsider_csrf},
    )
    assert joined.status_code == 404, "an owner of another mission adds no one here"

    coordinator = browsers()
    csrf = await signed_in(coordinator, "cora@example.org")
    unproven = await coordinator.post(f"/missions/{ours}/cancel", json={"reason": "Forged"})
    assert unproven.status_code == 403, "a cookie without the CSRF token changes nothing"
    assert (await api.get(f"/missions/{ours}")).json()["phase"] == "call_open"
    cancelled = await coordinator.post(
        f"/missions/{ours}/cancel",
        json={"reason": "The venue closed", "by": "Mallory"},
        headers={"X-CSRF-Token": csrf},
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["phase"] == "cancelled"
    assert (await api.get(f"/missions/{theirs}")).json()["phase"] == "call_open"

    async with session_factory() as session:
        entries = (
            await session.exec(select(AuditEntry).where(AuditEntry.mission_id == ours))
        ).all()
        assert [(e.action, e.by, e.detail) for e in entries] == [
            ("mission.cancelled", "Cora Coordinator <cora@example.org>", "The venue closed")
        ], "named from the sign-in, not from the body's by"

    async def recorded() -> None:
        async with session_factory() as session:
            row = await session.get(Mission, ours)
            assert row is not None and row.phase == "cancelled"

    await eventually(recorded)


async def test_a_personal_token_works_until_it_is_revoked(
    api: httpx.AsyncClient, browsers: Browser
) -> None:
    ours = await mission(api)
    await person(api, "tom@example.org", "Tom Token")
    await member(api, ours, "tom@example.org", "coordinator")
    browser = browsers()
    csrf = await signed_in(browser, "tom@example.org")
    created = await browser.post(
        "/auth/tokens", json={"name": "scripts", "role": "viewer"}, headers={"X-CSRF-Token": csrf}
    )
    assert created.status_code == 201, created.text
    token = created.json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}

    client = browsers()
    assert (await client.get(f"/missions/{ours}", headers=bearer)).status_code == 200
    narrowed = await client.post(f"/missions/{ours}/cancel", json={"reason": "x"}, headers=bearer)
    assert narrowed.status_code == 403, "the token is scoped to viewer"
    me = (await client.get("/auth/me", headers=bearer)).json()
    assert (me["email"], me["token_role"]) == ("tom@example.org", "viewer")
    listed = (await browser.get("/auth/tokens")).json()
    assert [(t["name"], t["last_used_at"] is not None) for t in listed] == [("scripts", True)]
    assert "token" not in listed[0], "shown once"

    revoked = await browser.delete(
        f"/auth/tokens/{created.json()['id']}", headers={"X-CSRF-Token": csrf}
    )
    assert revoked.status_code == 204
    after = await client.get(f"/missions/{ours}", headers=bearer)
    assert after.status_code == 401 and after.headers["www-authenticate"] == "Bearer"


async def test_the_bootstrap_token_is_the_administrator(api: httpx.AsyncClient) -> None:
    me = (await api.get("/auth/me")).json()
    assert (me["name"], me["is_admin"], me["person_id"]) == ("administrator", True, None)
    assert (await api.post("/auth/tokens", json={"name": "x"})).status_code == 403
    assert (await api.get("/people", headers=ANONYMOUS)).status_code == 401
    assert (await api.get("/people")).status_code == 200


async def test_a_reviewer_sees_only_assigned_applications_without_contact(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    ours = await mission(api)
    reviewer = await person(api, "rita@example.org", "Rita Reviewer")
    await member(api, ours, "rita@example.org", "reviewer")
    ids = []
    for country, city in (("DE", "Munich"), ("FR", "Lyon")):
        body = {
            **APPLICATION,
            "organisation": f"Cluster {city}",
            "country": country,
            "city": city,
            "contact_email": f"jana@{city.lower()}.example.org",
        }
        applied = await api.post(f"/missions/{ours}/applications", json=body, headers=ANONYMOUS)
        assert applied.status_code == 201, applied.text
        ids.append(applied.json()["application_id"])
    assigned = await api.post(
        f"/missions/{ours}/review-assignments",
        json={"application_id": ids[1], "person_id": reviewer["id"]},
    )
    assert assigned.status_code == 201, assigned.text

    browser = browsers()
    await signed_in(browser, "rita@example.org")
    listed = await browser.get(f"/missions/{ours}/applications")
    assert listed.status_code == 200, listed.text
    assert [(a["id"], a["contact_email"], a["contact_name"]) for a in listed.json()] == [
        (ids[1], "", "")
    ]
    one = await browser.get(f"/missions/{ours}/applications/{ids[1]}")
    assert one.status_code == 200, one.text
    assert (one.json()["organisation"], one.json()["contact_email"]) == ("Cluster Lyon", "")
    assert (await browser.get(f"/missions/{ours}/applications/{ids[0]}")).status_code == 404
    assert (await browser.get(f"/missions/{ours}")).status_code == 403
    assert (await browser.get(f"/missions/{ours}/personal-data/{ids[1]}")).status_code == 403
    await person(api, "carl@example.org", "Carl Coordinator")
    await member(api, ours, "carl@example.org", "coordinator")
    coordinator = browsers()
    await signed_in(coordinator, "carl@example.org")
    exported = await coordinator.get(f"/missions/{ours}/personal-data/{ids[0]}")
    assert exported.status_code == 200, exported.text
    async with session_factory() as session:
        entries = (
            await session.exec(select(AuditEntry).where(AuditEntry.mission_id == ours))
        ).all()
        assert [(e.action, e.by, e.subject) for e in entries] == [
            ("personal_data.exported", "Carl Coordinator <carl@example.org>", ids[0])
        ]
    everything = (await api.get(f"/missions/{ours}/applications")).json()
    assert {a["contact_email"] for a in everything} == {
        "jana@munich.example.org",
        "jana@lyon.example.org",
    }


async def test_an_approval_by_token_names_its_person_not_the_body(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    document = rehearsal(matchmaking=None, visits=[])
    document["call"].update(deadline="+PT4S", reminders=[])
    document["selection"].update(decision_due="+PT1H", delegation_lock="+PT2H", auto_approve=False)
    document["reporting"].update(report_due="+PT3H", follow_up=[])
    assert (await api.post("/missions", json=document)).status_code == 201
    path = f"/missions/{document['id']}"
    await person(api, "olga@example.org", "Olga Owner")
    await member(api, document["id"], "olga@example.org", "owner")
    browser = browsers()
    csrf = await signed_in(browser, "olga@example.org")
    made = await browser.post(
        "/auth/tokens",
        json={"name": "approvals", "mission_id": document["id"]},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}
    applied = await api.post(f"{path}/applications", json=APPLICATION, headers=ANONYMOUS)
    assert applied.status_code == 201, applied.text

    async def proposed() -> None:
        assert (await api.get(f"{path}/selection")).json()["proposed"] is True

    await eventually(proposed, within=30)
    approved = await browser.post(
        f"{path}/selection/approve", json={"by": "Mallory"}, headers=bearer
    )
    assert approved.status_code == 200, approved.text
    async with session_factory() as session:
        rows = (
            await session.exec(
                select(SelectionEvent).where(
                    SelectionEvent.mission_id == document["id"], SelectionEvent.action == "approved"
                )
            )
        ).all()
        assert [row.by for row in rows] == ["Olga Owner <olga@example.org>"]
    elsewhere = await browser.get("/missions", headers=bearer)
    assert [m["id"] for m in elsewhere.json()] == [document["id"]], "a token for one mission"


async def test_an_administrators_narrowed_token_reads_every_mission_and_administers_nothing(
    api: httpx.AsyncClient, browsers: Browser
) -> None:
    ours = await mission(api)
    await person(api, "ida@example.org", "Ida Admin", is_admin=True)
    browser = browsers()
    csrf = await signed_in(browser, "ida@example.org")
    made = await browser.post(
        "/auth/tokens",
        json={"name": "dashboards", "role": "viewer"},
        headers={"X-CSRF-Token": csrf},
    )
    assert made.status_code == 201, made.text
    bearer = {"Authorization": f"Bearer {made.json()['token']}"}
    client = browsers()
    assert (await client.get(f"/missions/{ours}", headers=bearer)).status_code == 200
    assert (await client.get("/people", headers=bearer)).status_code == 403
    assert (await client.post("/missions", json=rehearsal(), headers=bearer)).status_code == 403
    assert (await browser.get("/people")).status_code == 200, "the session administers"


async def test_a_form_proves_itself_with_its_csrf_field_and_a_session_expires(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    await person(api, "fay@example.org", "Fay Form")
    browser = browsers()
    csrf = await signed_in(browser, "fay@example.org")
    wrong = await browser.post("/auth/sign-out", data={"csrf_token": "not it"})
    assert wrong.status_code == 403
    signed_out = await browser.post("/auth/sign-out", data={"csrf_token": csrf})
    assert signed_out.status_code == 204

    await signed_in(browser, "fay@example.org")
    assert (await browser.get("/auth/me")).status_code == 200
    async with session_factory() as session, session.begin():
        for row in (await session.exec(select(PersonSession))).all():
            row.expires_at = row.created_at
    assert (await browser.get("/auth/me")).status_code == 401, "past its expiry"
