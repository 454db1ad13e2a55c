"""A real SMTP server that records what it accepts, and messages queued in the outbox.

`Recorder` is an aiosmtpd handler on loopback that can refuse or defer chosen recipients;
`queue_one`, `queue_many` and `statuses` put messages in the outbox and read them back.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from mail_contexts import COORDINATORS, MAIL_FROM, MISSION, context
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from activities.email import EmailActivities
from missionflow.runtime.mail.outbox import queue
from missionflow.runtime.models import OutboxMessage
from missionflow.runtime.settings import Settings


@dataclass
class Delivered:
    mail_from: str
    recipients: list[str]
    peer: Any
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """An aiosmtpd handler: records what it accepts; answers chosen recipients with `refuse`."""

    delivered: list[Delivered] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    connections: int = 0
    on_rcpt: Callable[[str], Awaitable[None]] | None = None
    on_data: Callable[[Delivered], Awaitable[None]] | None = None

    async def handle_EHLO(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.on_rcpt:
            await self.on_rcpt(address)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        delivered = Delivered(envelope.mail_from or "", list(envelope.rcpt_tos), session.peer, raw)
        self.delivered.append(delivered)
        if self.on_data:
            await self.on_data(delivered)
        return "250 Message accepted for delivery"

    def message_ids(self) -> Counter[str]:
        return Counter(str(d.message["Message-ID"]) for d in self.delivered)


def unix_lines(text: str) -> str:
    """A body as rendered: it travels with CRLF line endings and is decoded with them."""
    return text.replace("\r\n", "\n")


async def serve(recorder: Recorder, port: int) -> asyncio.AbstractServer:
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTPServer(recorder, hostname="sink.test", loop=loop), "127.0.0.1", port
    )


def activities_for(engine: AsyncEngine, port: int) -> EmailActivities:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from=MAIL_FROM)
    return EmailActivities(engine, settings)


async def queue_one(
    session: AsyncSession, mission_id: str, template: str, recipient: str, **options: Any
) -> OutboxMessage:
    values: dict[str, Any] = {
        "recipient_name": "Ana Núñez",
        "context": context(template),
        "idempotency_key": f"{mission_id}:{template}:{recipient}",
        "reply_to": [f"{c['name']} <{c['email']}>" for c in COORDINATORS],
        "from_name": MISSION["organiser"],
        "auto_submitted": template == "deadline_reminder",
        "sender": MAIL_FROM,
        "now": datetime.now(UTC),
        **options,
    }
    return await queue(
        session, mission_id=mission_id, template=template, recipient=recipient, **values
    )


async def queue_many(
    session_factory: async_sessionmaker[AsyncSession], mission_id: str, count: int
) -> list[OutboxMessage]:
    """Alternating reminders and confirmations to applicant-<i>@example.org."""
    async with session_factory() as session:
        rows = [
            await queue_one(
                session,
                mission_id,
                "deadline_reminder" if i % 2 == 0 else "application_received",
                f"applicant-{i}@example.org",
            )
            for i in range(count)
        ]
        await session.commit()
    return rows


async def statuses(session_factory: async_sessionmaker[AsyncSession]) -> dict[str, OutboxMessage]:
    async with session_factory() as session:
        rows = await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.created_at)))
        return {row.recipient: row for row in rows}
