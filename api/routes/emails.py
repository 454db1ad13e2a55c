"""GET /missions/{id}/emails: the outbox, so coordinators and support see what was sent to whom,
what failed and why; POST .../emails/{email_id}/resend sends a failed one again."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from api.deps import Coordinator, PrincipalDep, SessionDep, TemporalDep, get_mission
from api.outbox import STATUS_PATTERN, OutboxQuery, outbox_page, resend, stored_email

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
    status_: Annotated[str | None, Query(alias="status", pattern=STATUS_PATTERN)] = None,
    template: Annotated[str | None, Query()] = None,
    recipient: Annotated[str | None, Query(description="Exact address, any case.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> EmailPage:
    await get_mission(mission_id, session)  # after FastAPI has checked the query
    query = OutboxQuery(
        status=status_, template=template, recipient=recipient, limit=limit, offset=offset
    )
    total, rows = await outbox_page(session, mission_id, query)
    return EmailPage(
        total=total,
        emails=[EmailView.model_validate(row, from_attributes=True) for row in rows],
    )


@router.post(
    "/{email_id}/resend",
    response_model=EmailView,
    summary="Send a failed email again, through the mission's workflow",
    responses={
        404: {"description": "No such email in this mission's outbox"},
        409: {"description": "Not failed (queued, sent), erased, or the mission has ended"},
    },
)
async def resend_email(
    mission_id: str,
    email_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    principal: PrincipalDep,
) -> EmailView:
    """The email goes back to the queue and the mission's postman delivers it as any other:
    once, even when two resends arrive at once (the second is a 409). The audit log names who
    asked (`email.resent`)."""
    await get_mission(mission_id, session)
    await resend(request, client, principal, await stored_email(session, mission_id, email_id))
    session.expire_all()  # the workflow's activity has written since this session read
    return EmailView.model_validate(
        await stored_email(session, mission_id, email_id), from_attributes=True
    )
