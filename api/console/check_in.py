"""GET /console/missions/{id}/check-in: the matchmaking event's desk. A person who may steer the
mission types a participant's code, or scans the QR code of their agenda (a USB scanner types
the check-in link and Enter into the focused field), and the participant is marked arrived;
below, who arrived and who is still expected, with the counts by side.

The check-in link itself leads here with `?code=`: a coordinator's phone that scans an agenda
opens this page with the code filled in and the participant named, one button from checking
them in. The form goes through `api.check_ins`, as `POST /missions/{id}/check-ins` does, so an
unknown code is a 422 at the field, the workflow says whether the desk is open, and the
signed-in person is recorded as who checked them in. A success redirects (303) back with the
participant, so the page says who was checked in (or since when they were) and the field is
empty and focused for the next scan.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.check_ins import CheckInBody, arrivals_of, check_in, participant_by_code
from api.console.access import PREFIX, ConsolePrincipal, mission_access, render, stored_mission
from api.deps import SessionDep, SettingsDep
from api.identity import Principal
from api.updates import Refused, Unavailable
from missionflow.domain.instants import describe
from missionflow.domain.matchmaking.check_in import desk_opens
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.domain.people import Action
from missionflow.runtime import participants
from missionflow.runtime.check_ins import CheckIn
from missionflow.runtime.models import Mission

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)

NUL = "This holds a NUL character, which is no text."


@router.get("/missions/{mission_id}/check-in", response_class=HTMLResponse)
async def check_in_page(
    mission_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    actions = await mission_access(request, principal, mission_id, (Action.READ,))
    row = await stored_mission(request, principal, session, mission_id)
    code = request.query_params.get("code", "")[:2000]
    scanned = errors = None
    if code and Action.STEER in actions:  # the link scanned by a phone: who it is
        try:
            scanned = await participant_by_code(session, settings, mission_id, code)
        except RequestValidationError as error:
            errors = {"code": str(error.errors()[0]["msg"])}
    return await _page(
        request,
        principal,
        session,
        mission_id,
        actions,
        message=await _done(request, session, row),
        scanned=scanned.name if scanned else None,
        errors=errors,
        code=code,
    )


@router.post("/missions/{mission_id}/check-in", response_class=HTMLResponse)
async def check_in_form(
    mission_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    actions = await mission_access(request, principal, mission_id, (Action.STEER,))
    row = await stored_mission(request, principal, session, mission_id)
    code = str((await request.form()).get("code") or "")
    problem, errors, status_code = None, None, status.HTTP_422_UNPROCESSABLE_CONTENT
    try:
        if MissionFile.model_validate(row.file).matchmaking is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "This mission has no matchmaking event.")
        if "\x00" in code:
            raise RequestValidationError([{"loc": ("body", "code"), "msg": NUL, "type": "value"}])
        body = CheckInBody.model_validate({"code": code})
        client = await request.app.state.temporal.client()
        receipt = await check_in(
            client, session, settings, mission_id, body, by=principal.named(None)
        )
    except (ValidationError, RequestValidationError) as error:
        errors = {"code": str(error.errors()[0]["msg"])}
    except HTTPException as error:
        problem, status_code = str(error.detail), error.status_code
    except Refused as error:
        problem, status_code = str(error), status.HTTP_409_CONFLICT
    except Unavailable as error:
        problem = f"{error} Please send the form again in a moment."
        status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    else:
        again = "&already=1" if receipt.already else ""
        return RedirectResponse(
            f"{PREFIX}/missions/{mission_id}/check-in?checked={receipt.participant_id}{again}",
            status.HTTP_303_SEE_OTHER,
        )
    return await _page(
        request,
        principal,
        session,
        mission_id,
        actions,
        problem=problem,
        errors=errors,
        code=code,
        status_code=status_code,
    )


async def _done(request: Request, session: SessionDep, mission: Mission) -> str | None:
    """After a check-in: who it was, and when they arrived (now, or at their first scan)."""
    try:
        checked = uuid.UUID(request.query_params.get("checked", ""))
    except ValueError:
        return None
    row = await session.get(CheckIn, (mission.id, checked))
    if row is None:
        return None
    person = await participants.find(session, mission.id, checked)
    name = person.name if person else "The participant"
    event = MissionFile.model_validate(mission.file).matchmaking
    at = describe(row.checked_in_at, event.timezone if event else mission.timezone)
    if request.query_params.get("already"):
        return f"{name} ({row.side}) is already checked in: since {at}, by {row.checked_in_by}."
    return f"{name} ({row.side}) is checked in, at {at}."


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
    code: str = "",
    scanned: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    row = await stored_mission(request, principal, session, mission_id)
    event = MissionFile.model_validate(row.file).matchmaking
    context: dict[str, object] = {"mission_id": mission_id, "here": "check-in", "mission": row}
    if event is None:
        return render(
            request,
            "check_in.html",
            {**context, "event": None, "problem": problem},
            principal=principal,
            status_code=status_code,
        )
    figures = await arrivals_of(session, mission_id)
    arrived = {a.participant_id for a in figures.arrivals}
    return render(
        request,
        "check_in.html",
        {
            **context,
            "event": event,
            "opens": describe(desk_opens(event), event.timezone),
            "closes": describe(event.ends_at, event.timezone),
            "figures": figures,
            "arrivals": [(a, describe(a.checked_in_at, event.timezone)) for a in figures.arrivals],
            "waiting": [
                p for p in await participants.everyone(session, mission_id) if p.id not in arrived
            ],
            "may_check_in": Action.STEER in actions and not Phase(row.phase).is_terminal,
            "message": message,
            "problem": problem,
            "errors": errors or {},
            "code": code,
            "scanned": scanned,
        },
        principal=principal,
        status_code=status_code,
    )
