"""The console in a real headless Chromium over a real socket (chromedriver, W3C WebDriver):
a coordinator signs in with the form, is refused once, and opens a mission's page."""

from __future__ import annotations

import httpx
from support import rehearsal
from test_apply_in_browser import Browser, browser, served
from test_people_and_roles import PASSWORD

from missionflow.runtime.settings import Settings

__all__ = ["browser", "served"]  # the fixtures this module's test uses


async def test_sign_in_and_open_a_mission_in_a_real_browser(
    served: str, browser: Browser, settings: Settings
) -> None:
    headers = {"Authorization": f"Bearer {settings.coordinator_token()}"}
    document = rehearsal()
    async with httpx.AsyncClient(base_url=served, headers=headers, timeout=30) as api:
        assert (await api.post("/missions", json=document)).status_code == 201
        person = {"email": "cora@example.org", "display_name": "Cora Coordinator"}
        created = await api.post("/people", json={**person, "password": PASSWORD})
        assert created.status_code == 201, created.text
        member = {"email": "cora@example.org", "role": "coordinator"}
        added = await api.post(f"/missions/{document['id']}/members", json=member)
        assert added.status_code == 201, added.text

    await browser.open(f"{served}/console")
    assert (await browser.text("h1")) == "Sign in", "sent to the sign-in page"
    await browser.type("input[name=email]", "cora@example.org")
    await browser.type("input[name=password]", "not the password")
    async with browser.loading():
        await browser.click("button[type=submit]")
    assert "Wrong email or password." in await browser.text("#sign-in-problem")
    await browser.type("input[name=password]", PASSWORD)
    async with browser.loading():
        await browser.click(".sign-in button[type=submit]")

    assert (await browser.text("h1")) == "Missions"
    assert "Signed in as Cora Coordinator" in await browser.text("header")
    async with browser.loading():
        await browser.click(f'a[href="/console/missions/{document["id"]}"]')
    assert (await browser.text("h1")) == document["title"]
    assert (await browser.text("#phase")) == "Call open"
    assert (await browser.text("#waiting-for")).startswith("Call open: waiting for the deadline")
    assert await browser.property("#confirm", "required") is True
    assert await browser.attribute("#extend input[name=csrf_token]", "value")
