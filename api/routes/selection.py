"""The coordinators' review of the proposed delegation: read it, override it, approve it.

The proposal and the audit log are read from the database; overrides and approval go to the
mission workflow as one Update, whose validator checks the phase, the decisions and the quotas.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlmodel import col, select

from api.deps import Coordinator, MissionRow, PrincipalDep, SessionDep, TemporalDep
from api.missions import review_selection
from api.schemas import IGNORED_BY
from missionflow.domain.call.applications import ApplicationStatus
from missionflow.domain.selection.messages import SelectionOverride, SelectionRequest
from missionflow.runtime.models import Application, Mission, SelectionDecision, SelectionEvent

router = APIRouter(
    prefix="/missions/{mission_id}/selection", tags=["selection"], dependencies=[Coordinator]
)

Decision = Annotated[str, Field(pattern="^(selected|waitlisted|not_selected)$")]


class OverrideBody(BaseModel):
    application_id: uuid.UUID
    decision: Decision
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class OverridesBody(BaseModel):
    overrides: Annotated[list[OverrideBody], Field(min_length=1, max_length=500)]
    by: Annotated[str, Field(max_length=200, description=IGNORED_BY)] | None = None


class ApprovalBody(BaseModel):
    overrides: Annotated[list[OverrideBody], Field(max_length=500)] = []
    by: Annotated[str, Field(max_length=200, description=IGNORED_BY)] | None = None


class DecisionView(BaseModel):
    application_id: uuid.UUID
    organisation: str
    country: str
    sectors: list[str]
    status: str
    complete: bool
    score: float
    breakdown: dict[str, float]
    rank: int
    proposed: str
    decision: str
    waitlist_position: int | None
    reasons: list[str]
    override_reason: str | None


class EventView(BaseModel):
    at: datetime
    by: str | None
    action: str
    application_id: uuid.UUID | None
    previous: str | None
    decision: str | None
    reason: str | None


class SelectionPage(BaseModel):
    proposed: bool
    approved: bool
    capacity: int
    selected: int
    waitlisted: int
    decisions: list[DecisionView]
    audit: list[EventView]


@router.get("", response_model=SelectionPage, summary="The proposed delegation, with reasons")
async def read_selection(mission: MissionRow, session: SessionDep) -> SelectionPage:
    return await _page(session, mission)


@router.post(
    "/overrides",
    response_model=SelectionPage,
    summary="Override decisions of the proposal, each with a reason",
    responses={409: {"description": "Not in review (before the proposal, or approved)"}},
)
async def override(
    mission: MissionRow,
    body: OverridesBody,
    session: SessionDep,
    client: TemporalDep,
    principal: PrincipalDep,
) -> SelectionPage:
    overrides = await _facts(session, mission, body.overrides)
    request = SelectionRequest(overrides=overrides, approve=False, by=principal.named(body.by))
    await review_selection(client, mission.id, request)
    return await _page(session, mission)


@router.post(
    "/approve",
    response_model=SelectionPage,
    summary="Approve the delegation (with last overrides): offers seats, tells everyone",
    responses={
        409: {"description": "Not in review, or approved already"},
        422: {"description": "The delegation breaks capacity or a quota"},
    },
)
async def approve(
    mission: MissionRow,
    body: ApprovalBody,
    session: SessionDep,
    client: TemporalDep,
    principal: PrincipalDep,
) -> SelectionPage:
    overrides = await _facts(session, mission, body.overrides)
    request = SelectionRequest(overrides=overrides, approve=True, by=principal.named(body.by))
    await review_selection(client, mission.id, request)
    return await _page(session, mission)


async def _facts(
    session: SessionDep, mission: Mission, overrides: list[OverrideBody]
) -> list[SelectionOverride]:
    """Each override with what the quotas need to know of its application, or a 422 naming
    the one this mission's proposal does not contain."""
    ids = [o.application_id for o in overrides]
    rows = {
        decision.application_id: (decision, application)
        for decision, application in (
            await session.exec(
                select(SelectionDecision, Application)
                .join(Application, col(Application.id) == SelectionDecision.application_id)
                .where(SelectionDecision.mission_id == mission.id)
                .where(col(SelectionDecision.application_id).in_(ids))
            )
        ).all()
    }
    unknown = [
        {
            "loc": ["body", "overrides", index, "application_id"],
            "msg": "No application with this id is in this mission's selection.",
            "type": "unknown_application",
        }
        for index, o in enumerate(overrides)
        if o.application_id not in rows
    ]
    if unknown:
        raise RequestValidationError(unknown)
    return [
        SelectionOverride(
            application_id=o.application_id,
            decision=o.decision,
            reason=o.reason,
            country=rows[o.application_id][1].country,
            sector=(rows[o.application_id][1].sectors or [""])[0],
            rank=rows[o.application_id][0].rank,
            score=rows[o.application_id][0].score,
            withdrawn=rows[o.application_id][1].status == ApplicationStatus.WITHDRAWN,
        )
        for o in overrides
    ]


async def _page(session: SessionDep, mission: Mission) -> SelectionPage:
    mission_id, capacity = mission.id, int(mission.file["selection"]["capacity"])
    session.expire_all()  # the workflow's activity has written since this session read
    rows = (
        await session.exec(
            select(SelectionDecision, Application)
            .join(Application, col(Application.id) == SelectionDecision.application_id)
            .where(SelectionDecision.mission_id == mission_id)
            .order_by(col(SelectionDecision.rank))
        )
    ).all()
    events = (
        await session.exec(
            select(SelectionEvent)
            .where(SelectionEvent.mission_id == mission_id)
            .order_by(col(SelectionEvent.at), col(SelectionEvent.action))
        )
    ).all()
    decisions = [
        DecisionView(
            application_id=decision.application_id,
            organisation=application.organisation,
            country=application.country,
            sectors=application.sectors,
            status=application.status,
            complete=application.complete,
            score=decision.score,
            breakdown=decision.breakdown,
            rank=decision.rank,
            proposed=decision.proposed,
            decision=decision.decision,
            waitlist_position=decision.waitlist_position,
            reasons=decision.reasons,
            override_reason=decision.override_reason,
        )
        for decision, application in rows
    ]
    return SelectionPage(
        proposed=bool(rows),
        approved=any(event.action == "approved" for event in events),
        capacity=capacity,
        selected=sum(d.decision == "selected" for d in decisions),
        waitlisted=sum(d.decision == "waitlisted" for d in decisions),
        decisions=decisions,
        audit=[EventView.model_validate(event, from_attributes=True) for event in events],
    )
