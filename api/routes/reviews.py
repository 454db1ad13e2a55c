"""A reviewer's score of an application assigned to them (`api.reviews`, shared with the
console's form), and every score of an application for those who read all of them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, HTTPException, Request, status

from api.deps import PrincipalDep, SessionDep, requires
from api.reviews import NO_APPLICATION, ReviewBody, ReviewView, review_view, save_review
from missionflow.domain.people import Action
from missionflow.runtime.models import Application
from missionflow.runtime.people import Person
from missionflow.runtime.review_scores import reviews_of

router = APIRouter(
    prefix="/missions/{mission_id}/applications/{application_id}", tags=["applications"]
)


@router.put(
    "/review",
    response_model=ReviewView,
    dependencies=[Depends(requires(Action.REVIEW_ASSIGNED))],
    summary="Score an application assigned to me for review (again: replaces my score)",
    responses={
        403: {"description": "Not assigned to you for review"},
        404: {"description": "No such application on this mission"},
        409: {"description": "The delegation is approved: reviews no longer change"},
    },
)
async def put_review(
    mission_id: str,
    application_id: str,
    body: ReviewBody,
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
) -> ReviewView:
    row = await save_review(request, principal, mission_id, application_id, body)
    person = await session.get(Person, row.person_id)
    assert person is not None  # the reviewer who just wrote it
    return review_view(row, person)


@router.get(
    "/reviews",
    response_model=list[ReviewView],
    dependencies=[Depends(requires(Action.READ_APPLICATIONS))],
    summary="Every reviewer's score of the application, oldest first",
)
async def list_reviews(
    mission_id: str, application_id: str, session: SessionDep
) -> list[ReviewView]:
    try:
        row = await session.get(Application, uuid.UUID(application_id))
    except ValueError:
        row = None
    if row is None or row.mission_id != mission_id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, NO_APPLICATION)
    return [review_view(score, person) for score, person in await reviews_of(session, row.id)]
