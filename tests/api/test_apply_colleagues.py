"""Colleagues on the HTML application form: three optional rows of name, email and role, sent
as a browser sends them (docs/colleagues.md)."""

from __future__ import annotations

import httpx
from sqlmodel import func, select
from test_apply_page import Page, filled, send, started

from missionflow.runtime.models import Application
from missionflow.runtime.representatives import Representative

EMPTY_ROWS = {
    f"colleagues.{row}.{part}": "" for row in range(3) for part in ("name", "email", "role")
}


async def test_the_colleagues_of_the_form_are_stored_with_the_application(
    api: httpx.AsyncClient, session_factory
) -> None:
    mission = await started(api)
    form = await api.get(f"/missions/{mission['id']}/apply")
    page = Page(form.text)
    for row in range(3):
        assert "required" not in page.one("input", name=f"colleagues.{row}.name")
    fields = filled(
        **EMPTY_ROWS
        | {
            "colleagues.0.name": "Cleo Roth",
            "colleagues.0.email": "cleo@nano.example.org",
            "colleagues.0.role": "CTO",
            "colleagues.2.name": "Dan Weiss",
            "colleagues.2.email": "dan@nano.example.org",
        },
    )
    response = await send(api, mission["id"], fields)
    assert response.status_code == 201, response.text
    async with session_factory() as session:
        application = (await session.exec(select(Application))).one()
        stored = (await session.exec(select(Representative))).all()
    assert sorted((c.name, c.email, c.role, c.side) for c in stored) == [
        ("Cleo Roth", "cleo@nano.example.org", "CTO", "delegate"),
        ("Dan Weiss", "dan@nano.example.org", None, "delegate"),
    ]
    assert {c.organisation_id for c in stored} == {application.id}


async def test_a_half_filled_colleague_row_is_refused_at_its_fields(
    api: httpx.AsyncClient, session_factory
) -> None:
    mission = await started(api)
    fields = filled(
        **EMPTY_ROWS
        | {
            "colleagues.0.name": "Cleo Roth",
            "colleagues.0.email": "cleo@nano.example.org",
            "colleagues.1.role": "CFO",  # neither name nor email
            "colleagues.2.name": "Dan Weiss",
            "colleagues.2.email": "not an address",
        },
    )
    response = await send(api, mission["id"], fields)
    assert response.status_code == 422, response.text
    page = Page(response.text)
    assert "fill in this field" in page.said("colleagues.1.name-error")
    assert "fill in this field" in page.said("colleagues.1.email-error")
    assert "Not a valid email address" in page.said("colleagues.2.email-error")
    assert page.said("colleagues.0.name-error") == ""
    assert page.one("a", href="#colleagues.1.name")
    assert "Colleague 3: Email" in page.said("error-summary")
    assert page.one("input", name="colleagues.1.name")["aria-invalid"] == "true"
    # What was typed is kept.
    assert page.one("input", name="colleagues.1.role")["value"] == "CFO"
    assert page.one("input", name="colleagues.2.name")["value"] == "Dan Weiss"
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Application)) == 0
        assert await session.scalar(select(func.count()).select_from(Representative)) == 0
