"""QR check-in walked in a real headless Chromium over a real socket: a host opens their agenda
page by their private link and sees the QR code of their check-in link (an <svg>) with the code
under it; a coordinator signs in, opens the check-in page, and the code is typed into its field
the way a USB scanner types what it reads (the link, then Enter): the page says who is checked
in, and counts them."""

from __future__ import annotations

import httpx
from test_apply_in_browser import Browser, browser, served
from test_check_in_desk import HOSTS, desk_mission
from test_people_and_roles import PASSWORD

from missionflow.runtime.settings import Settings

__all__ = ["browser", "served"]  # the fixtures this module's test uses

ENTER = "\ue007"  # WebDriver's key code for Enter


async def test_a_host_shows_the_code_and_the_desk_checks_them_in(
    served: str, browser: Browser, settings: Settings
) -> None:
    headers = {"Authorization": f"Bearer {settings.coordinator_token()}"}
    document = desk_mission("+PT40S")
    ours = document["id"]
    async with httpx.AsyncClient(base_url=served, headers=headers, timeout=30) as api:
        assert (await api.post("/missions", json=document)).status_code == 201
        loaded = await api.post(
            f"/missions/{ours}/hosts", content=HOSTS, headers={"Content-Type": "text/csv"}
        )
        assert loaded.status_code == 200, loaded.text
        host = next(h for h in loaded.json()["hosts"] if h["name"] == "Boston Nanofab")
        person = {"email": "cora@example.org", "display_name": "Cora Coordinator"}
        assert (await api.post("/people", json={**person, "password": PASSWORD})).is_success
        member = {"email": "cora@example.org", "role": "coordinator"}
        assert (await api.post(f"/missions/{ours}/members", json=member)).status_code == 201

    token = host["private_url"].split("token=")[1]
    await browser.open(f"{served}/missions/{ours}/participants/{host['id']}/agenda?token={token}")
    assert (await browser.text("h1")).startswith("Your agenda:")
    await browser.find("#check-in svg")
    assert await browser.attribute("#check-in svg", "class") == "segno"
    caption = await browser.text("#check-in figcaption")
    assert caption.startswith("Your check-in code: ")
    code = caption.removeprefix("Your check-in code: ")

    await browser.open(f"{served}/console/sign-in")
    await browser.type("input[name=email]", "cora@example.org")
    await browser.type("input[name=password]", PASSWORD)
    async with browser.loading():
        await browser.click(".sign-in button[type=submit]")
    assert (await browser.text("h1")) == "Missions"
    await browser.open(f"{served}/console/missions/{ours}/check-in")
    assert (await browser.text("h1")) == "Check-in"
    assert (await browser.text("#arrival-counts")).startswith("Arrived: 0 of 2")
    link = f"{settings.base_url}/console/missions/{ours}/check-in?code={code}"
    async with browser.loading():
        await browser.type("#code", link + ENTER)  # as a USB scanner types the QR code's link
    assert "Boston Nanofab (host) is checked in" in await browser.text("#checked-in")
    assert (await browser.text("#arrival-counts")).startswith("Arrived: 1 of 2")
    assert "Boston Nanofab" in await browser.text("#arrivals")
    assert await browser.property("#code", "value") == ""  # ready for the next scan

    async with browser.loading():
        await browser.type("#code", code.lower() + ENTER)  # typed by hand, scanned again
    assert "is already checked in: since" in await browser.text("#checked-in")
    assert (await browser.text("#arrival-counts")).startswith("Arrived: 1 of 2")
