"""/dev/mailbox: read what the development SMTP sink caught, as the recipients would see it.

Served only when no SMTP relay is configured (see `api.main.create_app`). Caught mail is untrusted
HTML: it is shown in a sandboxed iframe (no scripts, no same-origin), escaped into `srcdoc` by
Jinja's autoescaping, and attachments are always downloads, never rendered on this origin.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel
from sqlmodel import col, select

from api.deps import SessionDep
from api.pages.rendering import templates
from missionflow.runtime.mail.sink import header, parse
from missionflow.runtime.models import SinkMessage

router = APIRouter(prefix="/dev/mailbox", tags=["dev mailbox"])

MAX_LIMIT = 1000
SHOWN_HEADERS = (
    "From",
    "To",
    "Cc",
    "Reply-To",
    "Date",
    "Subject",
    "Message-ID",
    "Auto-Submitted",
    "X-Missionflow-Template",
    "X-Missionflow-Mission",
)
PAGE_HEADERS = {
    # The pages need no script; this also covers the srcdoc iframe, which inherits the policy.
    "Content-Security-Policy": "script-src 'none'; object-src 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
}

Mission = Annotated[str | None, Query(max_length=64, description="Only this mission id.")]
Template = Annotated[str | None, Query(max_length=100, description="Only this email template.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="At most this many, newest first.")]


class MailboxEntry(BaseModel):
    id: uuid.UUID
    received_at: datetime
    mail_from: str
    recipients: list[str]
    subject: str
    message_id: str | None
    template: str | None
    mission_id: str | None


@dataclass(frozen=True)
class Attachment:
    index: int
    filename: str
    content_type: str
    size: int


async def _latest(
    session: SessionDep, mission: str | None, template: str | None, limit: int
) -> list[SinkMessage]:
    query = select(SinkMessage).order_by(col(SinkMessage.received_at).desc()).limit(limit)
    if mission:
        query = query.where(SinkMessage.mission_id == mission)
    if template:
        query = query.where(SinkMessage.template == template)
    return list(await session.exec(query))


async def _caught(session: SessionDep, message_id: str) -> SinkMessage:
    """The message, or a 404 for unknown and malformed ids alike (no 422 for a bad link)."""
    try:
        row = await session.get(SinkMessage, uuid.UUID(message_id))
    except ValueError:
        row = None
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such message in the dev mailbox.")
    return row


def _leaves(
    message: EmailMessage,
) -> tuple[EmailMessage | None, EmailMessage | None, list[EmailMessage]]:
    """The HTML body, the text body and the other leaf parts (the attachments), in order."""
    html = message.get_body(preferencelist=("html",))
    text = message.get_body(preferencelist=("plain",))
    others = [
        part
        for part in message.walk()
        if not part.is_multipart() and part is not html and part is not text
    ]
    return html, text, others


def _content(part: EmailMessage | None) -> str | None:
    if part is None:
        return None
    try:
        return part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        return (part.get_payload(decode=True) or b"").decode("utf-8", errors="replace")


def _payload(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def _filename(part: EmailMessage, index: int) -> str:
    return part.get_filename() or f"part-{index}"


def _disposition(kind: str, filename: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in filename
    )
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.get(
    "", response_class=HTMLResponse, name="mailbox", summary="Caught messages, newest first"
)
async def mailbox(
    request: Request,
    session: SessionDep,
    mission: Mission = None,
    template: Template = None,
    limit: Limit = 200,
) -> HTMLResponse:
    messages = await _latest(session, mission, template, limit)
    return templates.TemplateResponse(
        request,
        "mailbox.html",
        {
            "messages": messages,
            "mission": mission,
            "template": template,
            "limit": limit,
            "max_limit": MAX_LIMIT,
        },
        headers=PAGE_HEADERS,
    )


@router.get("/messages.json", summary="Caught messages as JSON, for tools and tests")
async def messages_json(
    session: SessionDep,
    mission: Mission = None,
    template: Template = None,
    limit: Limit = 200,
) -> list[MailboxEntry]:
    rows = await _latest(session, mission, template, limit)
    return [MailboxEntry.model_validate(row, from_attributes=True) for row in rows]


def _raw(row: SinkMessage, kind: str) -> Response:
    return Response(
        row.raw.encode(),
        media_type="message/rfc822",
        headers={"Content-Disposition": _disposition(kind, f"{row.id}.eml")},
    )


@router.get("/{message_id}.eml", name="mailbox_eml", summary="The message as an .eml download")
async def eml(session: SessionDep, message_id: str) -> Response:
    return _raw(await _caught(session, message_id), "attachment")


@router.get("/{message_id}/raw", name="mailbox_raw", summary="The message as received")
async def raw(session: SessionDep, message_id: str) -> Response:
    return _raw(await _caught(session, message_id), "inline")


@router.get(
    "/{message_id}/attachments/{index}", name="mailbox_attachment", summary="One attachment"
)
async def attachment(session: SessionDep, message_id: str, index: str) -> Response:
    _, _, parts = _leaves(parse((await _caught(session, message_id)).raw.encode()))
    if not index.isdigit() or int(index) >= len(parts):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such attachment in this message.")
    part = parts[int(index)]
    media_type = part.get_content_type()
    if charset := part.get_content_charset():
        media_type = f"{media_type}; charset={charset}"
    return Response(
        _payload(part),
        media_type=media_type,
        headers={
            # Always a download, never a page on this origin (an HTML attachment could script).
            "Content-Disposition": _disposition("attachment", _filename(part, int(index))),
            "Content-Security-Policy": "sandbox",
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.get(
    "/{message_id}", response_class=HTMLResponse, name="mailbox_message", summary="One message"
)
async def message(request: Request, session: SessionDep, message_id: str) -> HTMLResponse:
    row = await _caught(session, message_id)
    parsed = parse(row.raw.encode())
    html, text, parts = _leaves(parsed)
    headers = [
        (name, value) for name in SHOWN_HEADERS if (value := header(parsed, name)) is not None
    ]
    attachments = [
        Attachment(
            index=index,
            filename=_filename(part, index),
            content_type=part.get_content_type(),
            size=len(_payload(part)),
        )
        for index, part in enumerate(parts)
    ]
    return templates.TemplateResponse(
        request,
        "mailbox_message.html",
        {
            "message": row,
            "headers": headers,
            "html": _content(html),
            "text": _content(text),
            "attachments": attachments,
        },
        headers=PAGE_HEADERS,
    )
