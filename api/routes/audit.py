"""GET /missions/{id}/audit: the mission's audit log, for coordinators answering a regulator or
a person asking who saw or erased their data.

`actor` names who a request acts as in that log; it is the one place that decides it.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, Field
from sqlmodel import col, func, select

from api.deps import Coordinator, SessionDep, get_mission, is_coordinator
from missionflow.runtime.audit import APPLICANT, COORDINATOR, AuditEntry

router = APIRouter(
    prefix="/missions/{mission_id}/audit", tags=["audit"], dependencies=[Coordinator]
)


def actor(request: Request) -> str:
    """Who the request acts as, for the audit log: a signed-in person or a personal token's by
    name and email (`api.identity`); the bootstrap token is every coordinator at once, so by
    role; anyone else came by an applicant's private link."""
    principal = getattr(request.state, "principal", None)
    if is_coordinator(request) and principal is not None and principal.person_id is not None:
        return principal.audit_name
    return COORDINATOR if is_coordinator(request) else APPLICANT


class AuditEntryView(BaseModel):
    id: uuid.UUID
    at: AwareDatetime
    by: str = Field(
        description="A person's name and email, coordinator (the bootstrap token), applicant "
        "or retention (the system); administrator when the bootstrap token steered the mission."
    )
    action: str = Field(description="e.g. personal_data.exported, personal_data.erased")
    subject: str | None = Field(description="What it concerns, by id (an application's).")
    detail: str | None


class AuditPage(BaseModel):
    total: int
    entries: list[AuditEntryView] = Field(description="Newest first.")


@router.get("", response_model=AuditPage, summary="The mission's audit log, newest first")
async def list_audit(
    mission_id: str,
    session: SessionDep,
    action: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditPage:
    await get_mission(mission_id, session)  # after FastAPI has checked the query
    query = select(AuditEntry).where(AuditEntry.mission_id == mission_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    total = await session.scalar(select(func.count()).select_from(query.subquery()))
    rows = (
        await session.exec(
            query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id))
            .offset(offset)
            .limit(limit)
        )
    ).all()
    return AuditPage(
        total=total or 0,
        entries=[AuditEntryView.model_validate(row, from_attributes=True) for row in rows],
    )
