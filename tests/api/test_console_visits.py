"""The console's visits page over HTTP with real sign-ins, on the real dev server and both
databases: when delegates can take places, then who holds one and who waits, a visit changed
and cancelled through its forms (delegates emailed), and attendance marked once the visit has
started, by role (a viewer reads, a coordinator steers, a reviewer and an outsider are refused).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from support import eventually, rehearsal
from test_console_pages import Browser, csrf_of, signed_in
from test_matchmaking_api import PUBLIC, application
from test_people_and_roles import member, person

from missionflow.domain.instants import describe
from missionflow.domain.mission.file import load_mission
from missionflow.runtime.models import Mission, VisitRegistration


def visiting_mission() -> dict[str, Any]:
    """Two delegates seated within seconds; Berlin (one place) starts 35 s after the start, New
    York minutes later."""
    document = rehearsal(matchmaking=None)
    document["call"].update(deadline="+PT4S", reminders=[], invitees=[])
    document["selection"].update(
        capacity=2,
        max_per_country=None,
        decision_due="+PT5S",
        confirm_within="PT3S",
        delegation_lock="+PT10S",
        auto_approve=True,
    )
    document["visits"][0].update(starts_at="+PT35S", ends_at="+PT5M", capacity=1)
    document["visits"][1].update(starts_at="+PT6M", ends_at="+PT7M")
    document["reporting"].update(feedback_within="PT1M", report_due="+PT10M", follow_up=[])
    return document


async def test_the_visits_page_its_forms_and_attendance(
    api: httpx.AsyncClient,
    browsers: Browser,
    mailbox: Any,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await person(api, "cora@example.org", "Cora Coordinator")
    await person(api, "vera@example.org", "Vera Viewer")
    await person(api, "rita@example.org", "Rita Reviewer")
    await person(api, "oona@example.org", "Oona Outsider")
    coordinator, viewer, reviewer, outsider = browsers(), browsers(), browsers(), browsers()
    for browser, email in (
        (coordinator, "cora@example.org"),
        (viewer, "vera@example.org"),
        (reviewer, "rita@example.org"),
        (outsider, "oona@example.org"),
    ):
        await signed_in(browser, email)
    document = visiting_mission()
    started = datetime.now(UTC)
    assert (await api.post("/missions", json=document)).status_code == 201
    ours, mission = document["id"], f"/missions/{document['id']}"
    links = {}
    for name in ("Alpha", "Beta"):
        created = (await api.post(f"{mission}/applications", json=application(name))).json()
        links[name] = (created["application_id"], created["access_token"])
    plan = load_mission(document, now=started)
    await member(api, ours, "cora@example.org", "coordinator")
    await member(api, ours, "vera@example.org", "viewer")
    await member(api, ours, "rita@example.org", "reviewer")
    path = f"/console/missions/{ours}/visits"

    before = await viewer.get(path)
    assert before.status_code == 200, before.text
    assert "No delegate holds a place yet" in before.text
    assert describe(plan.selection.delegation_lock, plan.timezone) in before.text
    assert 'aria-current="page">Visits</a>' in before.text
    assert (await reviewer.get(path)).status_code == 403
    assert (await outsider.get(path)).status_code == 404

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
    (alpha, alpha_token), (beta, _) = links["Alpha"], links["Beta"]
    for visit in ("berlin", "new-york"):  # Alpha by her own link
        taken = await api.post(
            f"{mission}/visits/{visit}/registrations?token={alpha_token}",
            json={"application_id": alpha},
            headers=PUBLIC,
        )
        assert taken.status_code == 201, taken.text

    page = await coordinator.get(path)
    csrf = csrf_of(page)
    offered = page.text.split('id="place-berlin"', 1)[1].split("</form>", 1)[0]
    assert f'<option value="{beta}">Beta Cluster' in offered and alpha not in offered
    unchosen = await coordinator.post(f"{path}/berlin/places", data={"csrf_token": csrf})
    assert unchosen.status_code == 422 and 'id="berlin-place-application_id-error"' in unchosen.text
    for visit, done, said in (
        ("berlin", "waitlisted", "The visit is full: the delegate is on its waitlist."),
        ("new-york", "registered", "The delegate holds a place on the visit"),
    ):
        given = await coordinator.post(
            f"{path}/{visit}/places", data={"csrf_token": csrf, "application_id": beta}
        )
        assert (given.status_code, given.headers["location"]) == (
            303,
            f"{path}?done={done}#visit-{visit}",
        ), given.text
        assert said in (await coordinator.get(given.headers["location"])).text

    seen = await viewer.get(path)
    assert seen.status_code == 200, seen.text
    assert "No delegate holds a place yet" not in seen.text
    berlin = seen.text.split('id="visit-berlin"', 1)[1].split('id="visit-new-york"', 1)[0]
    assert "Alpha Cluster" in berlin and "alpha@example.org" in berlin
    assert "Beta Cluster" in berlin and "Waitlisted (1)" in berlin
    assert "1 of 1 taken, 1 waiting" in berlin
    assert describe(plan.visits[0].starts_at, "Europe/Berlin") in berlin, "in the city's zone"
    assert "<form" not in seen.text.split("</header>", 1)[1], "a viewer steers nothing"

    page = await coordinator.get(path)
    assert 'id="change-berlin"' in page.text and 'id="cancel-new-york"' in page.text
    assert 'name="attendance"' not in page.text, "no attendance before a visit starts"
    assert 'id="place-berlin"' not in page.text, "every confirmed delegate holds a place there"
    change = f"{path}/berlin/change"
    assert (await viewer.post(change, data={"csrf_token": csrf_of(seen)})).status_code == 403
    home = await outsider.get("/console")
    assert (await outsider.post(change, data={"csrf_token": csrf_of(home)})).status_code == 404
    assert (await coordinator.post(change, data={"address": "x"})).status_code == 403

    unreadable = await coordinator.post(change, data={"csrf_token": csrf, "starts_at": "soon"})
    assert unreadable.status_code == 422, unreadable.text
    assert 'id="berlin-change-starts_at-error"' in unreadable.text
    assert 'value="soon"' in unreadable.text and '<details class="steer" open>' in unreadable.text
    past = await coordinator.post(change, data={"csrf_token": csrf, "ends_at": "2000-01-01T10:00"})
    assert past.status_code == 422 and 'id="berlin-change-ends_at-error"' in past.text
    assert "has already passed" in past.text
    nul = await coordinator.post(change, data={"csrf_token": csrf, "address": "a\x00b"})
    assert nul.status_code == 422 and 'id="berlin-change-address-error"' in nul.text
    nothing = await coordinator.post(change, data={"csrf_token": csrf, "address": "  "})
    assert nothing.status_code == 422 and "Say what changes" in nothing.text
    moved = await coordinator.post(
        change,
        data={"csrf_token": csrf, "address": "Invalidenstraße 2, 10115 Berlin", "note": "New!"},
    )
    assert (moved.status_code, moved.headers["location"]) == (
        303,
        f"{path}?done=changed#visit-berlin",
    ), moved.text
    after = await coordinator.get(moved.headers["location"])
    assert "The visit is changed" in after.text
    assert "Invalidenstraße 2, 10115 Berlin" in after.text
    listed = await api.get(f"{mission}/visits")
    assert listed.json()[0]["address"] == "Invalidenstraße 2, 10115 Berlin"

    async def told() -> None:
        for name in ("alpha", "beta"):
            assert mailbox.sent("visit_changed", to=f"{name}@example.org"), name

    await eventually(told)

    given_up = await coordinator.post(
        f"{path}/new-york/give-up", data={"csrf_token": csrf, "application_id": beta}
    )
    assert given_up.status_code == 303, given_up.text
    left = (await coordinator.get(given_up.headers["location"])).text
    assert "The place is given up" in left
    new_york = left.split('id="visit-new-york"', 1)[1]
    assert "Alpha Cluster" in new_york.split('id="place-new-york"')[0]
    assert "1 of 10 taken" in new_york and f'<option value="{beta}">' in new_york
    nobody = await coordinator.post(
        f"{path}/new-york/give-up", data={"csrf_token": csrf, "application_id": beta}
    )
    assert nobody.status_code == 409 and "no place on the visit to New York" in nobody.text

    cancel = f"{path}/new-york/cancel"
    unconfirmed = await coordinator.post(cancel, data={"csrf_token": csrf, "note": "Storm."})
    assert (
        unconfirmed.status_code == 422 and 'id="new-york-cancel-confirm-error"' in unconfirmed.text
    )
    assert "Storm." in unconfirmed.text, "what was sent is kept"
    cancelled = await coordinator.post(
        cancel, data={"csrf_token": csrf, "note": "Storm.", "confirm": "yes"}
    )
    assert cancelled.status_code == 303, cancelled.text
    gone = await coordinator.get(cancelled.headers["location"])
    assert "The visit is cancelled" in gone.text and "New York (cancelled)" in gone.text
    assert 'id="change-new-york"' not in gone.text
    assert (await api.get(f"{mission}/visits")).json()[1]["cancelled"] is True
    again = await coordinator.post(
        cancel, data={"csrf_token": csrf, "note": "Again.", "confirm": "yes"}
    )
    assert again.status_code == 409 and "is cancelled" in again.text, again.text

    attendance = f"{path}/berlin/attendance"
    early = await coordinator.post(
        attendance, data={"csrf_token": csrf, "application_id": alpha, "attendance": "attended"}
    )
    assert early.status_code == 409 and "once the visit has started" in early.text

    async def begun() -> httpx.Response:
        page = await coordinator.get(path)
        assert 'value="attended"' in page.text
        return page

    page = await eventually(begun, within=40)
    assert page.text.count('name="attendance" value="attended"') == 1, "only the registered"
    wrong = await coordinator.post(
        attendance, data={"csrf_token": csrf, "application_id": alpha, "attendance": "maybe"}
    )
    assert wrong.status_code == 422, wrong.text
    waiting = await coordinator.post(
        attendance, data={"csrf_token": csrf, "application_id": beta, "attendance": "attended"}
    )
    assert waiting.status_code == 409 and "was not registered" in waiting.text
    marked = await coordinator.post(
        attendance, data={"csrf_token": csrf, "application_id": alpha, "attendance": "no_show"}
    )
    assert (marked.status_code, marked.headers["location"]) == (
        303,
        f"{path}?done=attendance#visit-berlin",
    ), marked.text
    shown = await viewer.get(path)
    assert "No-show" in shown.text.split('id="visit-berlin"', 1)[1].split("</table>", 1)[0]
    async with session_factory() as session:
        rows = (
            await session.exec(
                select(VisitRegistration).where(VisitRegistration.mission_id == ours)
            )
        ).all()
    assert {(r.visit_id, str(r.application_id)): (r.status, r.attendance) for r in rows} == {
        ("berlin", alpha): ("registered", "no_show"),
        ("berlin", beta): ("waitlisted", None),
        ("new-york", alpha): ("registered", None),
        ("new-york", beta): ("cancelled", None),
    }


async def test_a_mission_without_visits_says_so(
    api: httpx.AsyncClient,
    browsers: Browser,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    plan = load_mission(rehearsal(visits=[]), now=datetime.now(UTC))
    async with session_factory() as session:
        session.add(
            Mission(
                id=plan.id,
                workflow_id=plan.workflow_id,
                title=plan.title,
                organiser=plan.organiser,
                timezone=plan.timezone,
                phase="call_open",
                file=plan.model_dump(mode="json"),
            )
        )
        await session.commit()
    await person(api, "cora@example.org", "Cora Coordinator")
    await member(api, plan.id, "cora@example.org", "coordinator")
    coordinator = browsers()
    await signed_in(coordinator, "cora@example.org")
    page = await coordinator.get(f"/console/missions/{plan.id}/visits")
    assert page.status_code == 200, page.text
    assert "This mission has no cluster visits." in page.text
    assert 'class="visit' not in page.text
