"""The forms that start and steer missions: upload a mission file (on the missions page), extend
the call's deadline, cancel the mission (on its page). Each goes through the code of its JSON
route (`api.mission_files` for `POST /missions`, `api.steering`), so the same things are
refused, the same person becomes owner and the audit log names the signed-in person; a refusal
is shown on the page at its field, a success redirects (303) to the mission's page with a
message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import UploadFile
from temporalio.client import Client

from api import steering
from api.console.access import (
    PREFIX,
    ConsolePrincipal,
    mission_access,
    refusal,
    stored_mission,
)
from api.console.pages import mission_page, missions_page
from api.deps import SessionDep, SettingsDep
from api.identity import Principal
from api.mission_files import (
    JSON_TYPE,
    MAX_MISSION_FILE_BYTES,
    YAML_TYPE,
    begin_mission,
    read_document,
)
from api.missions import MissionExists
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


FILE_KINDS = {".json": JSON_TYPE, ".yaml": YAML_TYPE, ".yml": YAML_TYPE}
"""An uploaded file's kind, by its name; a browser's own guess at the type varies (YAML often
comes as application/octet-stream), so the part's Content-Type counts only without one of these."""


@router.post("/missions", response_class=HTMLResponse)
async def start_mission(
    request: Request, principal: ConsolePrincipal, session: SessionDep, settings: SettingsDep
) -> Response:
    """Start a mission from an uploaded file, as `POST /missions` does with a body."""
    if not principal.administers:
        raise refusal(
            request,
            principal,
            HTTPException(status.HTTP_403_FORBIDDEN, "Only an administrator starts missions."),
        )
    form = await request.form()
    upload = form.get("file")
    errors: list[str] = []
    problem: str | None = None
    status_code = status.HTTP_422_UNPROCESSABLE_CONTENT
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise FormRefused(
                "Choose the mission file to upload.",
                field="file",
                status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
            )
        kind = _kind(upload)
        document = read_document(await upload.read(MAX_MISSION_FILE_BYTES + 1), kind)
        created = await begin_mission(
            request, settings, principal, document, replay=form.get("replay") == "yes"
        )
    except RequestValidationError as error:
        errors = [_located(item) for item in error.errors()]
    except HTTPException as error:  # too large, or neither JSON nor YAML
        errors, status_code = [str(error.detail)], error.status_code
    except FormRefused as error:
        errors = [str(error)]
    except MissionExists as error:
        problem, status_code = str(error), status.HTTP_409_CONFLICT
    except Unavailable as error:
        problem = f"{error} Please send the file again in a moment."
        status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    else:
        return RedirectResponse(
            f"{PREFIX}/missions/{created.id}?done=started", status.HTTP_303_SEE_OTHER
        )
    return await missions_page(
        request,
        principal,
        session,
        settings,
        problem=problem,
        errors=errors,
        status_code=status_code,
    )


def _kind(upload: UploadFile) -> str:
    name = (upload.filename or "").lower()
    suffix = name[name.rfind(".") :] if "." in name else ""
    return FILE_KINDS.get(suffix) or (upload.content_type or "").split(";")[0].strip().lower()


def _located(item: Mapping[str, Any]) -> str:
    """An error as `POST /missions` locates it, without the "body" every one starts with."""
    location = [str(part) for part in item["loc"]][1:]
    return f"{'.'.join(location)}: {item['msg']}" if location else str(item["msg"])
