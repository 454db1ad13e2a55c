"""GET and POST /codec/session: ops staff sign a browser in for the codec endpoints with the
coordinator token; the cookie they get is what the Temporal UI sends (`api.ops_access`)."""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import HTMLResponse

from api.deps import SettingsDep
from api.ops_access import OPS_COOKIE, OPS_COOKIE_PATH, OPS_SESSION_SECONDS, ops_session
from api.pages.rendering import CONFIRMATION_HEADERS, templates, temporal_ui
from api.routes.codec import PREFIX

router = APIRouter(prefix=PREFIX, tags=["codec"], include_in_schema=False)


def _page(
    request: Request, settings: SettingsDep, *, signed_in: bool = False, refused: bool = False
) -> HTMLResponse:
    """The sign-in page, its instructions in the host name the browser came by: the cookie goes
    back only to that site, so the Temporal UI must be opened under it too."""
    until = datetime.fromtimestamp(time.time() + OPS_SESSION_SECONDS, UTC)
    return templates.TemplateResponse(
        request,
        "ops_session.html",
        {
            "signed_in": signed_in,
            "refused": refused,
            "until": until.strftime("%Y-%m-%d %H:%M UTC"),
            "codec": str(request.base_url).rstrip("/") + PREFIX,
            "ui": temporal_ui(request, settings),
        },
        status_code=status.HTTP_401_UNAUTHORIZED if refused else status.HTTP_200_OK,
        headers=CONFIRMATION_HEADERS,
    )


@router.get("/session", response_class=HTMLResponse)
async def session_form(request: Request, settings: SettingsDep) -> HTMLResponse:
    return _page(request, settings)


@router.post("/session", response_class=HTMLResponse)
async def sign_in(
    request: Request, settings: SettingsDep, token: Annotated[str, Form()]
) -> HTMLResponse:
    expected: str = request.app.state.coordinator_token
    if not secrets.compare_digest(token.strip().encode(), expected.encode()):
        return _page(request, settings, refused=True)
    response = _page(request, settings, signed_in=True)
    response.set_cookie(
        OPS_COOKIE,
        ops_session(settings.link_secret(), expected),
        max_age=OPS_SESSION_SECONDS,
        path=OPS_COOKIE_PATH,
        secure=settings.base_url.startswith("https://"),
        httponly=True,
        samesite="strict",
    )
    return response
