"""DELETE /missions/{id}/personal-data/{aid}: a coordinator erases one applicant's data (GDPR
right to erasure), for a request that came by email or post. The applicant's own way is
`POST .../withdraw` with `{"delete_my_data": true}` (api.routes.applications)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from api.deps import Coordinator, SessionDep, TemporalDep, get_mission
from api.erasing import withdraw_then_erase
from api.routes.audit import actor
from missionflow.domain.erasure import ErasureReason
from missionflow.runtime.models import Application

router = APIRouter(prefix="/missions/{mission_id}", tags=["personal data"])


class ErasureView(BaseModel):
    application_id: uuid.UUID
    erased_at: datetime
    already_erased: bool = Field(description="Erased before: this request changed nothing.")
    erased: dict[str, int] = Field(description="What was erased, as counts.")


@router.delete(
    "/personal-data/{application_id}",
    response_model=ErasureView,
    dependencies=[Coordinator],
    summary="Erase one applicant's personal data (withdrawing the application first)",
    responses={
        404: {"description": "No such application in this mission"},
        422: {"description": "No reason, or not one of the reasons"},
    },
)
async def erase(
    mission_id: str,
    application_id: uuid.UUID,
    reason: Annotated[ErasureReason, Query(description="Why, as the audit log records it.")],
    session: SessionDep,
    client: TemporalDep,
    request: Request,
) -> ErasureView:
    """Withdraws the application if the mission still runs (its seat and visit places move on
    to the waitlist), then anonymises every row of the person and logs it; again: no change."""
    await get_mission(mission_id, session)  # after FastAPI has checked the query
    row = await session.get(Application, application_id)
    if row is None or row.mission_id != mission_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such application in this mission.")
    erased = await withdraw_then_erase(session, client, row, by=actor(request), reason=reason.value)
    row = await session.get(Application, application_id)
    assert row is not None and row.erased_at is not None
    return ErasureView(
        application_id=row.id,
        erased_at=row.erased_at,
        already_erased=erased is None,
        erased=dict(erased or {}),
    )
