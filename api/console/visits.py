"""GET /console/missions/{id}/visits: each cluster visit, in its city's zone, with who holds a
place, who waits and who attended; for a person who may steer the mission, the forms the JSON
visits routes offer coordinators: give a confirmed delegate a place, give a place up, change a
visit, cancel it, and mark attendance once it has started.

The page and the forms go through `api.visits`, as `api.routes.visits` does: the same counts,
the same workflow Updates, so the workflow refuses the same things (attendance before the visit
starts, a change that breaks the mission's plan, a place for a delegate without a confirmed
seat) and names the signed-in person on a change.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from temporalio.client import Client

from api import visits
from api.console.access import PREFIX, ConsolePrincipal, mission_access, render, stored_mission
from api.console.forms import FormRefused
from api.deps import SessionDep
from api.identity import Principal
from api.updates import Refused, Unavailable
from api.visits import AttendanceBody, ChangeBody, RegistrationView, VisitView
from missionflow.domain.instants import describe
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.domain.people import Action
from missionflow.domain.refusals import INVALID, NOT_FOUND
from missionflow.domain.visits.rules import OVER
from missionflow.runtime.models import Application, Mission

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)

DONE = {
    "registered": "The delegate holds a place on the visit; they are emailed.",
    "waitlisted": "The visit is full: the delegate is on its waitlist.",
    "given-up": "The place is given up; the first on the waitlist takes a freed place.",
    "attendance": "Attendance recorded.",
    "changed": "The visit is changed; its delegates are emailed.",
    "cancelled": "The visit is cancelled; its delegates are emailed.",
}
"""The messages a form's success redirects back with (`?done=`)."""
CHANGE_FIELDS = ("starts_at", "ends_at", "address", "meeting_point", "note")
BEFORE_THE_DELEGATION = (Phase.CALL_OPEN, Phase.SELECTION, Phase.CONFIRMATION)
Body = TypeVar("Body", bound=BaseModel)


@dataclass(frozen=True)
class VisitBlock:
    """One visit on the page, with what the reader may do to it now."""

    view: VisitView
    starts: str
    """In the city's zone and in UTC."""
    places: list[RegistrationView]
    may_change: bool
    """Steer, and the visit has not started, nor been cancelled, nor the visits ended: it may
    be changed, cancelled, and places taken and given up."""
    delegates: list[Application]
    """For those who steer: the confirmed delegates with no place on it, to give one."""
    may_mark: bool
    """Steer, and the visit has started (attendance is taken from then on)."""


@dataclass(frozen=True)
class Failed:
    """The form a refusal is about, to show its errors and what it sent there."""

    visit_id: str
    form: str
    application_id: str = ""


@router.get("/missions/{mission_id}/visits", response_class=HTMLResponse)
async def visits_page(
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
    failed: Failed | None = None,
    problem: str | None = None,
    errors: Mapping[str, str] | None = None,
    values: Mapping[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    row = await stored_mission(request, principal, session, mission_id)
    plan = MissionFile.model_validate(row.file)
    views = await visits.visit_views(row, session)
    places = await visits.registrations(session, row)
    now, phase = datetime.now(UTC), Phase(row.phase)
    steers = Action.STEER in actions and not phase.is_terminal
    confirmed = await visits.confirmed_delegates(session, row.id) if steers else []
    blocks = [
        VisitBlock(
            view=view,
            starts=describe(visit.starts_at, visit.timezone),
            places=[p for p in places if p.visit_id == visit.id],
            may_change=steers
            and not visit.cancelled
            and now < visit.starts_at
            and phase not in OVER,
            may_mark=steers and not visit.cancelled and now >= visit.starts_at,
            delegates=[
                d
                for d in confirmed
                if not any(p.visit_id == visit.id and p.application_id == d.id for p in places)
            ],
        )
        for visit, view in zip(plan.visits, views, strict=True)
    ]
    return render(
        request,
        "visits.html",
        {
            "mission_id": mission_id,
            "here": "visits",
            "mission": row,
            "visits": blocks,
            "coming": _when_they_come(plan, phase, places),
            "message": message,
            "failed": failed,
            "problem": problem,
            "errors": errors or {},
            "values": values or {},
        },
        principal=principal,
        status_code=status_code,
    )


def _when_they_come(plan: MissionFile, phase: Phase, places: list[RegistrationView]) -> str | None:
    """Before anyone holds a place: when delegates can take one, and when the visits are."""
    if not plan.visits:
        return "This mission has no cluster visits."
    if places or phase not in BEFORE_THE_DELEGATION:
        return None
    first = plan.visits[0]
    lock = describe(plan.selection.delegation_lock, plan.timezone)
    return (
        "No delegate holds a place yet: delegates take places once they have confirmed their "
        f"seat, and the delegation locks {lock}, when it is sent the itinerary. The first "
        f"visit starts {describe(first.starts_at, first.timezone)}."
    )


Act = Callable[[Client, Mission], Awaitable[str]]
"""A form's action: what it asks of the mission; it answers the key of its `DONE` message."""


async def _steer(
    request: Request,
    principal: Principal,
    session: SessionDep,
    mission_id: str,
    failed: Failed,
    values: Mapping[str, str],
    *,
    act: Act,
    fields: Collection[str],
) -> Response:
    """Check that the person may steer the mission, `act`, and redirect back to the visit
    with its message; a refusal is shown at its field when the form has it (`fields`), else
    at the top."""
    actions = await mission_access(request, principal, mission_id, (Action.STEER,))
    row = await stored_mission(request, principal, session, mission_id)
    try:
        done = await act(await request.app.state.temporal.client(), row)
    except (FormRefused, ValidationError, RequestValidationError, HTTPException) as error:
        refused = _refusal(error)
    except Refused as error:
        code = {
            INVALID: status.HTTP_422_UNPROCESSABLE_CONTENT,
            NOT_FOUND: status.HTTP_404_NOT_FOUND,
        }.get(error.kind)
        refused = FormRefused(
            str(error), field=error.field, status_code=code or status.HTTP_409_CONFLICT
        )
    except Unavailable as error:
        refused = FormRefused(
            f"{error} Please send the form again in a moment.",
            field=None,
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    else:
        return RedirectResponse(
            f"{PREFIX}/missions/{mission_id}/visits?done={done}#visit-{failed.visit_id}",
            status.HTTP_303_SEE_OTHER,
        )
    at_field = refused.field in fields
    return await _page(
        request,
        principal,
        session,
        mission_id,
        actions,
        failed=failed,
        problem=None if at_field else str(refused),
        errors={str(refused.field): str(refused)} if at_field else {},
        values=values,
        status_code=refused.status_code,
    )


def _refusal(
    error: FormRefused | ValidationError | RequestValidationError | HTTPException,
) -> FormRefused:
    """What the form's sender is told: a body the route's model refuses is a 422 at its first
    field, as the JSON route says it; a visit that does not exist, a 404."""
    if isinstance(error, FormRefused):
        return error
    if isinstance(error, HTTPException):
        return FormRefused(str(error.detail), field=None, status_code=error.status_code)
    first = error.errors()[0]
    return FormRefused(
        str(first["msg"]).removeprefix("Value error, "),
        field=str(first["loc"][-1]) if first["loc"] else None,
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _values(request: Request, *names: str) -> dict[str, str]:
    form = await request.form()
    return {name: str(form.get(name) or "") for name in names}


def _body(model: type[Body], values: Mapping[str, str]) -> Body:
    """The JSON route's body from the form: a field left empty is a field not sent."""
    for name, value in values.items():
        if "\x00" in value:
            raise FormRefused(
                "This holds a NUL character, which is no text.",
                field=name,
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            )
    return model.model_validate({k: v.strip() for k, v in values.items() if v.strip()})


@router.post("/missions/{mission_id}/visits/{visit_id}/attendance", response_class=HTMLResponse)
async def attendance(
    mission_id: str,
    visit_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
) -> Response:
    values = await _values(request, "application_id", "attendance")

    async def act(client: Client, mission: Mission) -> str:
        body = _body(AttendanceBody, values)
        await visits.mark_attendance(client, mission.id, visit_id, body)
        return "attendance"

    failed = Failed(visit_id, "attendance", values["application_id"])
    return await _steer(
        request,
        principal,
        session,
        mission_id,
        failed,
        values,
        act=act,
        fields=(),
    )


@router.post("/missions/{mission_id}/visits/{visit_id}/change", response_class=HTMLResponse)
async def change(
    mission_id: str,
    visit_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
) -> Response:
    values = await _values(request, *CHANGE_FIELDS)

    async def act(client: Client, mission: Mission) -> str:
        body = _body(ChangeBody, values)
        await visits.change(client, mission, visit_id, body, by=principal.named(None))
        return "changed"

    return await _steer(
        request,
        principal,
        session,
        mission_id,
        Failed(visit_id, "change"),
        values,
        act=act,
        fields=CHANGE_FIELDS,
    )


@router.post("/missions/{mission_id}/visits/{visit_id}/cancel", response_class=HTMLResponse)
async def cancel(
    mission_id: str,
    visit_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
) -> Response:
    values = await _values(request, "note", "confirm")

    async def act(client: Client, mission: Mission) -> str:
        if values["confirm"] != "yes":
            raise FormRefused(
                "Tick “I confirm” to cancel the visit: its delegates are told at once.",
                field="confirm",
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            )
        body = _body(ChangeBody, {"note": values["note"]}).model_copy(update={"cancelled": True})
        await visits.change(client, mission, visit_id, body, by=principal.named(None))
        return "cancelled"

    return await _steer(
        request,
        principal,
        session,
        mission_id,
        Failed(visit_id, "cancel"),
        values,
        act=act,
        fields=("note", "confirm"),
    )


@router.post("/missions/{mission_id}/visits/{visit_id}/places", response_class=HTMLResponse)
async def take_place(
    mission_id: str,
    visit_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
) -> Response:
    values = await _values(request, "application_id")

    async def act(client: Client, mission: Mission) -> str:
        delegate = _application(values, "Choose a delegate.")
        receipt = await visits.take_place(client, mission.id, visit_id, delegate)
        return receipt.status

    failed = Failed(visit_id, "place")
    return await _steer(
        request, principal, session, mission_id, failed, values, act=act, fields=["application_id"]
    )


@router.post("/missions/{mission_id}/visits/{visit_id}/give-up", response_class=HTMLResponse)
async def give_up(
    mission_id: str,
    visit_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
) -> Response:
    values = await _values(request, "application_id")

    async def act(client: Client, mission: Mission) -> str:
        delegate = _application(values, "This form names no delegate: open the page again.")
        await visits.give_up(client, mission.id, visit_id, delegate)
        return "given-up"

    failed = Failed(visit_id, "give-up", values["application_id"])
    return await _steer(request, principal, session, mission_id, failed, values, act=act, fields=())


def _application(values: Mapping[str, str], missing: str) -> uuid.UUID:
    try:
        return uuid.UUID(values["application_id"])
    except ValueError:
        raise FormRefused(
            missing, field="application_id", status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        ) from None
