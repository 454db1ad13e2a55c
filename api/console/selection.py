"""The console's selection page: the proposed delegation with its scores and breakdown, overrides
with a reason, approval, seats and the waitlist.

The page reads what `GET /missions/{id}/selection` answers, and its forms do what
`POST .../selection/overrides` and `.../approve` do (`api.selection_review`): the workflow
refuses the same things, and the audit log names the signed-in person. A refusal is shown at
its field (422) or at the top (409, 404, 503); a success redirects back with a message (303).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from fastapi import APIRouter, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.console.access import PREFIX, ConsolePrincipal, mission_access, render, stored_mission
from api.console.forms import FormRefused, from_mission
from api.console.pages import live_status, temporal_client
from api.deps import SessionDep
from api.identity import Principal
from api.selection_review import OverrideBody, review, selection_page
from api.updates import Refused, Unavailable
from missionflow.domain.instants import describe
from missionflow.domain.mission.phases import Phase
from missionflow.domain.people import Action
from missionflow.domain.refusals import INVALID
from missionflow.domain.selection.review import SETTABLE

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)

OVERRIDE_FIELDS = ("application_id", "decision", "reason")
DONE = {
    "overridden": "The decision is overridden; the selection's log keeps the reason.",
    "approved": "The delegation is approved: the selected are offered their seats, and every "
    "applicant is told.",
}
"""The messages a form's success redirects back with (`?done=`)."""
UNPROCESSABLE = status.HTTP_422_UNPROCESSABLE_CONTENT
HINTS = {
    "uuid_parsing": "Choose an application of the proposal.",
    "string_pattern_mismatch": f"A decision is one of {', '.join(SETTABLE)}.",
    "string_too_short": "Say why the decision is overridden.",
}
"""What the form's sender is told for the body's refusals a person makes in a form."""


@router.get("/missions/{mission_id}/selection", response_class=HTMLResponse)
async def selection(
    mission_id: str, request: Request, principal: ConsolePrincipal, session: SessionDep
) -> HTMLResponse:
    actions = await mission_access(request, principal, mission_id, (Action.READ,))
    message = DONE.get(request.query_params.get("done", ""))
    return await _page(request, principal, session, mission_id, actions, message=message)


async def _page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    mission_id: str,
    actions: frozenset[Action],
    *,
    message: str | None = None,
    problem: str | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    """The selection page; after a refused form, with the refusal at its field (`errors`) or
    at the top (`problem`) and what was sent (`values`)."""
    row = await stored_mission(request, principal, session, mission_id)
    title, zone, stored_phase = row.title, row.timezone, Phase(row.phase)
    page = await selection_page(session, row)  # expires the session's rows: read them first
    live = await live_status(await temporal_client(request), mission_id)
    phase = live.phase if live else stored_phase
    in_review = page.proposed and not page.approved and phase == Phase.SELECTION

    def when(instant: datetime | None) -> str:
        return describe(instant, zone) if instant else ""

    return render(
        request,
        "selection.html",
        {
            "mission_id": mission_id,
            "here": "selection",
            "title": title,
            "zone": zone,
            "phase": phase,
            "live": live,
            "page": page,
            "in_review": in_review,
            "may_review": in_review and live is not None and Action.STEER in actions,
            "names": {d.application_id: d.organisation for d in page.decisions},
            "settable": SETTABLE,
            "when": when,
            "message": message,
            "problem": problem,
            "errors": errors or {},
            "values": values or {},
        },
        principal=principal,
        status_code=status_code,
    )


@router.post("/missions/{mission_id}/selection/overrides", response_class=HTMLResponse)
async def override(
    mission_id: str, request: Request, principal: ConsolePrincipal, session: SessionDep
) -> Response:
    return await _review(request, principal, session, mission_id, approve=False)


@router.post("/missions/{mission_id}/selection/approve", response_class=HTMLResponse)
async def approve(
    mission_id: str, request: Request, principal: ConsolePrincipal, session: SessionDep
) -> Response:
    return await _review(request, principal, session, mission_id, approve=True)


async def _review(
    request: Request,
    principal: Principal,
    session: SessionDep,
    mission_id: str,
    *,
    approve: bool,
) -> Response:
    """Check that the person may steer the mission, send the override or the approval as the
    JSON routes do, and redirect back with a message; show a refusal on the page."""
    actions = await mission_access(request, principal, mission_id, (Action.STEER,))
    row = await stored_mission(request, principal, session, mission_id)
    form = await request.form()
    names = ("confirm",) if approve else OVERRIDE_FIELDS
    values = {name: str(form.get(name) or "") for name in names}
    try:
        if approve and values["confirm"] != "yes":
            raise FormRefused(
                "Tick “I confirm” to approve: the selected are offered their seats and every "
                "applicant is told at once.",
                field="confirm",
                status_code=UNPROCESSABLE,
            )
        overrides = [] if approve else [_override(values)]
        client = await request.app.state.temporal.client()
        await review(request, session, client, principal, row, overrides, approve=approve)
    except FormRefused as error:
        refused = error
    except RequestValidationError as error:  # an application not in this mission's proposal
        first = error.errors()[0]
        refused = FormRefused(first["msg"], field=first["loc"][-1], status_code=UNPROCESSABLE)
    except Refused as error:
        refused = _from_mission(error)
    except Unavailable as error:
        refused = FormRefused(
            f"{error} Please send the form again in a moment.",
            field=None,
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    else:
        done = "approved" if approve else "overridden"
        return RedirectResponse(
            f"{PREFIX}/missions/{mission_id}/selection?done={done}", status.HTTP_303_SEE_OTHER
        )
    return await _page(
        request,
        principal,
        session,
        mission_id,
        actions,
        problem=str(refused) if refused.field is None else None,
        errors={refused.field: str(refused)} if refused.field else {},
        values=values,
        status_code=refused.status_code,
    )


def _override(values: Mapping[str, str]) -> OverrideBody:
    """The form's override as the JSON body's, refused at its field as the body would be."""
    try:
        return OverrideBody.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        raise FormRefused(
            HINTS.get(first["type"], first["msg"]),
            field=str(first["loc"][0]),
            status_code=UNPROCESSABLE,
        ) from None


def _from_mission(error: Refused) -> FormRefused:
    """The workflow's refusal as the forms show it (`api.console.forms.from_mission`): an
    override's field (`overrides.0.reason`) at that field of the form, and a broken quota,
    which names no field, at the top (422)."""
    if error.kind == INVALID and not error.field:
        return FormRefused(str(error), field=None, status_code=UNPROCESSABLE)
    return from_mission(error, (error.field or "").rsplit(".", 1)[-1])
