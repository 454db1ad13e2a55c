"""The development SMTP sink: catches every message missionflow sends, for /dev/mailbox.

`make run` starts it when no SMTP relay is configured, so a whole mission can be rehearsed on one
machine without mailing anyone. It serves aiosmtpd's `SMTP` protocol on the running event loop
(not aiosmtpd's threaded `Controller`): the handler writes through the async engine, and an async
engine's connections belong to the loop that opened them.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import logging
import re
import socket
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import HeaderParser

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.runtime.db import transaction
from missionflow.runtime.models import SinkMessage

log = logging.getLogger(__name__)

DATA_SIZE_LIMIT = 32 * 1024 * 1024
"""Reports travel as PDF and CSV attachments; larger messages are refused with 552."""


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


STORED_HEADERS = ("subject", "message-id", "x-missionflow-template", "x-missionflow-mission")
"""The headers a caught message's row keeps, beside its raw text."""

_BLANK_LINE = re.compile(rb"\r?\n\r?\n")
_FOLD = re.compile(r"\r?\n(?=[ \t])")


def stored_headers(raw: bytes) -> dict[str, str]:
    """The first value of each of `STORED_HEADERS` the message has, unfolded and decoded, by
    lower-case name.

    Only the header block is read, as text, with the email package's plain (compat32) parser and
    its RFC 2047 decoding: the default policy's header objects cost 0.6 ms a message, six times
    as much and most of what the sink spent on one. The message page still reads the whole
    message with `parse`. A value too malformed to decode is kept as it came: caught mail is
    untrusted input, and a broken header must not lose the message.
    """
    blank = _BLANK_LINE.search(raw)
    head = (raw if blank is None else raw[: blank.start()]).decode("utf-8", errors="replace")
    found: dict[str, str] = {}
    for name, value in HeaderParser(policy=email.policy.compat32).parsestr(head).raw_items():
        key = name.lower()
        if key in STORED_HEADERS and key not in found:
            found[key] = _decoded(value)
    return found


def _decoded(value: str) -> str:
    value = _FOLD.sub("", value)
    if "=?" in value:
        with contextlib.suppress(Exception):  # the email package raises various errors here
            return str(make_header(decode_header(value)))
    return value


def header(message: EmailMessage, name: str) -> str | None:
    """The decoded header, or its raw text when it is too malformed to parse.

    Caught mail is untrusted input; a broken header must not lose the message or the page.
    """
    try:
        value = message.get(name)
    except Exception:  # the email package raises various errors on hostile headers
        value = next((v for k, v in message.raw_items() if k.lower() == name.lower()), None)
    return None if value is None else str(value)


def _text(value: str | None, max_length: int | None = None) -> str | None:
    """Fit a value to its column: PostgreSQL refuses NUL characters and over-long VARCHARs."""
    if value is None:
        return None
    value = value.replace("\x00", "\ufffd")
    return value[:max_length] if max_length else value


class MailboxHandler:
    """An aiosmtpd handler that stores each message as one `SinkMessage` row."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or envelope.content or b""
        if isinstance(data, str):
            data = data.encode()
        headers = stored_headers(data)
        row = SinkMessage(
            mail_from=_text(envelope.mail_from or "", 500) or "",
            recipients=list(envelope.rcpt_tos),
            subject=_text(headers.get("subject")) or "",
            message_id=_text(headers.get("message-id"), 500),
            template=_text(headers.get("x-missionflow-template"), 100),
            mission_id=_text(headers.get("x-missionflow-mission"), 64),
            raw=_text(data.decode("utf-8", errors="replace")) or "",
        )
        try:
            # Queued with this process's other writers (the worker's, the API's) rather than
            # left to SQLite's sleeping busy handler.
            async with transaction(self._sessions) as db:
                db.add(row)
        except Exception:
            # aiosmtpd would answer 500 (permanent); a database hiccup is transient.
            log.exception("the SMTP sink could not store a message")
            return "451 4.3.0 Could not store the message, try again later"
        return "250 Message accepted for delivery"


async def start_sink(
    sessions: async_sessionmaker[AsyncSession], host: str, port: int
) -> asyncio.AbstractServer:
    """Listen on host:port on the current event loop; close with `close()` and `wait_closed()`.

    Port 0 binds a free port: read it from `server.sockets[0].getsockname()`.
    """
    return await serve_smtp(MailboxHandler(sessions), host, port)


async def serve_smtp(handler: object, host: str, port: int) -> asyncio.AbstractServer:
    """An SMTP server for any aiosmtpd handler, with the sink's limits: the dev stack stores what
    it catches in the database, `missionflow simulate` keeps it in memory."""
    loop = asyncio.get_running_loop()
    hostname = socket.gethostname()  # not aiosmtpd's default getfqdn(): that may wait on DNS

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname=hostname,
            enable_SMTPUTF8=True,
            data_size_limit=DATA_SIZE_LIMIT,
            loop=loop,
        )

    return await loop.create_server(protocol, host=host, port=port)
