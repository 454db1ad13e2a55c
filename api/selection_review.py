"""The coordinators' review of the proposed delegation, for the JSON routes
(`api.routes.selection`) and the console's selection page alike: the proposal as the database
holds it, and overrides and approval sent to the mission's workflow on behalf of a person, who
is then named in the mission's audit log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.identity import Principal
from api.missions import review_selection
from missionflow.domain.call.applications import ApplicationStatus
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.selection.messages import (
    SelectionEntry,
    SelectionOverride,
    SelectionRequest,
    SelectionView,
)
from missionflow.domain.selection.review import SETTABLE, quota_breaches
from missionflow.runtime import audit
from missionflow.runtime.db import transaction
from missionflow.runtime.models import Application, Mission, SelectionDecision, SelectionEvent

OVERRIDDEN = "selection.overridden"
APPROVED = "selection.approved"
"""The audit log's actions: an override's subject is its application's id and its detail the
decision (the reason stays in the selection's own log), an approval's detail the counts."""

Decision = Annotated[str, Field(pattern=f"^({'|'.join(SETTABLE)})$")]


class OverrideBody(BaseModel):
    application_id: uuid.UUID
    decision: Decision
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


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
    seat: str | None = Field(default=None, description="offered, confirmed or released")
    respond_by: datetime | None = Field(default=None, description="When an offer expires.")
    seat_note: str | None = Field(default=None, description="Why the seat was released.")


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
    breaches: list[str] = Field(
        default_factory=list,
        description="What the delegation as it stands breaks of capacity and the hard quotas.",
    )
    decisions: list[DecisionView]
    audit: list[EventView]


async def selection_page(session: AsyncSession, mission: Mission) -> SelectionPage:
    """The proposal, the decisions as they stand with their seats, and the selection's log."""
    mission_id, file = mission.id, MissionFile.model_validate(mission.file)
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
        DecisionView.model_validate(
            {**decision.model_dump(), **application.model_dump(include=_APPLICATION_FIELDS)}
        )
        for decision, application in rows
    ]
    entries = [
        SelectionEntry(
            application_id=d.application_id,
            country=d.country,
            sector=d.sectors[0] if d.sectors else "",
            rank=d.rank,
            score=d.score,
            decision=d.decision,
        )
        for d in decisions
    ]
    return SelectionPage(
        proposed=bool(rows),
        approved=any(event.action == "approved" for event in events),
        capacity=file.selection.capacity,
        selected=sum(d.decision == "selected" for d in decisions),
        waitlisted=sum(d.decision == "waitlisted" for d in decisions),
        breaches=quota_breaches(file.selection, entries) if rows else [],
        decisions=decisions,
        audit=[EventView.model_validate(event, from_attributes=True) for event in events],
    )


_APPLICATION_FIELDS = {"organisation", "country", "sectors", "status", "complete"}


async def review(
    request: Request,
    session: AsyncSession,
    client: Client,
    principal: Principal,
    mission: Mission,
    overrides: Sequence[OverrideBody],
    *,
    approve: bool,
    by: str | None = None,
) -> SelectionView:
    """Send the overrides (and the approval) to the mission, then write who made them to its
    audit log.

    Args:
        by: who the request says made the change; kept only for the bootstrap token
            (`Principal.named`).

    Raises:
        RequestValidationError: an application this mission's proposal does not contain, at
            `body.overrides.<n>.application_id`.
        api.updates.Refused: what the workflow's validator refuses (not in review, a quota
            broken, no reason), as `api.routes.selection` documents.
    """
    named = principal.named(by)
    facts = await _facts(session, mission, overrides)
    asked = SelectionRequest(overrides=facts, approve=approve, by=named)
    view = await review_selection(client, mission.id, asked)
    async with transaction(request.app.state.sessions) as written:
        for override in overrides:
            audit.record(
                written,
                mission.id,
                by=named,
                action=OVERRIDDEN,
                subject=str(override.application_id),
                detail=override.decision,
            )
        if approve:
            counts = f"{view.selected} selected, {view.waitlisted} waitlisted"
            audit.record(written, mission.id, by=named, action=APPROVED, detail=counts)
    return view


async def _facts(
    session: AsyncSession, mission: Mission, overrides: Sequence[OverrideBody]
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
