"""The console's outbox page: every message with its status, attempts and last error; a preview as
the recipient sees it; resending a failed one through the workflow.

The list is the query of `GET /missions/{id}/emails` (`api.outbox.outbox_page`), and a resend
is `POST /missions/{id}/emails/{email_id}/resend`'s (`api.outbox.resend`): the same filters, the
same refusals, the same audit entry.

The preview shows the HTML part as the recipient's mail program would, in an `<iframe>` whose
document is served by `email_html` under `Content-Security-Policy: sandbox` (no script, no
same origin, no form, no image but inline ones): the page keeps its own `default-src 'none'`
and only allows frames from this origin. Escaping the HTML instead would show markup, not the
message; a `srcdoc` frame would inherit the page's policy and be refused by it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from api import outbox
from api.console.access import (
    CONSOLE_HEADERS,
    PREFIX,
    ConsolePrincipal,
    mission_access,
    refusal,
    render,
    stored_mission,
)
from api.deps import SessionDep, SettingsDep
from api.identity import Principal
from api.pages.mailbox import SHOWN_HEADERS
from api.updates import Refused, Unavailable
from missionflow.domain.erasure import ERASED_ADDRESS
from missionflow.domain.instants import describe
from missionflow.domain.mission.phases import Phase
from missionflow.domain.people import Action
from missionflow.domain.refusals import NOT_FOUND
from missionflow.runtime.mail.message import build_message
from missionflow.runtime.mail.sink import header, parse
from missionflow.runtime.mail.templates import TEMPLATES
from missionflow.runtime.models import Mission, OutboxMessage
from missionflow.runtime.settings import Settings

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)

PAGE_SIZE = 50
FILTERS = ("status", "template", "recipient")
RESENT = "resent"
PREVIEW_HEADERS = {
    "Content-Security-Policy": CONSOLE_HEADERS["Content-Security-Policy"] + "; frame-src 'self'"
}
"""The preview page frames the message's HTML part, from this origin only."""
EMAIL_HTML_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; frame-ancestors 'self'; base-uri 'none'; form-action 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
"""A message's HTML as its recipient sees it, and no more: no script, no origin of ours, no
remote image (a tracking pixel would tell its sender the coordinator read it), framed only by
the console's own preview page."""


def _when(mission: Mission) -> Callable[[datetime | None], str]:
    """Instants in the mission's zone, with UTC beside (`describe`)."""
    return lambda instant: describe(instant, mission.timezone) if instant else ""


def _may_resend(actions: frozenset[Action], mission: Mission) -> bool:
    """Steering a mission whose workflow still delivers (the workflow decides in the end)."""
    return Action.STEER in actions and not Phase(mission.phase).is_terminal


@router.get("/missions/{mission_id}/outbox", response_class=HTMLResponse)
async def outbox_list(
    mission_id: str, request: Request, principal: ConsolePrincipal, session: SessionDep
) -> HTMLResponse:
    actions = await mission_access(request, principal, mission_id, (Action.READ,))
    mission = await stored_mission(request, principal, session, mission_id)
    values = {name: request.query_params.get(name, "").strip() for name in FILTERS}
    errors: dict[str, str] = {}
    page_text = request.query_params.get("page", "1").strip()
    page = int(page_text) if page_text.isdigit() and int(page_text) >= 1 else 0
    if not page:
        errors["page"] = "A page is a whole number from 1."
    total, rows = 0, []
    if not errors:
        query = outbox.OutboxQuery(
            **{name: value or None for name, value in values.items()},
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        try:
            total, listed = await outbox.outbox_page(session, mission_id, query)
            rows = list(listed)
        except RequestValidationError as error:
            errors = {e["loc"][-1]: e["msg"] for e in error.errors()}
    last = max(1, -(-total // PAGE_SIZE))
    chosen = {name: value for name, value in values.items() if value}
    return render(
        request,
        "outbox.html",
        {
            "mission_id": mission_id,
            "here": "outbox",
            "mission": mission,
            "rows": rows,
            "total": total,
            "page": page,
            "pages": last,
            "first_shown": (page - 1) * PAGE_SIZE + 1 if rows else 0,
            "link": lambda to: f"?{urlencode({**chosen, 'page': to})}",
            "values": values,
            "errors": errors,
            "statuses": outbox.STATUSES,
            "templates": sorted(TEMPLATES),
            "when": _when(mission),
            "may_resend": _may_resend(actions, mission),
            "erased": ERASED_ADDRESS,
        },
        principal=principal,
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT if errors else status.HTTP_200_OK,
    )


async def _email(
    request: Request, principal: Principal, session: SessionDep, mission_id: str, email_id: str
) -> OutboxMessage:
    """The mission's email named in the path, or the 404 page."""
    try:
        return await outbox.stored_email(session, mission_id, uuid.UUID(email_id))
    except ValueError:
        error = HTTPException(status.HTTP_404_NOT_FOUND, f"No email with id {email_id!r}.")
    except HTTPException as missing:
        error = missing
    raise refusal(request, principal, error)


def _headers(row: OutboxMessage, settings: Settings) -> list[tuple[str, str]]:
    """The headers as sent (from the stored message), or as they will be for one built at
    sending; a message whose words were erased has none left to show."""
    if row.recipient == ERASED_ADDRESS:
        return []
    try:
        raw = (
            row.content
            or build_message(
                row, sender=settings.mail_from, now=row.sent_at or row.created_at
            ).as_bytes()
        )
    except ValueError:  # the delivery refuses it the same way, and says so in last_error
        return []
    message = parse(raw)
    # A long header folded at its start keeps the fold's space once unfolded.
    return [(name, value.strip()) for name in SHOWN_HEADERS if (value := header(message, name))]


async def _preview(
    request: Request,
    principal: Principal,
    session: SessionDep,
    settings: Settings,
    mission_id: str,
    email_id: str,
    actions: frozenset[Action],
    *,
    message: str | None = None,
    problem: str | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    session.expire_all()  # after a resend, the workflow's activity has written the row
    mission = await stored_mission(request, principal, session, mission_id)
    row = await _email(request, principal, session, mission_id, email_id)
    return render(
        request,
        "outbox_email.html",
        {
            "mission_id": mission_id,
            "here": "outbox",
            "mission": mission,
            "email": row,
            "erased": row.recipient == ERASED_ADDRESS,
            "headers": _headers(row, settings),
            "when": _when(mission),
            "may_resend": _may_resend(actions, mission) and row.status == "failed",
            "message": message,
            "problem": problem,
        },
        principal=principal,
        status_code=status_code,
        headers=PREVIEW_HEADERS,
    )


@router.get("/missions/{mission_id}/outbox/{email_id}", response_class=HTMLResponse)
async def email_page(
    mission_id: str,
    email_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> HTMLResponse:
    actions = await mission_access(request, principal, mission_id, (Action.READ,))
    done = request.query_params.get("done") == RESENT
    message = "The email is queued again: the mission's postman sends it now." if done else None
    return await _preview(
        request, principal, session, settings, mission_id, email_id, actions, message=message
    )


@router.get("/missions/{mission_id}/outbox/{email_id}/html")
async def email_html(
    mission_id: str,
    email_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
) -> Response:
    await mission_access(request, principal, mission_id, (Action.READ,))
    await stored_mission(request, principal, session, mission_id)
    row = await _email(request, principal, session, mission_id, email_id)
    return Response(row.html_body, media_type="text/html", headers=EMAIL_HTML_HEADERS)


@router.post("/missions/{mission_id}/outbox/{email_id}/resend", response_class=HTMLResponse)
async def resend(
    mission_id: str,
    email_id: str,
    request: Request,
    principal: ConsolePrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    actions = await mission_access(request, principal, mission_id, (Action.STEER,))
    await stored_mission(request, principal, session, mission_id)
    row = await _email(request, principal, session, mission_id, email_id)
    try:
        client = await request.app.state.temporal.client()
        await outbox.resend(request, client, principal, row)
    except Refused as error:
        code = status.HTTP_404_NOT_FOUND if error.kind == NOT_FOUND else status.HTTP_409_CONFLICT
        problem, status_code = str(error), code
    except Unavailable as error:
        problem = f"{error} Please send the form again in a moment."
        status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    else:
        return RedirectResponse(
            f"{PREFIX}/missions/{mission_id}/outbox/{row.id}?done={RESENT}",
            status.HTTP_303_SEE_OTHER,
        )
    return await _preview(
        request,
        principal,
        session,
        settings,
        mission_id,
        email_id,
        actions,
        problem=problem,
        status_code=status_code,
    )
