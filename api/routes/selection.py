"""The coordinators' review of the proposed delegation: read it, override it, approve it.

The proposal and the audit log are read from the database; overrides and approval go to the
mission workflow as one Update, whose validator checks the phase, the decisions and the quotas
(`api.selection_review`, shared with the console's selection page).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from api.deps import Coordinator, MissionRow, PrincipalDep, SessionDep, TemporalDep
from api.schemas import IGNORED_BY
from api.selection_review import OverrideBody, SelectionPage, review, selection_page

router = APIRouter(
    prefix="/missions/{mission_id}/selection", tags=["selection"], dependencies=[Coordinator]
)


class OverridesBody(BaseModel):
    overrides: Annotated[list[OverrideBody], Field(min_length=1, max_length=500)]
    by: Annotated[str, Field(max_length=200, description=IGNORED_BY)] | None = None


class ApprovalBody(BaseModel):
    overrides: Annotated[list[OverrideBody], Field(max_length=500)] = []
    by: Annotated[str, Field(max_length=200, description=IGNORED_BY)] | None = None


@router.get("", response_model=SelectionPage, summary="The proposed delegation, with reasons")
async def read_selection(mission: MissionRow, session: SessionDep) -> SelectionPage:
    return await selection_page(session, mission)


@router.post(
    "/overrides",
    response_model=SelectionPage,
    summary="Override decisions of the proposal, each with a reason",
    responses={409: {"description": "Not in review (before the proposal, or approved)"}},
)
async def override(
    request: Request,
    mission: MissionRow,
    body: OverridesBody,
    session: SessionDep,
    client: TemporalDep,
    principal: PrincipalDep,
) -> SelectionPage:
    await review(
        request, session, client, principal, mission, body.overrides, approve=False, by=body.by
    )
    return await selection_page(session, mission)


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
    request: Request,
    mission: MissionRow,
    body: ApprovalBody,
    session: SessionDep,
    client: TemporalDep,
    principal: PrincipalDep,
) -> SelectionPage:
    await review(
        request, session, client, principal, mission, body.overrides, approve=True, by=body.by
    )
    return await selection_page(session, mission)
