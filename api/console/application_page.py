"""One application in the console: every answer the apply form took, its slide (downloaded
through the JSON route, which takes the session cookie and lets only those who may read the
application have it), what happened to it (`application_history`), and its reviews: all of
them for those who read every application, a reviewer's own with the form to score it.

The form scores through `api.reviews.save_review`, as `PUT .../review` does."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlmodel import select

from api.application_list import views
from api.applying import call_of
from api.console.access import (
    PREFIX,
    ConsolePrincipal,
    mission_access,
    refusal,
    render,
    stored_mission,
)
from api.console.application_history import history
from api.deps import SessionDep
from api.identity import Principal
from api.reviews import (
    NO_APPLICATION,
    ReviewBody,
    is_assigned,
    review_view,
    save_review,
    selection_approved,
    without_contact,
)
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.people import Action
from missionflow.runtime.models import Application, Slide
from missionflow.runtime.review_scores import reviews_of

router = APIRouter(include_in_schema=False)  # under applications.router's prefix

PATH = "/missions/{mission_id}/applications/{application_id}"
READERS = (Action.READ_APPLICATIONS, Action.REVIEW_ASSIGNED)
DONE = {"scored": "Your score is saved. You may change it until the delegation is approved."}


@router.get(PATH, response_class=HTMLResponse)
async def application(
    mission_id: str,
    application_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
) -> HTMLResponse:
    access = await mission_access(request, principal, mission_id, READERS)
    message = DONE.get(request.query_params.get("done", ""))
    return await application_page(
        request, principal, session, mission_id, application_id, access, message=message
    )


@router.post(f"{PATH}/review", response_class=HTMLResponse)
async def review(
    mission_id: str,
    application_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
) -> Response:
    access = await mission_access(request, principal, mission_id, (Action.REVIEW_ASSIGNED,))
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in ("score", "comment")}
    sent = {name: value for name, value in values.items() if value.strip()}
    try:
        body = ReviewBody.model_validate_strings(sent)
        await save_review(request, principal, mission_id, application_id, body)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else "score"
        return await application_page(
            request,
            principal,
            session,
            mission_id,
            application_id,
            access,
            errors={field: first["msg"]},
            values=values,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    except HTTPException as error:
        if error.status_code != status.HTTP_409_CONFLICT:
            raise refusal(request, principal, error) from None
        return await application_page(
            request,
            principal,
            session,
            mission_id,
            application_id,
            access,
            problem=str(error.detail),
            values=values,
            status_code=error.status_code,
        )
    page = f"{PREFIX}/missions/{mission_id}/applications/{uuid.UUID(application_id)}"
    return RedirectResponse(f"{page}?done=scored", status.HTTP_303_SEE_OTHER)


async def application_page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    mission_id: str,
    application_id: str,
    access: frozenset[Action],
    *,
    message: str | None = None,
    problem: str | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    """The application's page; after a refused score, with the refusal at its field (`errors`)
    or at the top (`problem`) and what was sent (`values`). A reviewer reads only an
    application assigned to them (any other is a 404, as in the JSON API), without contact
    data, and only their own review."""
    mission_row = await stored_mission(request, principal, session, mission_id)
    row = await _application(session, mission_id, application_id)
    everything = Action.READ_APPLICATIONS in access
    assigned = row is not None and await is_assigned(session, principal, row.id)
    if row is None or not (everything or assigned):
        raise refusal(request, principal, HTTPException(status.HTTP_404_NOT_FOUND, NO_APPLICATION))
    mission = await call_of(session, mission_id)
    (view,) = await views(session, [row], disclosed=True)
    scored = await reviews_of(session, row.id, by=None if everything else principal.person_id)
    reviews = [review_view(score, person) for score, person in scored]
    slide = (
        await session.exec(
            select(Slide.filename, Slide.size, Slide.content_type).where(
                Slide.application_id == row.id
            )
        )
    ).first()
    return render(
        request,
        "application.html",
        {
            "mission_id": mission_id,
            "here": "applications",
            "mission": mission_row,
            "application": view if everything else without_contact(view),
            "contacts": everything,
            "applied": {
                "language": row.language,
                "consent": row.consent,
                "consent_version": row.consent_version,
                "erased_at": row.erased_at,
            },
            "answers": _answers(mission, row.answers),
            "slide": slide,
            "history": await history(session, row) if everything else [],
            "reviews": reviews,
            "mean": sum(r.score for r in reviews) / len(reviews) if reviews else None,
            "may_score": assigned,
            "approved": await selection_approved(session, mission_id),
            "own": next((s for s, p in scored if assigned and p.id == principal.person_id), None),
            "message": message,
            "problem": problem,
            "errors": errors or {},
            "values": values or {},
        },
        principal=principal,
        status_code=status_code,
    )


async def _application(
    session: SessionDep, mission_id: str, application_id: str
) -> Application | None:
    try:
        row = await session.get(Application, uuid.UUID(application_id))
    except ValueError:
        return None
    return row if row is not None and row.mission_id == mission_id else None


def _answers(mission: MissionFile, answers: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """Each question of the call with its answer (None: not answered), in the form's order;
    then any answer to a question the call no longer has, under its id."""
    asked = [(q.text, answers.get(q.id)) for q in mission.call.questionnaire]
    known = {q.id for q in mission.call.questionnaire}
    return asked + [(key, value) for key, value in answers.items() if key not in known]
