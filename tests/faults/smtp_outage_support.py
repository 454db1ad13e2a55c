"""An SMTP relay on a fixed loopback port that a test takes down and brings back, as a relay
outage looks to the delivery: refusing connections (stopped), greeting every connection with
421 and closing it, or answering every recipient 451 ("try again later")."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from typing import Any, Literal

from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from support import rehearsal

from missionflow.domain.mission.file import MissionFile, load_mission

Outage = Literal["refused", "421", "451"]

REMINDER_AFTER = timedelta(minutes=30)
"""When the reminder goes out, from the mission's start (`reminded_call`)."""


def reminded_call(now: datetime, invitees: list[str]) -> MissionFile:
    """A rehearsal whose call, announced to `invitees` at `now`, reminds them all once, at
    `now + REMINDER_AFTER`, twenty minutes before its deadline."""
    document = rehearsal(matchmaking=None, visits=[])
    document["call"].update(
        deadline="+PT50M",
        reminders=["PT20M"],
        invitees=[
            {"organisation": f"Cluster {n}", "email": email} for n, email in enumerate(invitees)
        ],
    )
    document["selection"].update(decision_due="+PT51M", delegation_lock="+PT52M")
    document["reporting"]["report_due"] = "+PT55M"
    return load_mission(document, now=now, live=True)


class _Closing(asyncio.Protocol):
    """A server shutting down: greets with 421 and hangs up (RFC 5321 §3.1)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        transport.write(b"421 relay.test Service not available, closing transmission channel\r\n")
        transport.close()


@dataclass
class Relay:
    """Records each message it accepts as (recipient, X-Missionflow-Template)."""

    port: int = 0
    received: list[tuple[str, str]] = field(default_factory=list)
    deferring: bool = False
    _server: asyncio.AbstractServer | None = field(default=None, repr=False)

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.deferring:
            return "451 4.3.0 Relay busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        message = message_from_bytes(envelope.original_content or b"", policy=policy.default)
        for recipient in envelope.rcpt_tos:
            self.received.append((recipient, str(message["X-Missionflow-Template"])))
        return "250 Message accepted for delivery"

    def got(self, template: str) -> Counter[str]:
        """How many messages of `template` each recipient received."""
        return Counter(recipient for recipient, name in self.received if name == template)

    async def up(self) -> None:
        """Serve SMTP (again, on the same port)."""
        await self._close()
        self.deferring = False
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            lambda: SMTPServer(self, hostname="relay.test"), "127.0.0.1", self.port
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self, outage: Outage) -> None:
        """Start an outage of the given kind."""
        await self._close()
        if outage == "451":
            await self.up()
            self.deferring = True
        elif outage == "421":
            loop = asyncio.get_running_loop()
            self._server = await loop.create_server(_Closing, "127.0.0.1", self.port)

    async def _close(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            await server.wait_closed()

    async def __aenter__(self) -> Relay:
        await self.up()
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self._close()
