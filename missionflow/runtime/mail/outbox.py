"""The outbox: every message is rendered and stored before anything is sent.

`queue` runs inside the transaction of the change that causes the message (an application
written, a deadline extended), so the message exists exactly when the change committed; the
`deliver_outbox` activity (activities/email.py) sends the rows later. A row carries everything
needed to send it again identically: the rendered bodies, the subject, the headers, and a
Message-ID fixed at queue time, so even a copy sent twice would be recognised by mail clients as
the same message.

The bytes themselves are written by `missionflow.runtime.mail.message`.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.erasure import is_erased_address
from missionflow.runtime.mail.message import build_message, message_bytes, one_line, reply_to_header
from missionflow.runtime.mail.templates import render
from missionflow.runtime.models import OutboxMessage

RECIPIENT_NAME_LENGTH = 200
"""The width of `OutboxMessage.recipient_name`."""


@functools.lru_cache(maxsize=16)
def sender_domain(mail_from: str) -> str:
    """The domain of the MAIL_FROM address, which Message-IDs are made in.

    >>> sender_domain("missionflow <missions@example.org>")
    'example.org'
    """
    address = parseaddr(mail_from)[1]
    domain = address.rpartition("@")[2]
    if "@" not in address or not domain:
        raise ValueError(f"MAIL_FROM {mail_from!r} has no address with a domain")
    return domain


async def queue(session: AsyncSession, **message: Any) -> OutboxMessage:
    """Compose a message and add it to the outbox, once per idempotency key (see `compose`).

    Runs in the caller's transaction and does not commit: the message is queued if, and only if,
    the caller's change commits.
    """
    return await add(session, compose(**message))


@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (the final delegation as CSV). It lives only in the message's
    bytes, built when the message is queued."""

    filename: str
    content_type: str
    content: bytes
    content_id: str | None = None
    """An image the HTML body shows (`<img src="cid:...">`): sent inline beside it."""


def compose(
    *,
    mission_id: str,
    template: str,
    recipient: str,
    recipient_name: str | None,
    context: dict[str, Any],
    idempotency_key: str,
    application_id: uuid.UUID | None = None,
    reply_to: list[str],
    from_name: str,
    auto_submitted: bool = False,
    sender: str,
    now: datetime,
    attachments: Sequence[Attachment] = (),
) -> OutboxMessage:
    """Render a message and build its bytes, touching nothing: callers that hold a lock (an
    application's write) compose first and only `add` inside it.

    Args:
        mission_id: the mission the message belongs to (the `X-Missionflow-Mission` header).
        template: a name from `missionflow.runtime.mail.templates.TEMPLATES`.
        recipient: the address the message is delivered to.
        recipient_name: the person's name, shown in `To` and in the greeting.
        context: the template's variables; `recipient_name` is added.
        idempotency_key: unique per message ever meant, e.g.
            `eu-us-2017:deadline_reminder:P2D:ana@example.org`.
        application_id: the application the message is about, if any.
        reply_to: the coordinators, as `Name <address>` or bare addresses.
        from_name: the display name of `From`: the mission's organiser.
        auto_submitted: mark the message `Auto-Submitted: auto-generated` (RFC 3834), so
            auto-responders do not answer it (reminders).
        sender: MAIL_FROM, whose address is `From`'s and whose domain names Message-IDs.
        now: when the message is queued: its `Date` (RFC 5322 allows the time it was ready).
        attachments: files to attach after the text and HTML bodies.
    """
    name = one_line(recipient_name)[:RECIPIENT_NAME_LENGTH]
    rendered = render(template, {**context, "recipient_name": name})
    headers = {
        "From": one_line(from_name),
        "X-Missionflow-Template": template,
        "X-Missionflow-Mission": mission_id,
    }
    if reply_to:
        headers["Reply-To"] = reply_to_header(tuple(reply_to))
    if auto_submitted:
        headers["Auto-Submitted"] = "auto-generated"
    row = OutboxMessage(
        mission_id=mission_id,
        application_id=application_id,
        template=template,
        idempotency_key=idempotency_key,
        recipient=recipient.strip(),
        recipient_name=name or None,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        headers=headers,
        message_id=f"<{uuid.uuid4().hex}@{sender_domain(sender)}>",
        status="queued",
    )
    # Not an address we can send to: delivery builds it again and records why it failed.
    with suppress(ValueError):
        if attachments:  # rare (the final delegation): the email package attaches them
            message = build_message(row, sender=sender, now=now)
            for attachment in attachments:
                _attach(message, attachment)
            row.content = message.as_bytes()
        else:
            row.content = message_bytes(row, sender=sender, now=now)
    return row


INSERT_ROWS = 500
"""Rows per INSERT statement: 17 columns each stays far below SQLite's 32,766 parameters."""


async def add(session: AsyncSession, row: OutboxMessage) -> OutboxMessage | None:
    """Add a composed message unless its idempotency key is queued already; return the stored
    one (None: its recipient was erased). In the caller's transaction; does not commit."""
    stored = await add_all(session, [row])
    return stored[0] if stored else None


async def add_all(session: AsyncSession, rows: list[OutboxMessage]) -> list[OutboxMessage]:
    """`add` for many messages in one statement: each is added unless its idempotency key is
    queued already (or comes earlier in `rows`); return the stored one for each, in order.

    A message to an erased person is dropped here, the one door every email passes: the
    activities compose from the rows as they find them, and an erased row's address is
    `ERASED_ADDRESS`, so no reminder, seat offer or agenda written after an erasure can reach
    the person, whichever activity writes it (the right to erasure outlasts any schedule).
    """
    rows = [row for row in rows if not is_erased_address(row.recipient)]
    if not rows:
        return []
    stored = await _by_keys(session, list({row.idempotency_key for row in rows}))
    fresh: list[OutboxMessage] = []
    for row in rows:
        if row.idempotency_key not in stored:
            stored[row.idempotency_key] = row  # a later row with this key gets this one
            fresh.append(row)
    statement = _INSERTS[session.get_bind().dialect.name]
    for start in range(0, len(fresh), INSERT_ROWS):
        chunk = fresh[start : start + INSERT_ROWS]
        # One statement, the rows as its parameters: SQLAlchemy sends them as one multi-row
        # INSERT ("insertmanyvalues") and compiles it once per process, where rows written into
        # the statement itself made it compile a new one (~9 ms) for every call.
        inserted = await session.exec(  # type: ignore[call-overload]
            statement, params=[row.model_dump() for row in chunk]
        )
        written = set(inserted.scalars().all())
        late = [row.idempotency_key for row in chunk if row.idempotency_key not in written]
        if late:  # queued meanwhile by a concurrent caller
            found = await _by_keys(session, late)
            if missing := [key for key in late if key not in found]:
                raise RuntimeError(f"outbox rows {missing!r} conflicted but cannot be read")
            stored.update(found)
    return [stored[row.idempotency_key] for row in rows]


def _insert(insert: Any) -> Any:
    """INSERT into the outbox, each row skipped if its idempotency key is there already.

    ON CONFLICT rather than a savepoint around the INSERT: on SQLite (pysqlite, aiosqlite) a
    SAVEPOINT opened before the transaction's first write starts the transaction itself, and its
    RELEASE commits the caller's work behind its back. RETURNING says which rows were written
    (psycopg reports no rowcount for it). Core, on the table: the ORM's bulk INSERT would build
    an object for every row it returns.
    """
    return (
        insert(OutboxMessage.__table__)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(OutboxMessage.__table__.c.idempotency_key)
    )


_INSERTS = {"postgresql": _insert(postgresql_insert), "sqlite": _insert(sqlite_insert)}


async def _by_keys(session: AsyncSession, keys: list[str]) -> dict[str, OutboxMessage]:
    found: dict[str, OutboxMessage] = {}
    for start in range(0, len(keys), INSERT_ROWS):
        chunk = keys[start : start + INSERT_ROWS]
        statement = select(OutboxMessage).where(col(OutboxMessage.idempotency_key).in_(chunk))
        found.update((row.idempotency_key, row) for row in (await session.exec(statement)).all())
    return found


def _attach(message: EmailMessage, attachment: Attachment) -> None:
    maintype, _, subtype = attachment.content_type.partition("/")
    filename = one_line(attachment.filename)
    html = message.get_body(("html",))
    if attachment.content_id and html is not None:  # multipart/related with the HTML
        html.add_related(
            attachment.content,
            maintype=maintype,
            subtype=subtype,
            cid=f"<{attachment.content_id}>",
            filename=filename,
            disposition="inline",
        )
    elif maintype == "text":  # declared UTF-8, so mail clients show it as written
        message.add_attachment(attachment.content.decode(), subtype=subtype, filename=filename)
    else:
        message.add_attachment(
            attachment.content, maintype=maintype, subtype=subtype, filename=filename
        )
