"""Starting a mission from the console by uploading its file, over HTTP on the real dev server
and both databases: an administrator's upload starts it and makes them its owner (as POST
/missions does for a person), a file with errors is shown again with every error at the upload
field as POST /missions locates them, and no one else may start one."""

from __future__ import annotations

import html
import re

import httpx
from sqlmodel import select
from support import EXAMPLES, unique_id
from test_console_pages import Browser, csrf_of, signed_in
from test_people_and_roles import person

from missionflow.runtime.models import Mission
from missionflow.runtime.people import Membership

REHEARSAL = (EXAMPLES / "rehearsal.yaml").read_text()


def rehearsal_file(mission_id: str, *changes: tuple[str, str]) -> bytes:
    """examples/rehearsal.yaml under a fresh id (the dev server outlives one test), changed."""
    text = re.sub(r"(?m)^id: rehearsal$", f"id: {mission_id}", REHEARSAL)
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    return text.encode()


async def upload(
    browser: httpx.AsyncClient, content: bytes, name: str = "mission.yaml", **fields: str
) -> httpx.Response:
    page = await browser.get("/console")
    assert page.status_code == 200, page.text
    return await browser.post(
        "/console/missions",
        data={"csrf_token": csrf_of(page), **fields},
        files={"file": (name, content, "application/octet-stream")},
    )


async def missions(session_factory) -> list[str]:
    async with session_factory() as session:
        return list((await session.exec(select(Mission.id))).all())


async def test_an_administrator_uploads_a_mission_file_and_owns_the_mission(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    ada = await person(api, "ada@example.org", "Ada Lovelace", is_admin=True)
    browser = browsers()
    await signed_in(browser, "ada@example.org")
    home = await browser.get("/console")
    assert (
        'action="/console/missions"' in home.text and 'enctype="multipart/form-data"' in home.text
    )

    mission_id = unique_id("rehearsal")
    started = await upload(browser, rehearsal_file(mission_id))
    assert started.status_code == 303, started.text
    assert started.headers["location"] == f"/console/missions/{mission_id}?done=started"
    page = await browser.get(started.headers["location"])
    assert page.status_code == 200, page.text
    assert "Rehearsal mission (ten minutes end to end)" in page.text
    assert "The mission is started" in page.text and "Call open" in page.text
    async with session_factory() as session:
        owners = await session.exec(select(Membership).where(Membership.mission_id == mission_id))
        assert [(m.person_id.hex, m.role) for m in owners] == [
            (ada["id"].replace("-", ""), "owner")
        ]
    members = (await api.get(f"/missions/{mission_id}/members")).json()
    assert [(m["email"], m["role"]) for m in members] == [("ada@example.org", "owner")]

    again = await upload(browser, rehearsal_file(mission_id))
    assert again.status_code == 409 and "already exists" in again.text

    # The JSON route, by the same person's session, makes its starter owner the same way.
    csrf = browser.cookies["missionflow_csrf"]
    by_json = await browser.post(
        "/missions",
        content=rehearsal_file(other := unique_id("rehearsal")),
        headers={"Content-Type": "application/yaml", "X-CSRF-Token": csrf},
    )
    assert by_json.status_code == 201, by_json.text
    members = (await api.get(f"/missions/{other}/members")).json()
    assert [(m["email"], m["role"]) for m in members] == [("ada@example.org", "owner")]
    by_token = await api.post("/missions", content=rehearsal_file(third := unique_id("r")))
    assert by_token.status_code == 415, "without a type, as before"
    by_token = await api.post(
        "/missions",
        content=rehearsal_file(third),
        headers={"Content-Type": "application/yaml"},
    )
    assert by_token.status_code == 201, by_token.text
    assert (await api.get(f"/missions/{third}/members")).json() == [], "the token is no person"


async def test_a_file_with_errors_is_shown_at_its_field_and_starts_nothing(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    await person(api, "ada@example.org", "Ada Lovelace", is_admin=True)
    browser = browsers()
    await signed_in(browser, "ada@example.org")
    before = await missions(session_factory)
    bad = rehearsal_file(
        unique_id("bad"),
        ("deadline: +PT2M", "deadline: someday"),
        ("timezone: Europe/Brussels", "timezone: Europe/Atlantis"),
    )
    refused = await upload(browser, bad)
    assert refused.status_code == 422, refused.text
    expected = await api.post(
        "/missions", content=bad, headers={"Content-Type": "application/yaml"}
    )
    assert expected.status_code == 422
    detail = expected.json()["detail"]
    assert {tuple(e["loc"][:3]) for e in detail} >= {
        ("body", "call", "deadline"),
        ("body", "timezone"),
    }
    for error in detail:
        line = f"{'.'.join(str(part) for part in error['loc'][1:])}: {error['msg']}"
        assert line in html.unescape(refused.text), line
    assert 'aria-invalid="true"' in refused.text
    assert await missions(session_factory) == before, "nothing started"

    unreadable = await upload(browser, b"id: [unclosed", name="mission.yml")
    assert unreadable.status_code == 422 and "not valid YAML" in unreadable.text
    wrong_kind = await upload(browser, b"%PDF-1.4", name="mission.pdf")
    assert wrong_kind.status_code == 415 and "application/yaml" in wrong_kind.text
    json_file = await upload(browser, b'{"id": "x"}', name="mission.json")
    assert json_file.status_code == 422 and "title: Field required" in json_file.text
    forged = await browser.post(
        "/console/missions",
        data={"csrf_token": "not it"},
        files={"file": ("m.yaml", rehearsal_file(unique_id("forged")), "application/yaml")},
    )
    assert forged.status_code == 403
    assert await missions(session_factory) == before, "nothing started"


async def test_only_an_administrator_may_start_a_mission_from_the_console(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    await person(api, "cora@example.org", "Cora Coordinator")
    browser = browsers()
    await signed_in(browser, "cora@example.org")
    home = await browser.get("/console")
    assert home.status_code == 200 and 'action="/console/missions"' not in home.text
    refused = await upload(browser, rehearsal_file(mission_id := unique_id("rehearsal")))
    assert refused.status_code == 403 and "Only an administrator" in refused.text
    assert mission_id not in await missions(session_factory)
