"""What a reviewer sees of the applications: only those assigned to them, and no contact data,
so that a reviewer scores the organisation's answers and not who wrote them."""

from __future__ import annotations

from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from api.identity import Principal
from api.schemas import ApplicationView
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
