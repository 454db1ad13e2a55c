"""The outbox as the JSON routes (`api.routes.emails`) and the console's outbox page read and
steer it: one query with its filters, and resending a failed email through the workflow."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.identity import Principal, record_steering
from api.updates import Refused, send_update
from missionflow.domain.mission.messages import EmailRequeued, EmailResend
from missionflow.domain.refusals import CONFLICT
from missionflow.domain.resending import resend_refusal
from missionflow.runtime.mail.templates import TEMPLATES
from missionflow.runtime.models import OutboxMessage
from workflows.mission import MissionWorkflow

STATUSES = ("queued", "sending", "sent", "failed")
STATUS_PATTERN = f"^({'|'.join(STATUSES)})$"
RESENT = "email.resent"
"""The audit log's action for a resend; its subject is the email's id, its detail the template
(never the address: the log outlives an erasure)."""


@dataclass(frozen=True)
class OutboxQuery:
    """Which messages, and which page of them; a filter left None lets any through."""

    status: str | None = None
    template: str | None = None
    recipient: str | None = None
    """An exact address, any case."""
    limit: int = 100
    offset: int = 0


async def outbox_page(
    session: AsyncSession, mission_id: str, query: OutboxQuery
) -> tuple[int, Sequence[OutboxMessage]]:
    """How many of the mission's messages pass the filters, and the page asked for, oldest
    first.

    Raises:
        RequestValidationError: a status or template that does not exist, at its query field.
    """
    unknown = [
        {"loc": ["query", name], "msg": message, "type": "value_error"}
        for name, value, known, message in (
            ("status", query.status, STATUSES, f"unknown status; one of {', '.join(STATUSES)}"),
            (
                "template",
                query.template,
                TEMPLATES,
                f"unknown template; one of {', '.join(TEMPLATES)}",
            ),
        )
        if value is not None and value not in known
    ]
    if unknown:
        raise RequestValidationError(unknown)
    selected = select(OutboxMessage).where(OutboxMessage.mission_id == mission_id)
    if query.status is not None:
        selected = selected.where(OutboxMessage.status == query.status)
    if query.template is not None:
        selected = selected.where(OutboxMessage.template == query.template)
    if query.recipient is not None:
        address = query.recipient.strip().lower()
        selected = selected.where(func.lower(OutboxMessage.recipient) == address)
    total = await session.scalar(select(func.count()).select_from(selected.subquery()))
    rows = (
        await session.exec(
            selected.order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
            .offset(query.offset)
            .limit(query.limit)
        )
    ).all()
    return total or 0, rows


async def stored_email(
    session: AsyncSession, mission_id: str, email_id: uuid.UUID
) -> OutboxMessage:
    """One of the mission's messages, or a 404 (another mission's is no different)."""
    row = await session.get(OutboxMessage, email_id)
    if row is None or row.mission_id != mission_id:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"No email with id {email_id} in this mission's outbox."
        )
    return row


async def resend(
    request: Request, client: Client, principal: Principal, email: OutboxMessage
) -> EmailRequeued:
    """Have the mission send a failed email again (`MissionWorkflow.resend_email`), then write
    who asked to its audit log. An email that is not failed is refused here already
    (`resend_refusal`), so that request reaches no workflow; two resends at once both pass
    here, and the mission's activity lets one through.

    Raises:
        api.updates.Refused: CONFLICT for an email not failed (or whose recipient was erased)
            or a mission that has ended; NOT_FOUND for one the mission does not have.
        api.updates.Unavailable: Temporal did not answer.
    """
    mission_id, email_id = email.mission_id, email.id
    if (refusal := resend_refusal(email.status, email.recipient)) is not None:
        raise Refused(refusal, kind=CONFLICT)
    named = principal.named(None)
    requeued = await send_update(
        client,
        mission_id,
        lambda h: h.execute_update(
            MissionWorkflow.resend_email, EmailResend(email_id=email_id, by=named)
        ),
    )
    await record_steering(
        request,
        mission_id,
        by=named,
        action=RESENT,
        subject=str(email_id),
        detail=requeued.template,
    )
    return requeued
