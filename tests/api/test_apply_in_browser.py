"""The public application form used in a real headless Chromium over a real socket, driven
through chromedriver with the W3C WebDriver protocol: in English, and in French."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import socket
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlmodel import select
from support import eventually
from temporalio.testing import WorkflowEnvironment
from test_apply_in_languages import OBJECTIVES_FR, QUESTION_DE, QUESTION_FR, multilingual
from test_apply_page import PDF, started

from api.main import create_app
from missionflow.runtime.models import Application, Slide
from missionflow.runtime.settings import Settings
from missionflow.stack.worker import build_worker

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# The W3C web element key is "element-6066-11e4-a4ad-00ea8c1de7ae"; chromedriver 156 answers
# with "element-6066-11e4-a52e-4f735466cecf". Either is read.
ELEMENT_PREFIX = "element-6066-11e4-"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """Just enough of the W3C WebDriver protocol to fill in a form like a person."""

    def __init__(self, http: httpx.AsyncClient, session_id: str) -> None:
        self._http = http
        self._session = f"/session/{session_id}"

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self._http.request(method, self._session + path, json=body)
        value = response.json()["value"]
        if response.status_code != 200:
            raise AssertionError(f"WebDriver {method} {path}: {value['error']}: {value['message']}")
        return value

    async def open(self, url: str) -> None:
        await self._call("POST", "/url", {"url": url})

    async def find(self, css: str, *, within: float = 10.0) -> str:
        """The element's WebDriver id, waiting for it to appear (a page may still be loading)."""
        loop = asyncio.get_running_loop()
        give_up = loop.time() + within
        while True:
            try:
                found = await self._call(
                    "POST", "/element", {"using": "css selector", "value": css}
                )
                return next(v for k, v in found.items() if k.startswith(ELEMENT_PREFIX))
            except AssertionError:
                if loop.time() > give_up:
                    raise
                await asyncio.sleep(0.1)

    @asynccontextmanager
    async def loading(self, *, within: float = 30.0) -> AsyncIterator[None]:
        """Wait, after the block, until the browser has left the page it was on. A click or an
        Enter that loads another page may return before the old page is gone, and reading it
        then gives the old page's text, or an element gone stale while it is read."""
        page = await self.find("html")
        yield
        loop = asyncio.get_running_loop()
        give_up = loop.time() + within
        while True:
            try:
                await self._call("GET", f"/element/{page}/name")
            except AssertionError as error:
                if "stale element" in str(error):
                    return
                raise
            if loop.time() > give_up:
                raise AssertionError(f"still on the same page after {within} s")
            await asyncio.sleep(0.05)

    async def type(self, css: str, text: str) -> None:
        await self._call("POST", f"/element/{await self.find(css)}/value", {"text": text})

    async def click(self, css: str) -> None:
        await self._call("POST", f"/element/{await self.find(css)}/click", {})

    async def text(self, css: str) -> str:
        return await self._call("GET", f"/element/{await self.find(css)}/text")

    async def property(self, css: str, name: str) -> Any:
        return await self._call("GET", f"/element/{await self.find(css)}/property/{name}")

    async def attribute(self, css: str, name: str) -> str | None:
        return await self._call("GET", f"/element/{await self.find(css)}/attribute/{name}")

    async def cookie(self, name: str) -> str:
        """A cookie's value, to fetch what a link downloads as this browser would."""
        return (await self._call("GET", f"/cookie/{name}"))["value"]

    async def screenshot(self, path: Path, *, width: int = 1280, height: int = 2600) -> None:
        await self._call("POST", "/window/rect", {"width": width, "height": height})
        png = base64.b64decode(await self._call("GET", "/screenshot"))
        await asyncio.to_thread(path.write_bytes, png)


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: run scripts/ensure-system-packages "
            "(Debian packages chromium and chromium-driver)"
        )
    port = _free_port()
    driver = await asyncio.create_subprocess_exec(
        str(CHROMEDRIVER),
        f"--port={port}",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: Chromium goes down with it
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as http:
            await eventually(lambda: _driver_ready(http, driver), within=20)
            options = {
                "binary": str(CHROMIUM),
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    "--window-size=1280,1600", f"--user-data-dir={tmp_path / 'chromium'}",
                ],
            }  # fmt: skip
            response = await http.post(
                "/session",
                json={
                    "capabilities": {
                        "alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": options}
                    }
                },
            )
            assert response.status_code == 200, response.text
            session_id = response.json()["value"]["sessionId"]
            try:
                yield Browser(http, session_id)
            finally:
                await http.delete(f"/session/{session_id}")
    finally:
        await _stop(driver)


async def _driver_ready(http: httpx.AsyncClient, driver: asyncio.subprocess.Process) -> None:
    assert driver.returncode is None, f"chromedriver exited with {driver.returncode}"
    try:
        response = await http.get("/status")
    except httpx.TransportError as error:
        raise AssertionError(f"chromedriver is not listening yet: {error}") from error
    assert response.json()["value"]["ready"] is True


async def _stop(process: asyncio.subprocess.Process) -> None:
    """Stop chromedriver and whatever it started (its process group), even after a failure."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 10)
    except ProcessLookupError:
        pass
    except TimeoutError:
        os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


@pytest.fixture
async def served(
    dev_env: WorkflowEnvironment, engine, settings: Settings, task_queue: str
) -> AsyncIterator[str]:
    """The API on a real loopback socket (uvicorn in this event loop), with a worker."""
    app = create_app(settings, client=dev_env.client, engine=engine, mailbox=False)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with build_worker(
            dev_env.client, task_queue=task_queue, engine=engine, settings=settings
        ):
            while not server.started:
                if serving.done():
                    serving.result()
                    raise AssertionError("uvicorn stopped before it started")
                await asyncio.sleep(0.02)
            yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
        listener.close()


async def test_apply_in_a_real_browser(
    served: str, browser: Browser, mailbox, session_factory, settings: Settings, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {settings.coordinator_token()}"}
    async with httpx.AsyncClient(base_url=served, headers=headers, timeout=30) as api:
        mission = await started(api)
    form_url = f"{served}/missions/{mission['id']}/apply"
    slide = tmp_path / "pitch.pdf"
    slide.write_bytes(PDF)

    await browser.open(form_url)
    assert (await browser.text("h1")) == f"Apply: {mission['title']}"
    await browser.type("#organisation", "Cluster Nano Bavaria")
    await browser.click("#organisation_type-sme")
    await browser.click('#country option[value="DE"]')
    await browser.type("#city", "Munich")
    await browser.type("#website", "https://nano.example.org")
    await browser.type("#contact_name", "Jana Weber")
    await browser.type("#contact_email", "jana.weber@example.org")
    await browser.click("#sector-1")
    await browser.type("#q-member_organisations", "42")
    await browser.click('#q-management_label option[value="Silver"]')
    await browser.type("#q-mission_objectives", "Meet partners in <nanomaterials> & energy")
    await browser.click("#q-first_mission-true")
    await browser.type("#slide", str(slide))
    await browser.click("#consent")
    assert await browser.property("#country", "value") == "DE"
    await browser.screenshot(tmp_path / "form.png")
    async with browser.loading():
        await browser.click("button[type=submit]")

    link = await browser.text(".private-link a")
    assert f"/missions/{mission['id']}/applications/" in link and "?token=" in link
    body = await browser.text("main")
    assert "Thank you: your application has been received" in body
    assert "Your private link" in body
    assert "Your application is complete" in body
    assert "sent a confirmation with your private link to jana.weber@example.org" in body
    await browser.screenshot(tmp_path / "applied.png")

    async with session_factory() as session:
        rows = (
            await session.exec(select(Application).where(Application.mission_id == mission["id"]))
        ).all()
        assert len(rows) == 1
        row = rows[0]
        assert (row.organisation, row.organisation_type, row.country) == (
            "Cluster Nano Bavaria",
            "sme",
            "DE",
        )
        assert row.sectors == ["Energy and sustainability"] and row.complete is True
        assert row.answers == {
            "member_organisations": 42,
            "management_label": "Silver",
            "mission_objectives": "Meet partners in <nanomaterials> & energy",
            "first_mission": True,
        }
        slides = (await session.exec(select(Slide).where(Slide.application_id == row.id))).all()
        assert [(s.filename, s.content) for s in slides] == [("pitch.pdf", PDF)]
    assert str(row.id) in body

    async def confirmed() -> None:
        sent = mailbox.sent("application_received", "jana.weber@example.org")
        assert len(sent) == 1 and link in sent[0].get_body(("plain",)).get_content()

    await eventually(confirmed)

    # A second visit, with an address the browser lets through and the server refuses.
    await browser.open(form_url)
    await browser.type("#organisation", "Cluster Energy Lyon")
    await browser.click("#organisation_type-cluster_organisation")
    await browser.click('#country option[value="FR"]')
    await browser.type("#city", "Lyon")
    await browser.type("#contact_name", "Paul Martin")
    await browser.type("#contact_email", "paul.martin@example")
    await browser.click("#sector-0")
    await browser.click("#consent")
    async with browser.loading():
        await browser.click("button[type=submit]")
    error = await browser.text("#contact_email-error")
    assert error.startswith("Not a valid email address: ")
    assert await browser.attribute("#contact_email", "aria-invalid") == "true"
    assert await browser.property("#contact_email", "value") == "paul.martin@example"
    assert await browser.property("#organisation", "value") == "Cluster Energy Lyon"
    assert await browser.property("#country", "value") == "FR"
    assert "Email: " in await browser.text("[role=alert]")
    await browser.screenshot(tmp_path / "refused.png")
    await browser.screenshot(tmp_path / "refused-phone.png", width=400, height=3600)

    for name in ("form.png", "applied.png", "refused.png", "refused-phone.png"):
        png = (tmp_path / name).read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 1000


async def test_apply_in_french_in_a_real_browser(
    served: str, browser: Browser, mailbox, session_factory, settings: Settings, tmp_path: Path
) -> None:
    headers = {"Authorization": f"Bearer {settings.coordinator_token()}"}
    document = multilingual()
    async with httpx.AsyncClient(base_url=served, headers=headers, timeout=30) as api:
        response = await api.post("/missions", json=document)
        assert response.status_code == 201, response.text
    form_url = f"{served}/missions/{document['id']}/apply?lang=fr"

    await browser.open(form_url)
    assert (await browser.text("h1")) == "Candidater : Mission de répétition"
    assert await browser.attribute("html", "lang") == "fr"
    assert await browser.property("#language", "value") == "fr"
    # The switch: German, then back to French, by link.
    async with browser.loading():
        await browser.click('a[hreflang="de"]')
    assert (await browser.text("h1")) == "Bewerbung: Probemission"
    assert QUESTION_DE in await browser.text('label[for="q-member_organisations"]')
    async with browser.loading():
        await browser.click('a[hreflang="fr"]')
    assert QUESTION_FR in await browser.text('label[for="q-member_organisations"]')
    assert OBJECTIVES_FR in await browser.text('label[for="q-mission_objectives"]')

    await browser.type("#organisation", "Cluster Énergie Lyon")
    await browser.click("#organisation_type-cluster_organisation")
    await browser.click('#country option[value="FR"]')
    await browser.type("#city", "Lyon")
    await browser.type("#contact_name", "Claire Dubois")
    await browser.type("#contact_email", "claire.dubois@example.org")
    await browser.click("#sector-1")
    await browser.type("#q-member_organisations", "85")
    assert (await browser.text('#q-management_label option[value="Silver"]')) == "Argent"
    await browser.click('#q-management_label option[value="Silver"]')
    await browser.type("#q-mission_objectives", "Rencontrer des partenaires « énergie »")
    await browser.click("#consent")
    await browser.screenshot(tmp_path / "formulaire.png")
    async with browser.loading():
        await browser.click("button[type=submit]")

    body = await browser.text("main")
    assert "Merci : votre candidature a bien été reçue" in body
    assert "Votre lien personnel" in body
    assert "Votre candidature est complète" in body
    assert await browser.attribute("html", "lang") == "fr"

    async with session_factory() as session:
        row = (
            await session.exec(select(Application).where(Application.mission_id == document["id"]))
        ).one()
    assert row.language == "fr"
    assert row.answers["management_label"] == "Silver"  # scored by the default text

    async def confirmed() -> Any:
        sent = mailbox.sent("application_received", "claire.dubois@example.org")
        assert len(sent) == 1
        return sent[0]

    email = await eventually(confirmed)
    assert email["Subject"].startswith("Manifestation d'intérêt reçue : Cluster Énergie Lyon")
    assert "Bonjour Claire Dubois," in email.get_body(("plain",)).get_content()
