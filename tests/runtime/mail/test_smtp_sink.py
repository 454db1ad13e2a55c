"""The dev SMTP sink catches real SMTP traffic, and /dev/mailbox shows it safely."""

from __future__ import annotations

import email.policy
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

import aiosmtplib
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.main import create_app
from missionflow.runtime.mail.sink import STORED_HEADERS, header, parse, start_sink, stored_headers
from missionflow.runtime.models import SinkMessage
from missionflow.runtime.settings import Settings

SUBJECT = "Délégation – agenda"
HTML = "<p>Your <b>agenda</b> is attached.</p><script>alert('owned')</script>"
ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//missionflow//test//EN\r\nEND:VCALENDAR\r\n"


@dataclass
class Caught:
    agenda: SinkMessage
    notice: SinkMessage
    agenda_message_id: str
    notice_message_id: str
    client: httpx.AsyncClient


def agenda_email(message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "missionflow <missions@example.org>"
    message["To"] = "Ana Núñez <ana@example.es>"
    message["Reply-To"] = "coordinators@example.org"
    message["Subject"] = SUBJECT
    message["Message-ID"] = message_id
    message["Auto-Submitted"] = "auto-generated"
    message["X-Missionflow-Template"] = "agenda"
    message["X-Missionflow-Mission"] = "eu-us-2017"
    message.set_content("Your agenda is attached.\nMeeting 1: 09:00 EDT, table 4.\n")
    message.add_alternative(HTML, subtype="html")
    message.add_attachment(ICS, maintype="text", subtype="calendar", filename="agenda.ics")
    return message


def notice_email(message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "missions@example.org"
    message["To"] = "one@example.org, two@example.org"
    message["Subject"] = "Call closed"
    message["Message-ID"] = message_id
    message["X-Missionflow-Template"] = "call_closed"
    message["X-Missionflow-Mission"] = "eu-japan-2016"
    message.set_content("The call is closed: 42 applications.\n")
    return message


def folded_email() -> EmailMessage:
    """Long subjects, folded over several lines (one encoded), and a repeated header."""
    message = notice_email(make_msgid(domain="example.org"))
    message.replace_header("Subject", "Réunion B2B – " + "délégation européenne " * 8)
    message["X-Missionflow-Template"] = "a second one, which a reader ignores"
    message["X-Missionflow-Mission"] = "a-mission-" + "very-long-" * 10 + "id"
    return message


@pytest.mark.parametrize(
    "raw",
    [
        agenda_email("<agenda@example.org>").as_bytes(),
        notice_email("<notice@example.org>").as_bytes(),
        folded_email().as_bytes(),
        folded_email().as_bytes(policy=email.policy.SMTPUTF8),  # raw UTF-8 headers
        b"Subject: no other header\r\n\r\nX-Missionflow-Template: in the body\r\n",
    ],
    ids=["agenda", "notice", "folded", "smtputf8", "headers-end-at-the-blank-line"],
)
def test_stored_headers_read_as_the_email_package_reads_them(raw: bytes) -> None:
    message = parse(raw)
    expected = {name: header(message, name) for name in STORED_HEADERS}
    assert stored_headers(raw) == {n: v for n, v in expected.items() if v is not None}


def test_stored_headers_keep_what_cannot_be_decoded() -> None:
    raw = b"Subject: =?x-no-such-charset?q?caf=E9?=\r\n\r\nbody\r\n"
    assert stored_headers(raw) == {"subject": "=?x-no-such-charset?q?caf=E9?="}


@pytest.fixture
async def caught(
    engine: AsyncEngine, session_factory: async_sessionmaker[AsyncSession]
) -> AsyncIterator[Caught]:
    """Both messages sent through a real sink over SMTP, and a client for the app."""
    server = await start_sink(session_factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        agenda_id, notice_id = make_msgid(domain="example.org"), make_msgid(domain="example.org")
        await aiosmtplib.send(agenda_email(agenda_id), hostname="127.0.0.1", port=port)
        await aiosmtplib.send(notice_email(notice_id), hostname="127.0.0.1", port=port)
        async with session_factory() as session:
            rows = list(
                await session.exec(select(SinkMessage).order_by(col(SinkMessage.received_at)))
            )
        assert len(rows) == 2
        app = create_app(Settings(api_token="t" * 20), engine=engine, mailbox=True)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield Caught(rows[0], rows[1], agenda_id, notice_id, client)
    finally:
        server.close()
        await server.wait_closed()


async def test_sink_stores_each_message(caught: Caught) -> None:
    agenda, notice = caught.agenda, caught.notice
    assert agenda.mail_from == "missions@example.org"
    assert agenda.recipients == ["ana@example.es"]
    assert agenda.subject == SUBJECT
    assert agenda.message_id == caught.agenda_message_id
    assert (agenda.template, agenda.mission_id) == ("agenda", "eu-us-2017")
    assert caught.agenda_message_id in agenda.raw
    assert "BEGIN:VCALENDAR" not in agenda.raw  # attachments travel base64-encoded
    assert agenda.received_at.utcoffset() is not None

    assert notice.recipients == ["one@example.org", "two@example.org"]
    assert notice.subject == "Call closed"
    assert (notice.template, notice.mission_id) == ("call_closed", "eu-japan-2016")
    assert caught.notice_message_id in notice.raw


async def test_list_page_shows_newest_first_and_filters(caught: Caught) -> None:
    response = await caught.client.get("/dev/mailbox")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "missionflow · dev mailbox" in page
    assert page.index("Call closed") < page.index(SUBJECT)
    assert f"/dev/mailbox/{caught.agenda.id}" in page
    assert "one@example.org, two@example.org" in page

    only_us = (await caught.client.get("/dev/mailbox", params={"mission": "eu-us-2017"})).text
    assert SUBJECT in only_us
    assert "Call closed" not in only_us
    only_closed = (await caught.client.get("/dev/mailbox?template=call_closed")).text
    assert "Call closed" in only_closed
    assert SUBJECT not in only_closed
    one = (await caught.client.get("/dev/mailbox?limit=1")).text
    assert "Call closed" in one
    assert SUBJECT not in one
    assert (await caught.client.get("/dev/mailbox?limit=0")).status_code == 422


async def test_message_page_sandboxes_the_html(caught: Caught) -> None:
    response = await caught.client.get(f"/dev/mailbox/{caught.agenda.id}")
    assert response.status_code == 200
    page = response.text
    assert "<iframe sandbox srcdoc=" in page
    assert "&lt;script&gt;alert(&#39;owned&#39;)&lt;/script&gt;" in page
    assert "&lt;b&gt;agenda&lt;/b&gt;" in page
    assert "<script" not in page.lower()
    assert "Meeting 1: 09:00 EDT, table 4." in page
    assert SUBJECT in page
    for value in ("Ana Núñez", "coordinators@example.org", "auto-generated", "eu-us-2017"):
        assert value in page
    assert caught.agenda_message_id.strip("<>") in page
    assert f"/dev/mailbox/{caught.agenda.id}/attachments/0" in page
    assert "agenda.ics" in page
    assert "text/calendar" in page
    assert f"{len(ICS)} bytes" in page

    notice = (await caught.client.get(f"/dev/mailbox/{caught.notice.id}")).text
    assert "No HTML part." in notice
    assert "The call is closed: 42 applications." in notice
    assert "No attachments." in notice


async def test_attachment_and_raw_downloads(caught: Caught) -> None:
    response = await caught.client.get(f"/dev/mailbox/{caught.agenda.id}/attachments/0")
    assert response.status_code == 200
    assert response.content == ICS
    assert response.headers["content-type"].startswith("text/calendar")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert "agenda.ics" in response.headers["content-disposition"]
    for index in ("1", "x"):
        missing = await caught.client.get(f"/dev/mailbox/{caught.agenda.id}/attachments/{index}")
        assert missing.status_code == 404
        assert "detail" in missing.json()

    for path in (f"/dev/mailbox/{caught.agenda.id}.eml", f"/dev/mailbox/{caught.agenda.id}/raw"):
        response = await caught.client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "message/rfc822"
        assert response.text == caught.agenda.raw
        assert f"Message-ID: {caught.agenda_message_id}" in response.text


async def test_json_listing_and_missing_messages(caught: Caught) -> None:
    response = await caught.client.get("/dev/mailbox/messages.json")
    assert response.status_code == 200
    entries = response.json()
    assert [entry["id"] for entry in entries] == [str(caught.notice.id), str(caught.agenda.id)]
    assert entries[0]["recipients"] == ["one@example.org", "two@example.org"]
    assert entries[1]["subject"] == SUBJECT
    assert (entries[1]["template"], entries[1]["mission_id"]) == ("agenda", "eu-us-2017")
    assert entries[1]["mail_from"] == "missions@example.org"
    assert entries[1]["received_at"].endswith(("Z", "+00:00"))
    filtered = await caught.client.get("/dev/mailbox/messages.json?mission=eu-japan-2016")
    assert [entry["id"] for entry in filtered.json()] == [str(caught.notice.id)]

    for missing in (str(uuid.uuid4()), "not-a-uuid", f"{uuid.uuid4()}.eml"):
        response = await caught.client.get(f"/dev/mailbox/{missing}")
        assert response.status_code == 404, missing
        assert response.headers["content-type"] == "application/json"
        assert json.loads(response.text)["detail"]
    assert (await caught.client.get(f"/dev/mailbox/{uuid.uuid4()}/raw")).status_code == 404
