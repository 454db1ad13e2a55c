"""A real SMTP server on loopback that refuses chosen recipients for good (550) until told
otherwise, and keeps every message it accepts: how a test makes an email fail, then resends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.smtp import SMTP

NO_SUCH_USER = "550 5.1.1 no such user"


class RefusingMailbox:
    """An aiosmtpd handler; `refused` holds the addresses answered with `NO_SUCH_USER`."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refused: set[str] = set()
        self.port = 0

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.refused:
            return NO_SUCH_USER
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        return "250 Message accepted for delivery"

    def sent(self, template: str, to: str) -> list[EmailMessage]:
        return [
            m
            for m in self.messages
            if m["X-Missionflow-Template"] == template and to in str(m["To"]).lower()
        ]


@asynccontextmanager
async def refusing_mailbox() -> AsyncIterator[RefusingMailbox]:
    box = RefusingMailbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(box, hostname="mailbox.test"), "127.0.0.1", 0)
    box.port = server.sockets[0].getsockname()[1]
    try:
        yield box
    finally:
        server.close()
        await server.wait_closed()
