"""What a reviewer sees of the applications: only those assigned to them, and no contact data,
so that a reviewer scores the organisation's answers and not who wrote them; and their scores,
one per application, which they change until the delegation is approved (after that the
decisions are out and a score would change nothing). The JSON route and the console's form both
score through `save_review`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated

from fastapi import HTTPException, Request, status
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from api.identity import SAFE_METHODS, Principal, mission_actions, principal_of
from api.schemas import NO_NUL, ApplicationView
from missionflow.domain.people import Action
from missionflow.runtime.db import transaction
from missionflow.runtime.models import Application, SelectionEvent
from missionflow.runtime.people import Person, ReviewAssignment
from missionflow.runtime.review_scores import (
    COMMENT_LENGTH,
    HIGHEST,
    LOWEST,
    ReviewScore,
    put_score,
)

NO_APPLICATION = "No such application on this mission."
WITHHELD = ""
"""What a reviewer reads in place of a contact's name and email."""


def assigned_to(principal: Principal) -> SelectOfScalar:
    """The ids of the applications assigned to the principal for review."""
    return select(ReviewAssignment.application_id).where(
        ReviewAssignment.person_id == principal.person_id
    )


def without_contact(view: ApplicationView) -> ApplicationView:
    return view.model_copy(update={"contact_name": WITHHELD, "contact_email": WITHHELD})


async def reviewing(request: Request, application: Application) -> bool:
    """Whether the request reads an application assigned to its principal for review."""
    if request.method not in SAFE_METHODS:
        return False
    try:
        principal = await principal_of(request)
    except HTTPException:
        return False  # routes open to applicants: the link decides
    if principal is None or principal.person_id is None:
        return False
    actions = await mission_actions(request, principal, application.mission_id) or frozenset()
    if Action.REVIEW_ASSIGNED not in actions:
        return False
    async with request.app.state.sessions() as session:
        return await is_assigned(session, principal, application.id)


async def is_assigned(
    session: AsyncSession, principal: Principal, application_id: uuid.UUID
) -> bool:
    if principal.person_id is None:
        return False
    found = await session.exec(
        assigned_to(principal).where(ReviewAssignment.application_id == application_id)
    )
    return found.first() is not None


class ReviewBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    score: Annotated[int, Field(ge=LOWEST, le=HIGHEST, strict=True)] = Field(
        description=f"A whole number from {LOWEST} (weak) to {HIGHEST} (excellent)."
    )
    comment: str | None = Field(
        default=None,
        max_length=COMMENT_LENGTH,
        pattern=NO_NUL,
        description="Seen by the mission's coordinators and viewers, never by other reviewers; "
        "erased with the applicant's data.",
    )

    @field_validator("comment")
    @classmethod
    def _blank_is_none(cls, comment: str | None) -> str | None:
        return comment.strip() or None if comment is not None else None


class ReviewView(BaseModel):
    application_id: uuid.UUID
    reviewer: str = Field(description="Display Name <email>.")
    score: int
    comment: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


def review_view(row: ReviewScore, reviewer: Person) -> ReviewView:
    return ReviewView(
        application_id=row.application_id,
        reviewer=f"{reviewer.display_name} <{reviewer.email}>",
        score=row.score,
        comment=row.comment,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def save_review(
    request: Request,
    principal: Principal,
    mission_id: str,
    application_id: str,
    body: ReviewBody,
) -> ReviewScore:
    """Write the principal's score of the application, in one transaction.

    Raises:
        HTTPException: 404 for an application not of this mission; 403 when it is not
            assigned to the principal for review; 409 once the delegation is approved.
    """
    try:
        identifier = uuid.UUID(application_id)
    except ValueError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_APPLICATION) from None
    try:
        return await _write(request, principal, mission_id, identifier, body)
    except IntegrityError:  # the same reviewer's first score twice at once: replace the other
        return await _write(request, principal, mission_id, identifier, body)


async def _write(
    request: Request,
    principal: Principal,
    mission_id: str,
    application_id: uuid.UUID,
    body: ReviewBody,
) -> ReviewScore:
    async with transaction(request.app.state.sessions) as session:
        return await _checked_write(session, principal, mission_id, application_id, body)


async def _checked_write(
    session: AsyncSession,
    principal: Principal,
    mission_id: str,
    application_id: uuid.UUID,
    body: ReviewBody,
) -> ReviewScore:
    application = await session.get(Application, application_id)
    if application is None or application.mission_id != mission_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_APPLICATION)
    if principal.person_id is None or not await is_assigned(session, principal, application_id):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, "This application is not assigned to you for review."
        )
    if await selection_approved(session, mission_id):
        raise HTTPException(
            status.HTTP_409_CONFLICT,
            "The delegation is approved: reviews no longer change.",
        )
    return await put_score(
        session,
        mission_id=mission_id,
        application_id=application_id,
        person_id=principal.person_id,
        score=body.score,
        comment=body.comment,
        at=datetime.now(UTC),
    )


async def selection_approved(session: AsyncSession, mission_id: str) -> bool:
    approved = await session.scalar(
        select(func.count())
        .select_from(SelectionEvent)
        .where(SelectionEvent.mission_id == mission_id, SelectionEvent.action == "approved")
    )
    return bool(approved)
