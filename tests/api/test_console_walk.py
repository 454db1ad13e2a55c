"""A coordinator's whole mission in the console, in a real headless Chromium over a real socket:
sign in, start the rehearsal by uploading its file, watch the call, resend an email the relay
refused, review and approve the selection, download the report.

The API and a worker run on the time-skipping server, so the rehearsal's minutes of timers
pass when the test skips time (`WorkflowEnvironment.sleep`), while every page is what the
browser receives over HTTP and every email goes through a real SMTP server."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from refusing_mailbox import RefusingMailbox, refusing_mailbox
from support import eventually, rehearsal
from temporalio.testing import WorkflowEnvironment
from test_apply_in_browser import Browser, browser
from test_people_and_roles import PASSWORD, person
from test_selection_api import application

from api.main import create_app
from missionflow.runtime.settings import Settings
from missionflow.stack.worker import build_worker

__all__ = ["browser"]  # a fixture this module's test uses

REFUSED = "two@example.net"
"""One of the rehearsal's invitees: the relay refuses it until the test says otherwise."""


@pytest.fixture
async def mailbox() -> AsyncIterator[RefusingMailbox]:
    """Replaces the accepting mailbox of tests/conftest.py for this module's settings."""
    async with refusing_mailbox() as box:
        yield box


@pytest.fixture
async def skipping(
    time_env: WorkflowEnvironment, engine, settings: Settings, task_queue: str
) -> AsyncIterator[str]:
    """The API on a loopback socket with a worker, both on the time-skipping server."""
    app = create_app(settings, client=time_env.client, engine=engine, mailbox=False)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[listener]))
    try:
        async with build_worker(
            time_env.client, task_queue=task_queue, engine=engine, settings=settings
        ):
            while not server.started:
                if serving.done():
                    serving.result()
                    raise AssertionError("uvicorn stopped before it started")
                await asyncio.sleep(0.02)
            yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        server.should_exit = True
        await serving
        listener.close()


async def test_a_mission_walked_in_the_console(
    skipping: str,
    browser: Browser,
    time_env: WorkflowEnvironment,
    settings: Settings,
    mailbox: RefusingMailbox,
    tmp_path: Path,
) -> None:
    document = rehearsal()
    document["selection"]["auto_approve"] = False  # the coordinator approves it in the console
    mission_id, title = document["id"], document["title"]
    upload = tmp_path / "rehearsal.json"
    upload.write_text(json.dumps(document))
    mailbox.refused.add(REFUSED)
    bootstrap = {"Authorization": f"Bearer {settings.coordinator_token()}"}
    api = httpx.AsyncClient(base_url=skipping, headers=bootstrap, timeout=30)
    public = httpx.AsyncClient(base_url=skipping, timeout=30)
    async with api, public:
        await person(api, "ada@example.org", "Ada Admin", is_admin=True)

        # Sign in and start the rehearsal from its file.
        await browser.open(f"{skipping}/console")
        assert (await browser.text("h1")) == "Sign in"
        await browser.type(".sign-in input[name=email]", "ada@example.org")
        await browser.type(".sign-in input[name=password]", PASSWORD)
        async with browser.loading():
            await browser.click(".sign-in button[type=submit]")
        assert (await browser.text("h1")) == "Missions"
        await browser.type("#file", str(upload))
        async with browser.loading():
            await browser.click("#start button[type=submit]")
        assert (await browser.text("h1")) == title
        assert (await browser.text("#phase")) == "Call open"
        assert (await browser.text("#waiting-for")).startswith(
            "Call open: waiting for the deadline"
        )
        owners = (await api.get(f"/missions/{mission_id}/members")).json()
        assert [(m["email"], m["role"]) for m in owners] == [("ada@example.org", "owner")]

        # Watch the call: applications arrive and are listed.
        names = {"Alpha Cluster": "DE", "Beta Cluster": "FR", "Gamma Cluster": "ES"}
        for name, country in names.items():
            sent = await public.post(
                f"/missions/{mission_id}/applications", json=application(name, country)
            )
            assert sent.status_code == 201, sent.text
        await browser.open(f"{skipping}/console/missions/{mission_id}/applications")
        table = await browser.text("table")
        assert all(name in table for name in names), table

        # The relay refused the call's announcement to one invitee: send it again.
        failed = await eventually(lambda: _one_email(api, mission_id, REFUSED, "failed"))
        mailbox.refused.clear()
        await browser.open(f"{skipping}/console/missions/{mission_id}/outbox?status=failed")
        async with browser.loading():
            await browser.click(f"#email-{failed['id']} button[type=submit]")
        assert "again" in (await browser.text(".notice")).lower()
        await eventually(lambda: _one_email(api, mission_id, REFUSED, "sent"))
        assert len(mailbox.sent("call_announcement", REFUSED)) == 1

        # The call closes; the coordinator reviews the proposal and approves it.
        await time_env.sleep(timedelta(minutes=2, seconds=5))
        await eventually(lambda: _proposed(api, mission_id), within=30)
        await browser.open(f"{skipping}/console/missions/{mission_id}/selection")
        decisions = await browser.text("#decisions")
        assert all(name in decisions for name in names), decisions
        await browser.click("#confirm")
        async with browser.loading():
            await browser.click("#approve button[type=submit]")
        assert (await browser.text(".notice")) != ""
        selection = (await api.get(f"/missions/{mission_id}/selection")).json()
        assert selection["approved"] is True
        audit = (await api.get(f"/missions/{mission_id}/audit")).json()["entries"]
        approvals = [e for e in audit if e["action"] == "selection.approved"]
        assert [e["by"] for e in approvals] == ["Ada Admin <ada@example.org>"]

        # The mission runs on to its report; download it as the signed-in browser.
        await time_env.sleep(timedelta(minutes=8))
        await eventually(lambda: _reported(api, mission_id), within=60)
        await browser.open(f"{skipping}/console/missions/{mission_id}/report")
        assert (await browser.text("#version-1")) != ""
        href = await browser.attribute('#version-1 a[href*="report.pdf"]', "href")
        assert href is not None
        cookies = {"missionflow_session": await browser.cookie("missionflow_session")}
        async with httpx.AsyncClient(base_url=skipping, cookies=cookies) as signed_in:
            pdf = await signed_in.get(href)
        assert pdf.status_code == 200, pdf.text
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")


async def _one_email(
    api: httpx.AsyncClient, mission_id: str, to: str, status: str
) -> dict[str, Any]:
    page = (await api.get(f"/missions/{mission_id}/emails", params={"recipient": to})).json()
    assert [e["status"] for e in page["emails"]] == [status], page
    return page["emails"][0]


async def _proposed(api: httpx.AsyncClient, mission_id: str) -> None:
    assert (await api.get(f"/missions/{mission_id}/selection")).json()["proposed"] is True


async def _reported(api: httpx.AsyncClient, mission_id: str) -> None:
    assert (await api.get(f"/missions/{mission_id}/report.json")).status_code == 200
