"""Sending the outbox over SMTP, so that each message is delivered once in effect.

Temporal runs an activity at least once: it is retried after a failure, re-run after a worker
dies, and a workflow replay may schedule it again. Delivery must therefore be safe to repeat at
any point, and the one fact that makes it so is SMTP's own: a server takes responsibility for a
message only when it reads the line holding a single "." that ends the DATA content (RFC 5321
§4.1.1.4); a connection lost before that line makes it discard what it received. The activity
orders its steps around that line:

1. Claim: one committed transaction moves up to `limit` rows of the mission from "queued" to
   "sending" (claimed_at, attempts + 1). Rows left in "sending" by an attempt that died are
   claimed again: that attempt never committed "sent" for them, so (see 3) the server never got
   their final ".", and sending them again cannot duplicate them. The workflow runs one delivery
   per mission at a time; `FOR UPDATE SKIP LOCKED` (PostgreSQL) and SQLite's single writer keep
   two claims from taking the same row at the same instant even so.
2. One SMTP connection for the batch (STARTTLS and login when configured): the handshake costs
   as much as several messages.
3. Per message: MAIL FROM, RCPT TO, DATA, the content *without* its final "." line; then the row
   is committed as "sent"; then the "." is written and the server's answer read. A 2xx answer
   ends it; 4xx puts the row back to "queued" (deferred), 5xx marks it "failed", each with the
   server's code and text. A refusal of the sender or recipient is settled the same way, the
   envelope reset, and the batch goes on.
4. Connection errors (refused, reset, timed out, disconnected, a 421 "closing") are raised for
   the retry policy to back off on: rows already "sent" stay sent, the rest stay "sending" and are
   claimed again by the next attempt.

The loss window, honestly: between the commit of "sent" and the write of the "." to the socket.
A process killed exactly there leaves a row saying "sent" for a message the server discarded.
The opposite order (send the ".", then commit) would turn the same crash into a duplicate: a
reminder sent twice reaches every recipient, while this window is the few statements between a
commit returning and one `write()`. The content is handed to the kernel before the commit, so
that write goes straight out (and the kernel sends what it holds even if the process dies), and
the step is shielded from cancellation, so a Temporal cancel or a worker shutdown cannot land in
it. A machine losing power there loses the message, as it would any unflushed socket data.
A lost *answer* after the "." is SMTP's well-known ambiguity (RFC 1047): the server may have
queued the message; the row stays "sent" and its `last_error` says the answer was lost.

Fencing: every write after the claim is conditional on the `attempts` value the claim set. An
attempt Temporal has given up on but that still runs (a zombie whose rows a newer attempt has
claimed again) cannot mark a row "sent": it stops before the ".", and the server discards its copy.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator, Awaitable
from email.utils import parseaddr
from typing import Literal, TypeVar

from aiosmtplib import SMTP, SMTPException, SMTPResponse, SMTPResponseException
from sqlalchemy import and_, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col
from temporalio import activity
from temporalio.exceptions import ApplicationError

from missionflow.domain.mission.messages import DeliveryReport, DeliveryRequest
from missionflow.runtime.db import write_lock
from missionflow.runtime.mail.message import build_message
from missionflow.runtime.models import OutboxMessage, utc_now
from missionflow.runtime.settings import Settings

Outcome = Literal["sent", "failed", "deferred"]
T = TypeVar("T")

UNSENT = ("queued", "sending")
"""Statuses of rows not delivered yet: waiting, or claimed by an attempt that did not finish."""

DEFERRED = and_(
    col(OutboxMessage.status) == "queued",
    func.coalesce(col(OutboxMessage.smtp_code), 0).between(400, 499),
)
"""Unsent rows waiting because the server answered "later" (4xx) when they were offered."""

_LINE_ENDINGS = re.compile(rb"\r\n|\r|\n")
_LEADING_DOT = re.compile(rb"^\.", re.MULTILINE)


async def connect_smtp(settings: Settings) -> SMTP:
    """A connection to the configured relay (STARTTLS and login when set), for every sender."""
    password = settings.smtp_password
    smtp = SMTP(
        hostname=settings.smtp_host or "127.0.0.1",  # unset: the dev stack's local sink
        port=settings.smtp_port,
        start_tls=settings.smtp_starttls,
        username=settings.smtp_username,
        password=password.get_secret_value() if password else None,
        # Not aiosmtplib's default getfqdn(): that may wait seconds on DNS.
        local_hostname=socket.gethostname(),
    )
    await smtp.connect()
    return smtp


class EmailActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._engine = engine
        self._settings = settings
        self._sender = parseaddr(settings.mail_from)[1]

    @activity.defn(name="deliver_outbox")
    async def deliver_outbox(self, request: DeliveryRequest) -> DeliveryReport:
        """Send up to `request.limit` unsent messages of one mission over one SMTP connection.

        Raises:
            SMTPException, OSError: the server is unreachable or the connection broke; the retry
                policy backs off and a later attempt sends what is left, none of it twice.
        """
        report = DeliveryReport()
        # Core statements on one connection for the whole batch: per message, the "sent" commit
        # is the only database work between two SMTP commands.
        async with _alive(report), self._engine.connect() as db:
            rows = await _claim(db, request)
            if rows:
                smtp = await self._connect()
                try:
                    for row in rows:
                        outcome = await self._deliver(db, smtp, row)
                        setattr(report, outcome, getattr(report, outcome) + 1)
                    # Every row is settled; a server that does not answer QUIT changes nothing.
                    with contextlib.suppress(SMTPException, OSError):
                        await smtp.quit()
                finally:
                    smtp.close()
            report.remaining, waiting = await _unsent(db, request.mission_id)
            if rows and report.deferred == len(rows):
                # The server deferred all it was offered: the postman pauses once nothing but
                # such rows is left, instead of offering them again at once.
                report.deferred = waiting
        return report

    async def _connect(self) -> SMTP:
        return await connect_smtp(self._settings)

    async def _deliver(self, db: AsyncConnection, smtp: SMTP, row: OutboxMessage) -> Outcome:
        """Send one claimed row and settle it; raise on a connection error (row stays claimed)."""
        try:
            content = _data_content(
                row.content
                or build_message(row, sender=self._settings.mail_from, now=utc_now()).as_bytes()
            )
        except ValueError as error:
            return await _give_up(db, row, None, f"the message cannot be written: {error}")
        options = [f"SIZE={len(content)}"] if smtp.supports_extension("size") else []
        international = not (self._sender + row.recipient).isascii()
        if international:
            if not smtp.supports_extension("smtputf8"):
                reason = "the address is not ASCII and the server does not offer SMTPUTF8"
                return await _give_up(db, row, None, reason)
            options.append("SMTPUTF8")
        encoding = "utf-8" if international else "ascii"
        try:
            await smtp.mail(self._sender, options=options, encoding=encoding)
            await smtp.rcpt(row.recipient, encoding=encoding)
            ready = await smtp.execute_command(b"DATA")
            if ready.code != 354:
                raise SMTPResponseException(ready.code, ready.message)
        except SMTPResponseException as refusal:
            if refusal.code == 421:  # the server is closing the connection: a connection error
                raise
            await smtp.execute_command(b"RSET")
            return await _refused(db, row, SMTPResponse(refusal.code, refusal.message))
        except ValueError as error:  # an address aiosmtplib will not put on a command line
            await smtp.execute_command(b"RSET")
            return await _give_up(db, row, None, f"invalid address: {error}")
        # aiosmtplib's `data()` writes the content and its final "." in one go. Its protocol
        # object (`SMTP.protocol`, an `aiosmtplib.protocol.SMTPProtocol`, whose `write` and
        # `read_response` are the public methods its own `execute_command` is built on) lets
        # the "sent" commit happen in between. We hold the only reference to this connection,
        # so the protocol's command lock has nobody to exclude.
        protocol = smtp.protocol
        if protocol is None:
            raise ConnectionResetError("the SMTP connection closed before the message content")
        protocol.write(content)
        await _handed_to_the_kernel(protocol.transport)
        return await _uninterrupted(_commit_then_end(db, smtp, row))


HEARTBEAT_EVERY = 5.0
"""Seconds between heartbeats. They say the worker is alive, not that a message went out: one
slow SMTP command may take aiosmtplib's 60 s, and a dead worker must still be noticed within
the workflow's short heartbeat timeout so that another takes the batch over."""


@contextlib.asynccontextmanager
async def _alive(report: DeliveryReport) -> AsyncIterator[None]:
    if not activity.in_activity():
        yield
        return

    async def beat() -> None:
        while True:
            activity.heartbeat(report.model_dump())
            await asyncio.sleep(HEARTBEAT_EVERY)

    ticker = asyncio.create_task(beat())
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker


async def _claim(db: AsyncConnection, request: DeliveryRequest) -> list[OutboxMessage]:
    """Move up to `limit` unsent rows to "sending" in one committed statement; return them.

    Rows the server deferred (4xx) are taken only once no other row is left: a relay that
    defers everything is offered each message once, and the postman then pauses, rather than
    being offered the same batch again in a loop."""
    async with write_lock(db.engine):
        rows = await _claimed(db, request, ~DEFERRED) or await _claimed(db, request, DEFERRED)
        await db.commit()
    return sorted(rows, key=lambda row: (row.created_at, row.id))


async def _claimed(
    db: AsyncConnection, request: DeliveryRequest, which: ColumnElement[bool]
) -> list[OutboxMessage]:
    pending = (
        select(OutboxMessage.id)
        .where(OutboxMessage.mission_id == request.mission_id)
        .where(col(OutboxMessage.status).in_(UNSENT))
        .where(which)
        .order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
        .limit(request.limit)
        .with_for_update(skip_locked=True)  # PostgreSQL; SQLite has one writer at a time anyway
    )
    claim = (
        update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(pending.scalar_subquery()))
        .values(status="sending", claimed_at=utc_now(), attempts=col(OutboxMessage.attempts) + 1)
        .returning(*OutboxMessage.__table__.columns)
    )
    return [OutboxMessage.model_validate(row._mapping) for row in await db.execute(claim)]


async def _commit_then_end(db: AsyncConnection, smtp: SMTP, row: OutboxMessage) -> Outcome:
    """Commit the row as sent, then end the DATA content with "." and settle on the answer."""
    if not await _settle(db, row, "sending", status="sent", sent_at=utc_now()):
        smtp.close()  # without its ".", the server discards the content it holds
        raise ApplicationError(
            f"outbox message {row.id} was claimed again by a newer delivery attempt",
            type="DeliveryTakenOver",
        )
    protocol = smtp.protocol
    try:
        if protocol is None:
            raise ConnectionResetError("the SMTP connection closed before the final '.'")
        protocol.write(b".\r\n")
        answer = await protocol.read_response(timeout=smtp.timeout)
    except (SMTPException, OSError) as error:
        note = f"sent, but the server's answer to the final '.' was lost: {error!r}"
        await _settle(db, row, "sent", last_error=note)
        raise
    if 200 <= answer.code < 300:
        return "sent"
    return await _refused(db, row, answer, previous="sent")


async def _refused(
    db: AsyncConnection,
    row: OutboxMessage,
    answer: SMTPResponse,
    *,
    previous: str = "sending",
) -> Outcome:
    """Settle a row the server refused: 4xx for now (queued again), 5xx for good (failed)."""
    error = f"{answer.code} {answer.message}"
    if 400 <= answer.code < 500:
        await _settle(
            db,
            row,
            previous,
            status="queued",
            sent_at=None,
            smtp_code=answer.code,
            last_error=error,
        )
        return "deferred"
    return await _give_up(db, row, answer.code, error, previous=previous)


async def _give_up(
    db: AsyncConnection,
    row: OutboxMessage,
    code: int | None,
    error: str,
    *,
    previous: str = "sending",
) -> Outcome:
    await _settle(
        db,
        row,
        previous,
        status="failed",
        sent_at=None,
        failed_at=utc_now(),
        smtp_code=code,
        last_error=error,
    )
    return "failed"


async def _settle(db: AsyncConnection, row: OutboxMessage, previous: str, **values: object) -> bool:
    """Write and commit the row's new state, if it is still ours: in state `previous` and with
    the `attempts` our claim gave it. False when a newer claim has taken it over."""
    statement = (
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == row.id)
        .where(col(OutboxMessage.status) == previous)
        .where(col(OutboxMessage.attempts) == row.attempts)
        .values(**values)
    )
    async with write_lock(db.engine):
        result = await db.execute(statement)
        await db.commit()
    return result.rowcount == 1


async def _unsent(db: AsyncConnection, mission_id: str) -> tuple[int, int]:
    """The mission's unsent rows, and how many of them wait because the server deferred them."""
    statement = (
        select(func.count(), func.count().filter(DEFERRED))
        .select_from(OutboxMessage)
        .where(OutboxMessage.mission_id == mission_id)
        .where(col(OutboxMessage.status).in_(UNSENT))
    )
    unsent, deferred = (await db.execute(statement)).one()
    await db.commit()
    return unsent, deferred


def _data_content(message: bytes) -> bytes:
    """The DATA content as it travels, without its final "." line: CRLF line endings, ending in
    CRLF, and each line starting with "." given a second one (RFC 5321 §4.5.2), as aiosmtplib's
    `data()` does."""
    content = _LINE_ENDINGS.sub(b"\r\n", message)
    if not content.endswith(b"\r\n"):
        content += b"\r\n"
    return _LEADING_DOT.sub(b"..", content)


async def _handed_to_the_kernel(transport: asyncio.BaseTransport | None) -> None:
    """Wait until asyncio has passed everything written to the operating system.

    A large message (a report with its PDF) may sit in the transport's own buffer for a while;
    committing "sent" only once it has left keeps the final "." one direct write away from the
    commit, and the kernel still sends what it holds if the process dies. A typical message
    leaves at once and this returns without waiting.
    """
    while isinstance(transport, asyncio.WriteTransport) and transport.get_write_buffer_size():
        if transport.is_closing():
            raise ConnectionResetError("the SMTP connection closed while sending the message")
        await asyncio.sleep(0.001)


async def _uninterrupted(work: Awaitable[T]) -> T:
    """Run `work` to its end even if the activity is cancelled meanwhile, then let the
    cancellation through. Cut between the "sent" commit and the final ".", a message would be
    lost; the step is bounded by the SMTP timeout."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await task
        raise
