"""The forms that steer a mission from its console page: extend the call's deadline, cancel the
mission. Each goes through `api.steering`, as the JSON routes do, so the workflow refuses the
same things and the audit log names the signed-in person; a refusal is shown on the mission's
page at its field, a success redirects back to the page with a message (303)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from fastapi import APIRouter, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from temporalio.client import Client

from api import steering
from api.console.access import PREFIX, ConsolePrincipal, mission_access, stored_mission
from api.console.pages import mission_page
from api.deps import SessionDep, SettingsDep
from api.identity import Principal
from api.schemas import CancelBody
from api.updates import Refused, Unavailable
from missionflow.domain.people import Action
from missionflow.domain.refusals import INVALID, NOT_FOUND
from missionflow.runtime.models import Mission

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)


class FormRefused(Exception):
    """What the form's sender must change: a message at a field, or at the top (field None)."""

    def __init__(self, message: str, *, field: str | None, status_code: int) -> None:
        super().__init__(message)
        self.field = field
        self.status_code = status_code


Steer = Callable[[Client, Mission], Awaitable[object]]


async def _steer(
    request: Request,
    principal: Principal,
    session: SessionDep,
    settings: SettingsDep,
    mission_id: str,
    values: Mapping[str, str],
    *,
    act: Steer,
    field: str,
    done: str,
) -> Response:
    """Check that the person may steer the mission, `act`, and redirect back with the `done`
    message; a refusal of the request itself is shown at `field`."""
    actions = await mission_access(request, principal, mission_id, (Action.STEER,))
    row = await stored_mission(request, principal, session, mission_id)
    try:
        await act(await request.app.state.temporal.client(), row)
    except RequestValidationError as error:
        refused = FormRefused(
            error.errors()[0]["msg"],
            field=field,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    except Refused as error:
        refused = from_mission(error, field)
    except Unavailable as error:
        refused = FormRefused(
            f"{error} Please send the form again in a moment.",
            field=None,
            status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    except FormRefused as error:
        refused = error
    else:
        return RedirectResponse(
            f"{PREFIX}/missions/{mission_id}?done={done}", status.HTTP_303_SEE_OTHER
        )
    return await mission_page(
        request,
        principal,
        session,
        settings,
        mission_id,
        actions,
        problem=str(refused) if refused.field is None else None,
        errors={refused.field: str(refused)} if refused.field else {},
        values=values,
        status_code=refused.status_code,
    )


def _reason(values: Mapping[str, str]) -> str:
    reason = values["reason"].strip()
    if not reason:
        raise FormRefused(
            "Say why: everyone concerned is told.",
            field="reason",
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    try:
        CancelBody(reason=reason)
    except ValidationError as error:
        raise FormRefused(
            error.errors()[0]["msg"],
            field="reason",
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        ) from None
    if values["confirm"] != "yes":
        raise FormRefused(
            "Tick “I confirm” to cancel the mission: it cannot be undone.",
            field="confirm",
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    return reason


def from_mission(error: Refused, field: str) -> FormRefused:
    """The mission's refusal as a form shows it: a request it finds invalid at `field`, one it
    cannot take now (409) or a thing it does not know (404) at the top."""
    if error.kind == INVALID:
        return FormRefused(
            str(error), field=field, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        )
    code = status.HTTP_404_NOT_FOUND if error.kind == NOT_FOUND else status.HTTP_409_CONFLICT
    return FormRefused(str(error), field=None, status_code=code)


async def _values(request: Request, *names: str) -> dict[str, str]:
    form = await request.form()
    return {name: str(form.get(name) or "") for name in names}


@router.post("/missions/{mission_id}/deadline", response_class=HTMLResponse)
async def extend_deadline(
    mission_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    values = await _values(request, "deadline")

    async def act(client: Client, mission: Mission) -> object:
        return await steering.extend(
            request, client, principal, mission, deadline=values["deadline"]
        )

    return await _steer(
        request,
        principal,
        session,
        settings,
        mission_id,
        values,
        act=act,
        field="deadline",
        done="extended",
    )


@router.post("/missions/{mission_id}/cancel", response_class=HTMLResponse)
async def cancel(
    mission_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    values = await _values(request, "reason", "confirm")

    async def act(client: Client, mission: Mission) -> object:
        reason = _reason(values)
        return await steering.cancel(request, client, principal, mission.id, reason=reason)

    return await _steer(
        request,
        principal,
        session,
        settings,
        mission_id,
        values,
        act=act,
        field="reason",
        done="cancelled",
    )
