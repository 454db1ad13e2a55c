"""The console's matchmaking page: hosts (CSV upload with errors at row and column), requests, the
slot × table grid, unscheduled meetings with their reasons, attendance on the day.

The forms go through the JSON routes' code: hosts through `api.host_loading` (as
`POST /missions/{id}/hosts` with a CSV), attendance through the workflow's Update as
`POST /missions/{id}/meetings/{mid}/attendance` (`api.missions.record_attendance`), which writes
`meeting.attendance`, what the report counts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from api import host_loading
from api.console.access import PREFIX, ConsolePrincipal, mission_access, render, stored_mission
from api.console.forms import FormRefused, from_mission
from api.console.matchmaking_view import HostProblem, host_problems, matchmaking_view
from api.deps import SessionDep, SettingsDep
from api.identity import Principal
from api.missions import record_attendance
from api.routes.matchmaking import AttendanceBody
from api.updates import Refused, Unavailable
from missionflow.domain.matchmaking.messages import AttendanceInput
from missionflow.domain.people import Action
from missionflow.runtime.settings import Settings

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)

DONE = {
    "hosts": "The hosts are loaded; each has its private link below.",
    "attendance": "Attendance is recorded; the report counts it.",
}
"""The messages a form's success redirects back with (`?done=`)."""
HOSTS_FIELD = "hosts"


def _page_path(mission_id: str) -> str:
    return f"{PREFIX}/missions/{mission_id}/matchmaking"


def attendance_field(meeting_id: str) -> str:
    """The attendance form's field of one meeting, where its refusal is shown."""
    return f"attendance-{meeting_id}"


@router.get("/missions/{mission_id}/matchmaking", response_class=HTMLResponse)
async def matchmaking(
    mission_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    actions = await mission_access(request, principal, mission_id, (Action.READ,))
    message = DONE.get(request.query_params.get("done", ""))
    return await _page(request, principal, session, settings, mission_id, actions, message=message)


async def _page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    settings: Settings,
    mission_id: str,
    actions: frozenset[Action],
    *,
    message: str | None = None,
    refused: FormRefused | None = None,
    problems: Sequence[HostProblem] = (),
) -> HTMLResponse:
    """The page; after a refused form, with the refusal at its field or at the top, and a hosts
    file's problems each at its row and column."""
    row = await stored_mission(request, principal, session, mission_id)
    view = await matchmaking_view(session, row, settings)
    steers = Action.STEER in actions and not view.phase.is_terminal
    errors: Mapping[str, str] = {}
    if refused is not None and refused.field is not None:
        errors = {refused.field: str(refused)}
    return render(
        request,
        "matchmaking.html",
        {
            "mission_id": mission_id,
            "here": "matchmaking",
            "view": view,
            "may_load_hosts": steers and view.event is not None and not view.over,
            "may_record_attendance": steers and view.started,
            "message": message,
            "problem": str(refused) if refused is not None and refused.field is None else None,
            "errors": errors,
            "host_problems": problems,
            "attendance_field": attendance_field,
        },
        principal=principal,
        status_code=refused.status_code if refused is not None else status.HTTP_200_OK,
    )


def _at(field: str, error: HTTPException) -> FormRefused:
    """An HTTP refusal of the JSON route's code at `field` when it is about what was sent, at
    the top otherwise (a mission without an event)."""
    about_input = error.status_code in (
        status.HTTP_413_CONTENT_TOO_LARGE,
        status.HTTP_422_UNPROCESSABLE_CONTENT,
    )
    return FormRefused(
        str(error.detail), field=field if about_input else None, status_code=error.status_code
    )


def _unavailable(error: Unavailable) -> FormRefused:
    return FormRefused(
        f"{error} Please send the form again in a moment.",
        field=None,
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
    )


@router.post("/missions/{mission_id}/matchmaking/hosts", response_class=HTMLResponse)
async def load_hosts(
    mission_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    actions = await mission_access(request, principal, mission_id, (Action.STEER,))
    row = await stored_mission(request, principal, session, mission_id)
    problems: list[HostProblem] = []
    try:
        upload = (await request.form()).get(HOSTS_FIELD)
        # One byte over the limit is enough to refuse it; the rest stays unread.
        limit = host_loading.MAX_HOSTS_BYTES + 1
        body = await upload.read(limit) if isinstance(upload, UploadFile) else b""
        if not body:
            raise FormRefused(
                "Choose the hosts' CSV file to upload.",
                field=HOSTS_FIELD,
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            )
        rows = host_loading.hosts_csv(body)
        await host_loading.load_hosts(await request.app.state.temporal.client(), row, rows)
    except FormRefused as error:
        refused = error
    except RequestValidationError as error:
        problems = host_problems(error.errors())
        count = "1 problem" if len(problems) == 1 else f"{len(problems)} problems"
        refused = FormRefused(
            f"Nothing was loaded: the file has {count}, listed below with their row and column.",
            field=HOSTS_FIELD,
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    except HTTPException as error:
        refused = _at(HOSTS_FIELD, error)
    except Refused as error:
        refused = from_mission(error, HOSTS_FIELD)
    except Unavailable as error:
        refused = _unavailable(error)
    else:
        return RedirectResponse(f"{_page_path(mission_id)}?done=hosts", status.HTTP_303_SEE_OTHER)
    return await _page(
        request,
        principal,
        session,
        settings,
        mission_id,
        actions,
        refused=refused,
        problems=problems,
    )


@router.post(
    "/missions/{mission_id}/matchmaking/meetings/{meeting_id}/attendance",
    response_class=HTMLResponse,
)
async def attendance(
    mission_id: str,
    meeting_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    actions = await mission_access(request, principal, mission_id, (Action.STEER,))
    row = await stored_mission(request, principal, session, mission_id)
    field = attendance_field(meeting_id)
    try:
        meeting = _meeting_id(meeting_id)
        sent = str((await request.form()).get("attendance") or "")
        try:
            body = AttendanceBody(attendance=sent)
        except ValidationError:
            raise FormRefused(
                "Choose held or no-show.",
                field=field,
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            ) from None
        await record_attendance(
            await request.app.state.temporal.client(),
            row.id,
            AttendanceInput(meeting_id=meeting, attendance=body.attendance),
        )
    except FormRefused as error:
        refused = error
    except Refused as error:
        refused = from_mission(error, field)
    except Unavailable as error:
        refused = _unavailable(error)
    else:
        return RedirectResponse(
            f"{_page_path(mission_id)}?done=attendance#meeting-{meeting_id}",
            status.HTTP_303_SEE_OTHER,
        )
    return await _page(request, principal, session, settings, mission_id, actions, refused=refused)


def _meeting_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise FormRefused(
            "No such meeting in this mission.",
            field=None,
            status_code=status.HTTP_404_NOT_FOUND,
        ) from None
