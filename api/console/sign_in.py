"""GET and POST /console/sign-in, POST /console/sign-out: a person signs in with a form, for
the same session (and cookies) as `POST /auth/sign-in` gives (`api.signing_in`).

The sign-in form carries a CSRF token too, before there is any session: the value of the
readable cookie `missionflow_csrf`, set with the form and compared with the field on posting
(a double-submitted cookie). So no other site can sign a browser in to an account of its
choosing. Once signed in, that cookie holds the session's own CSRF token.
"""

from __future__ import annotations

import math
import secrets

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.console.access import PREFIX, SIGN_IN, ConsolePrincipal, render
from api.deps import SettingsDep
from api.identity import CSRF_COOKIE, principal_of
from api.routes.auth import SignIn
from api.signing_in import close_session, open_session, set_session_cookies

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)

SIGNED_OUT = "signed-out"


def _form(
    request: Request,
    settings: SettingsDep,
    *,
    email: str = "",
    message: str | None = None,
    status_code: int = status.HTTP_200_OK,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """The form, with this browser's pre-session CSRF token (a new one when it has none)."""
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    notice = "You are signed out." if request.query_params.get("done") == SIGNED_OUT else None
    response = render(
        request,
        "sign_in.html",
        {"email": email, "message": message, "notice": notice, "form_token": token},
        principal=None,
        status_code=status_code,
        headers=headers,
    )
    response.set_cookie(
        CSRF_COOKIE,
        token,
        path="/",
        secure=settings.secure_cookies,
        httponly=False,
        samesite="lax",
    )
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, settings: SettingsDep) -> Response:
    if await principal_of(request) is not None:
        return RedirectResponse(PREFIX, status.HTTP_303_SEE_OTHER)
    return _form(request, settings)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request, settings: SettingsDep) -> Response:
    form = await request.form()
    email, password, sent = (
        str(form.get(key) or "") for key in ("email", "password", "csrf_token")
    )
    expected = request.cookies.get(CSRF_COOKIE) or ""
    if not (sent and expected and secrets.compare_digest(sent.encode(), expected.encode())):
        return _form(
            request,
            settings,
            email=email,
            message="This form had expired. Please sign in again.",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    try:
        SignIn(email=email, password=password)
        opened = await open_session(request, settings, email=email, password=password)
    except ValidationError:
        return _form(
            request,
            settings,
            email=email,
            message="Enter your email and your password.",
            status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        )
    except HTTPException as error:
        return _form(
            request,
            settings,
            email=email,
            message=_refused(error),
            status_code=error.status_code,
            headers=error.headers,
        )
    response = RedirectResponse(PREFIX, status.HTTP_303_SEE_OTHER)
    set_session_cookies(response, settings, opened)
    return response


def _refused(error: HTTPException) -> str:
    """What to tell the person: the sign-in's own answer, and for a lockout how long to wait."""
    retry_after = (error.headers or {}).get("Retry-After")
    if retry_after is None:
        return str(error.detail)
    minutes = max(1, math.ceil(int(retry_after) / 60))
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"Too many failed sign-ins for this email. Try again in {wait}."


@router.post("/sign-out")
async def sign_out(request: Request, principal: ConsolePrincipal) -> Response:
    response = RedirectResponse(f"{SIGN_IN}?done={SIGNED_OUT}", status.HTTP_303_SEE_OTHER)
    await close_session(request, response, principal)
    return response
