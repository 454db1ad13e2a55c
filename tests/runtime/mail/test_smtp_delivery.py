"""Delivery over SMTP: a batch over one connection with its headers, refused, deferred and
unsendable recipients, hostile names, dots and large messages, the batch limit.

Delivery runs against a real aiosmtpd server on loopback that records every envelope and can
refuse or defer chosen recipients, on SQLite and on PostgreSQL. The activity method is called
directly: it is a plain coroutine, and it heartbeats only inside a Temporal activity.
"""

from __future__ import annotations

import asyncio
import socket
from collections import Counter
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiosmtplib
import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from mail_contexts import COORDINATORS, MAIL_FROM, MISSION, SHOWN_DEADLINE, context
from outbox_support import Recorder, activities_for, queue_many, queue_one, statuses, unix_lines
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.email import EmailActivities
from missionflow.domain.mission.messages import DeliveryReport, DeliveryRequest
from missionflow.runtime.mail.message import build_message
from missionflow.runtime.models import OutboxMessage


async def test_a_batch_goes_out_once_each_over_one_connection_with_its_headers(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    queued = await queue_many(session_factory, mission_id, 50)
    delivery = activities_for(engine, smtp_port)

    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=50, failed=0, deferred=0, remaining=0)
    assert recorder.connections == 1
    assert len({d.peer for d in recorder.delivered}) == 1
    assert recorder.message_ids() == Counter({row.message_id: 1 for row in queued})
    rows = await statuses(session_factory)
    for delivered in recorder.delivered:
        message = delivered.message
        row = rows[delivered.recipients[0]]
        assert delivered.recipients == [row.recipient]
        assert delivered.mail_from == "missions@example.org"
        assert message["Message-ID"] == row.message_id
        assert message["From"].addresses[0].display_name == MISSION["organiser"]
        assert message["From"].addresses[0].addr_spec == "missions@example.org"
        assert str(message["To"]) == f"Ana Núñez <{row.recipient}>"
        assert [a.addr_spec for a in message["Reply-To"].addresses] == [
            c["email"] for c in COORDINATORS
        ]
        assert message["Subject"] == row.subject
        assert parsedate_to_datetime(message["Date"]).tzinfo is not None
        assert message["X-Missionflow-Template"] == row.template
        assert message["X-Missionflow-Mission"] == mission_id
        if row.template == "deadline_reminder":
            assert message["Auto-Submitted"] == "auto-generated"
        else:
            assert "Auto-Submitted" not in message
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert text is not None and html is not None
        assert unix_lines(text.get_content()) == row.text_body
        assert unix_lines(html.get_content()) == row.html_body
        assert SHOWN_DEADLINE in text.get_content()
    assert {row.status for row in rows.values()} == {"sent"}
    assert all(row.sent_at and row.attempts == 1 for row in rows.values())


async def test_a_refused_recipient_fails_alone(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    await queue_many(session_factory, mission_id, 6)
    recorder.refuse["applicant-2@example.org"] = "550 5.1.1 <applicant-2@example.org>: no such user"

    report = await activities_for(engine, smtp_port).deliver_outbox(
        DeliveryRequest(mission_id=mission_id)
    )

    assert report == DeliveryReport(sent=5, failed=1, deferred=0, remaining=0)
    rows = await statuses(session_factory)
    refused = rows["applicant-2@example.org"]
    assert refused.status == "failed" and refused.smtp_code == 550
    assert refused.last_error == "550 5.1.1 <applicant-2@example.org>: no such user"
    assert refused.failed_at is not None and refused.sent_at is None
    assert sorted(d.recipients[0] for d in recorder.delivered) == sorted(
        r for r in rows if r != "applicant-2@example.org"
    )


async def test_addresses_that_cannot_be_sent_fail_alone(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    """Not an address at all, or a non-ASCII one for a server without SMTPUTF8."""
    async with session_factory() as session:
        for recipient in ("ana@example.es", "not-an-address", "jose@exämple.es", "bo@example.se"):
            await queue_one(session, mission_id, "call_closed", recipient)
        await session.commit()

    report = await activities_for(engine, smtp_port).deliver_outbox(
        DeliveryRequest(mission_id=mission_id)
    )

    assert report == DeliveryReport(sent=2, failed=2, deferred=0, remaining=0)
    rows = await statuses(session_factory)
    assert "is not an email address" in (rows["not-an-address"].last_error or "")
    assert "SMTPUTF8" in (rows["jose@exämple.es"].last_error or "")
    assert sorted(d.recipients[0] for d in recorder.delivered) == [
        "ana@example.es",
        "bo@example.se",
    ]


async def test_a_deferred_recipient_is_queued_again_with_the_servers_answer(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    await queue_many(session_factory, mission_id, 4)
    recorder.refuse["applicant-1@example.org"] = "451 4.7.1 Greylisted, try again later"
    delivery = activities_for(engine, smtp_port)

    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=3, failed=0, deferred=1, remaining=1)
    deferred = (await statuses(session_factory))["applicant-1@example.org"]
    assert deferred.status == "queued" and deferred.smtp_code == 451
    assert deferred.last_error == "451 4.7.1 Greylisted, try again later"

    recorder.refuse.clear()
    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=1, failed=0, deferred=0, remaining=0)
    assert sum(recorder.message_ids().values()) == 4 == len(recorder.message_ids())
    assert (await statuses(session_factory))["applicant-1@example.org"].attempts == 2


async def test_hostile_names_inject_no_header_and_no_recipient(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    mission = {**MISSION, "title": "Mission\r\nBcc: evil-subject@example.net"}
    async with session_factory() as session:
        await queue_one(
            session,
            mission_id,
            "mission_cancelled",
            "ana@example.es",
            recipient_name="Eve\r\nBcc: evil@example.net",
            from_name="Organiser\nX-Injected: yes",
            context=context("mission_cancelled", mission=mission),
        )
        await session.commit()

    report = await activities_for(engine, smtp_port).deliver_outbox(
        DeliveryRequest(mission_id=mission_id)
    )

    assert report.sent == 1
    [delivered] = recorder.delivered
    assert delivered.recipients == ["ana@example.es"]
    message = delivered.message
    assert "Bcc" not in message and "X-Injected" not in message
    headers = delivered.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers and b"\r\nX-Injected:" not in headers
    assert message["To"].addresses[0].display_name == "Eve Bcc: evil@example.net"
    assert message["To"].addresses[0].addr_spec == "ana@example.es"
    assert message["Subject"] == "Cancelled: Mission Bcc: evil-subject@example.net"


async def test_a_stored_header_with_a_line_break_is_refused_not_sent() -> None:
    row = OutboxMessage(
        mission_id="m",
        template="call_closed",
        idempotency_key="k",
        recipient="ana@example.es",
        subject="s",
        text_body="t",
        html_body="<p>h</p>",
        headers={"X-Missionflow-Mission": "m\r\nBcc: evil@example.net"},
        message_id="<1@example.org>",
        status="queued",
    )
    with pytest.raises(ValueError):
        build_message(row, sender=MAIL_FROM, now=datetime.now(UTC))


async def test_a_line_holding_only_a_dot_arrives_intact(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    reason = "The venue closed.\n.\n..and nothing else could be found."
    async with session_factory() as session:
        row = await queue_one(
            session,
            mission_id,
            "mission_cancelled",
            "ana@example.es",
            context=context("mission_cancelled", reason=reason),
        )
        await session.commit()

    await activities_for(engine, smtp_port).deliver_outbox(DeliveryRequest(mission_id=mission_id))

    [delivered] = recorder.delivered
    html = delivered.message.get_body(("html",))
    assert html is not None and unix_lines(html.get_content()) == row.html_body
    assert f">{reason}</blockquote>" in row.html_body


async def test_a_message_larger_than_the_socket_buffers_arrives_whole(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With small socket buffers, most of a 1 MB message waits in asyncio's own buffer (the
    "sent" commit waits for it to leave); it must still arrive whole and once."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTPServer(recorder, hostname="sink.test", loop=loop), sock=listener
    )
    connect = EmailActivities._connect

    async def small_send_buffer(self: EmailActivities) -> aiosmtplib.SMTP:
        smtp = await connect(self)
        smtp.get_transport_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        return smtp

    monkeypatch.setattr(EmailActivities, "_connect", small_send_buffer)
    reason = "\n".join(f"Paragraph {n}: the venue withdrew its offer." for n in range(20_000))
    async with session_factory() as session:
        row = await queue_one(
            session,
            mission_id,
            "mission_cancelled",
            "ana@example.es",
            context=context("mission_cancelled", reason=reason),
        )
        await session.commit()

    try:
        report = await activities_for(engine, listener.getsockname()[1]).deliver_outbox(
            DeliveryRequest(mission_id=mission_id)
        )
    finally:
        server.close()
        await server.wait_closed()

    assert report.sent == 1
    [delivered] = recorder.delivered
    assert len(delivered.raw) > 1_000_000
    text = delivered.message.get_body(("plain",))
    assert text is not None and unix_lines(text.get_content()) == row.text_body


async def test_a_batch_limit_leaves_the_rest_for_the_next_call(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    queued = await queue_many(session_factory, mission_id, 5)
    delivery = activities_for(engine, smtp_port)

    first = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id, limit=3))
    second = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id, limit=3))

    assert (first.sent, first.remaining, second.sent, second.remaining) == (3, 2, 2, 0)
    delivered_order = [d.message["Message-ID"] for d in recorder.delivered]
    assert delivered_order == [row.message_id for row in queued]  # oldest first
