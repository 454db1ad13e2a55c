"""GET /missions/{id}/emails: the outbox, so coordinators and support see what was sent to whom,
what failed and why."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel
from sqlmodel import col, func, select

from api.deps import Coordinator, SessionDep, get_mission
from missionflow.runtime.mail.templates import TEMPLATES
from missionflow.runtime.models import OutboxMessage

router = APIRouter(
    prefix="/missions/{mission_id}/emails", tags=["emails"], dependencies=[Coordinator]
)


class EmailView(BaseModel):
    id: uuid.UUID
    template: str
    recipient: str
    recipient_name: str | None
    subject: str
    application_id: uuid.UUID | None
    status: str
    attempts: int
    last_error: str | None
    smtp_code: int | None
    message_id: str
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None


class EmailPage(BaseModel):
    total: int
    emails: list[EmailView]


@router.get(
    "", response_model=EmailPage, summary="The outbox: every message, its status and attempts"
)
async def list_emails(
    mission_id: str,
    session: SessionDep,
    status_: Annotated[
        str | None, Query(alias="status", pattern="^(queued|sending|sent|failed)$")
    ] = None,
    template: Annotated[str | None, Query()] = None,
    recipient: Annotated[str | None, Query(description="Exact address, any case.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EmailPage:
    await get_mission(mission_id, session)  # after FastAPI has checked the query
    if template is not None and template not in TEMPLATES:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [
                {
                    "loc": ["query", "template"],
                    "msg": f"unknown template; one of {', '.join(TEMPLATES)}",
                    "type": "value_error",
                }
            ],
        )
    query = select(OutboxMessage).where(OutboxMessage.mission_id == mission_id)
    if status_ is not None:
        query = query.where(OutboxMessage.status == status_)
    if template is not None:
        query = query.where(OutboxMessage.template == template)
    if recipient is not None:
        query = query.where(func.lower(OutboxMessage.recipient) == recipient.strip().lower())
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (
        await session.exec(
            query.order_by(col(OutboxMessage.created_at), col(OutboxMessage.id))
            .offset(offset)
            .limit(limit)
        )
    ).all()
    return EmailPage(
        total=total or 0,
        emails=[EmailView.model_validate(row, from_attributes=True) for row in rows],
    )
