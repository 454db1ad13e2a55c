"""What a reviewer sees of the applications: only those assigned to them, and no contact data,
so that a reviewer scores the organisation's answers and not who wrote them."""

from __future__ import annotations

from fastapi import HTTPException, Request
from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from api.identity import SAFE_METHODS, Principal, mission_actions, principal_of
from api.schemas import ApplicationView
from missionflow.domain.people import Action
from missionflow.runtime.models import Application
from missionflow.runtime.people import ReviewAssignment

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
        found = await session.exec(
            assigned_to(principal).where(ReviewAssignment.application_id == application.id)
        )
        return found.first() is not None
