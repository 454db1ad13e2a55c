"""The coordinator console's pages over HTTP, on the real dev server and both databases: the
sign-in form (its CSRF field, refusals, lockout, signing out), the missions a person may read,
a mission's page by role, and its forms steering the mission with the person named in the
audit log."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

import httpx
from sqlmodel import select
from support import eventually
from test_people_and_roles import PASSWORD, member, mission, person

from missionflow.runtime.audit import AuditEntry
from missionflow.runtime.models import Mission

Browser = Callable[[], httpx.AsyncClient]
"""The `browsers` fixture (tests/api/conftest.py) hands out clients of this shape."""

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF_FIELD.search(page.text)
    assert found is not None, page.text
    return found.group(1)


async def sign_in(
    browser: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    """Open the sign-in page and send its form, as a browser does."""
    form = await browser.get("/console/sign-in")
    assert form.status_code == 200, form.text
    data = {"email": email, "password": password, "csrf_token": csrf_of(form)}
    return await browser.post("/console/sign-in", data=data)


async def signed_in(browser: httpx.AsyncClient, email: str) -> None:
    answer = await sign_in(browser, email)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/console"


async def test_the_sign_in_form_signs_in_refuses_and_signs_out(
    api: httpx.AsyncClient, browsers: Browser
) -> None:
    await person(api, "ada@example.org", "Ada Lovelace")
    browser = browsers()
    away = await browser.get("/console")
    assert (away.status_code, away.headers["location"]) == (303, "/console/sign-in")

    wrong = await sign_in(browser, "ada@example.org", "not it")
    assert wrong.status_code == 401
    assert "Wrong email or password." in wrong.text and 'value="ada@example.org"' in wrong.text
    assert "missionflow_session" not in browser.cookies

    forged = await browser.post(
        "/console/sign-in",
        data={"email": "ada@example.org", "password": PASSWORD, "csrf_token": "not it"},
    )
    assert forged.status_code == 403, "another site cannot sign this browser in"
    assert "missionflow_session" not in browser.cookies

    answer = await sign_in(browser, " ADA@example.org")
    assert (answer.status_code, answer.headers["location"]) == (303, "/console")
    session = next(
        c.lower() for c in answer.headers.get_list("set-cookie") if "missionflow_session" in c
    )
    assert "httponly" in session and "samesite=lax" in session, "the cookie /auth/sign-in sets"
    home = await browser.get("/console")
    assert home.status_code == 200, home.text
    assert "Signed in as Ada Lovelace" in home.text
    assert "no-store" in home.headers["cache-control"]
    assert "script-src" not in home.headers["content-security-policy"], "no script at all"
    assert (await browser.get("/auth/me")).json()["email"] == "ada@example.org"

    unproven = await browser.post("/console/sign-out", data={"csrf_token": "not it"})
    assert unproven.status_code == 403 and "not from your session" in unproven.text
    out = await browser.post("/console/sign-out", data={"csrf_token": csrf_of(home)})
    assert (out.status_code, out.headers["location"]) == (303, "/console/sign-in?done=signed-out")
    assert "You are signed out." in (await browser.get(out.headers["location"])).text
    assert (await browser.get("/console")).status_code == 303
    assert (await browser.get("/auth/me")).status_code == 401


async def test_a_locked_email_is_told_how_long_to_wait(
    api: httpx.AsyncClient, browsers: Browser
) -> None:
    await person(api, "grace@example.org", "Grace Hopper")
    browser = browsers()
    for _ in range(5):
        assert (await sign_in(browser, "grace@example.org", "x")).status_code == 401
    locked = await sign_in(browser, "grace@example.org")
    assert locked.status_code == 429, "locked, even with the right password"
    assert 0 < int(locked.headers["retry-after"]) <= 15 * 60
    assert "Try again in 15 minutes." in locked.text
    nul = await sign_in(browser, "a\x00@example.org", "x")
    assert nul.status_code == 422, "refused at the form, never sent to the database"


async def test_the_missions_page_lists_only_the_persons_missions(
    api: httpx.AsyncClient, browsers: Browser
) -> None:
    ours, theirs, elsewhere = await mission(api), await mission(api), await mission(api)
    await person(api, "cora@example.org", "Cora Coordinator")
    await member(api, ours, "cora@example.org", "coordinator")
    await member(api, theirs, "cora@example.org", "reviewer")
    browser = browsers()
    await signed_in(browser, "cora@example.org")
    page = await browser.get("/console")
    assert page.status_code == 200, page.text
    assert f'href="/console/missions/{ours}"' in page.text
    assert elsewhere not in page.text, "a mission she has no role on is not even named"
    assert theirs not in page.text, "a reviewer does not read the mission: it is not listed"
    assert "Call open" in page.text
    next_instant = (await api.get(f"/missions/{ours}")).json()["next"]
    assert next_instant["text"] in page.text, "the next instant locally and in UTC"
    assert f"/namespaces/default/workflows/mission-{ours}" in page.text

    everything = (await api.get("/console")).text
    assert ours in everything and theirs in everything, "an administrator sees every mission"


async def test_the_mission_page_by_role(api: httpx.AsyncClient, browsers: Browser) -> None:
    ours = await mission(api)
    await person(api, "cora@example.org", "Cora Coordinator")
    await person(api, "vera@example.org", "Vera Viewer")
    await person(api, "oona@example.org", "Oona Outsider")
    await member(api, ours, "cora@example.org", "coordinator")
    await member(api, ours, "vera@example.org", "viewer")
    path = f"/console/missions/{ours}"

    coordinator = browsers()
    await signed_in(coordinator, "cora@example.org")
    page = await coordinator.get(path)
    assert page.status_code == 200, page.text
    assert 'id="extend"' in page.text and 'id="cancel"' in page.text
    assert "Call open: waiting for the deadline" in page.text
    assert "Europe/Brussels" in page.text

    viewer = browsers()
    await signed_in(viewer, "vera@example.org")
    seen = await viewer.get(path)
    assert seen.status_code == 200, seen.text
    assert 'id="extend"' not in seen.text and 'id="cancel"' not in seen.text
    refused = await viewer.post(
        f"{path}/cancel", data={"csrf_token": csrf_of(seen), "reason": "x", "confirm": "yes"}
    )
    assert refused.status_code == 403, refused.text

    outsider = browsers()
    await signed_in(outsider, "oona@example.org")
    hidden = await outsider.get(path)
    assert hidden.status_code == 404 and f"No mission with id &#39;{ours}&#39;" in hidden.text
    home = await outsider.get("/console")
    posted = await outsider.post(
        f"{path}/cancel", data={"csrf_token": csrf_of(home), "reason": "x", "confirm": "yes"}
    )
    assert posted.status_code == 404
    assert (await api.get(f"/missions/{ours}")).json()["phase"] == "call_open"

    for answer in (
        await api.get("/console/missions/no-such-mission"),
        await api.post("/console/missions/no-such-mission/cancel", data={"reason": "x"}),
    ):
        assert answer.status_code == 404, "an administrator is told it does not exist"
        assert answer.headers["content-type"].startswith("text/html")


async def test_the_forms_extend_the_deadline_and_cancel_naming_the_person(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    ours = await mission(api)
    await person(api, "cora@example.org", "Cora Coordinator")
    await member(api, ours, "cora@example.org", "coordinator")
    browser = browsers()
    await signed_in(browser, "cora@example.org")
    path = f"/console/missions/{ours}"
    csrf = csrf_of(await browser.get(path))
    before = (await api.get(f"/missions/{ours}")).json()["deadline"]["utc"]

    unproven = await browser.post(f"{path}/deadline", data={"deadline": "+PT9M"})
    assert unproven.status_code == 403, "a form without the session's CSRF token"
    bad = await browser.post(f"{path}/deadline", data={"csrf_token": csrf, "deadline": "soon"})
    assert bad.status_code == 422
    assert 'id="deadline-error"' in bad.text and 'value="soon"' in bad.text
    # The rehearsal's call closes 2 minutes after it starts, its selection is due at 3.
    late = await browser.post(f"{path}/deadline", data={"csrf_token": csrf, "deadline": "+PT9M"})
    assert late.status_code == 422 and 'id="deadline-error"' in late.text, late.text
    extended = await browser.post(
        f"{path}/deadline", data={"csrf_token": csrf, "deadline": "+PT160S"}
    )
    assert extended.status_code == 303, extended.text
    assert (extended.status_code, extended.headers["location"]) == (303, f"{path}?done=extended")
    assert "The deadline is extended" in (await browser.get(extended.headers["location"])).text
    after = (await api.get(f"/missions/{ours}")).json()["deadline"]["utc"]
    assert after > before

    unconfirmed = await browser.post(
        f"{path}/cancel", data={"csrf_token": csrf, "reason": "The venue closed"}
    )
    assert unconfirmed.status_code == 422 and 'id="confirm-error"' in unconfirmed.text
    assert "The venue closed</textarea>" in unconfirmed.text, "what was typed is kept"
    assert (await api.get(f"/missions/{ours}")).json()["phase"] == "call_open"
    cancelled = await browser.post(
        f"{path}/cancel",
        data={"csrf_token": csrf, "reason": "The venue closed", "confirm": "yes"},
    )
    assert (cancelled.status_code, cancelled.headers["location"]) == (303, f"{path}?done=cancelled")
    page = await browser.get(cancelled.headers["location"])
    assert "The mission is cancelled" in page.text and 'id="cancel"' not in page.text
    assert (await api.get(f"/missions/{ours}")).json()["phase"] == "cancelled"

    async with session_factory() as session:
        entries = (
            await session.exec(
                select(AuditEntry).where(AuditEntry.mission_id == ours).order_by(AuditEntry.at)  # type: ignore[arg-type]
            )
        ).all()
    by = "Cora Coordinator <cora@example.org>"
    assert [(e.action, e.by) for e in entries] == [
        ("deadline.extended", by),
        ("mission.cancelled", by),
    ]
    assert entries[0].detail is not None
    assert datetime.fromisoformat(entries[0].detail) == datetime.fromisoformat(after)
    assert entries[1].detail == "The venue closed"

    async def recorded() -> None:
        async with session_factory() as session:
            row = await session.get(Mission, ours)
            assert row is not None and row.phase == "cancelled"

    await eventually(recorded)
