"""The console's sign-in: GET and POST /console/sign-in (email and password), POST
/console/sign-in/email (email me a one-time link), GET and POST /console/sign-in/link (the
emailed link's page and its button), POST /console/sign-out. Each opens the same session (and
cookies) as `POST /auth/sign-in` gives (`api.signing_in`).

The forms carry a CSRF token too, before there is any session: the value of the readable cookie
`missionflow_csrf`, set with the form and compared with the field on posting (a double-submitted
cookie). So no other site can sign a browser in to an account of its choosing, nor have links
sent in a visitor's name. Once signed in, that cookie holds the session's own CSRF token.

The emailed link opens a page with a "Sign in" button rather than signing in on GET: mail
scanners and link previews open links, and would spend the link before its owner does.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from api.console.access import PREFIX, SIGN_IN, ConsolePrincipal, render
from api.deps import SettingsDep
from api.identity import CSRF_COOKIE, principal_of
from api.routes.auth import SignIn, SignInLinkRedeem, SignInLinkRequest
from api.signing_in import (
    LINK_SENT,
    OpenedSession,
    close_session,
    link_refused,
    open_session,
    redeem_sign_in_link,
    send_sign_in_link,
    set_session_cookies,
    sign_in_link_state,
)
from api.updates import Unavailable
from missionflow.runtime.sign_in_links import LinkState

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)

SIGNED_OUT = "signed-out"
EXPIRED_FORM = "This form had expired. Please send it again."


def _page(
    request: Request,
    settings: SettingsDep,
    template: str,
    context: Mapping[str, Any],
    *,
    status_code: int = status.HTTP_200_OK,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page with a form sent before any session, and this browser's pre-session CSRF token
    (a new one when it has none)."""
    token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request,
        template,
        {**context, "form_token": token},
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


def _form(
    request: Request,
    settings: SettingsDep,
    *,
    email: str = "",
    message: str | None = None,
    link_email: str = "",
    link_message: str | None = None,
    status_code: int = status.HTTP_200_OK,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The sign-in page: the password form, and the form asking for a link, each with the
    refusal of its last sending (`message`, `link_message`)."""
    notice = "You are signed out." if request.query_params.get("done") == SIGNED_OUT else None
    context = {
        "email": email,
        "message": message,
        "link_email": link_email,
        "link_message": link_message,
        "notice": notice,
    }
    return _page(
        request, settings, "sign_in.html", context, status_code=status_code, headers=headers
    )


async def _fields(request: Request, *names: str) -> tuple[dict[str, str], bool]:
    """The form's fields, and whether its CSRF field is this browser's pre-session token."""
    form = await request.form()
    values = {name: str(form.get(name) or "") for name in names}
    sent = str(form.get("csrf_token") or "")
    expected = request.cookies.get(CSRF_COOKIE) or ""
    proven = bool(sent and expected) and secrets.compare_digest(sent.encode(), expected.encode())
    return values, proven


def _signed_in(settings: SettingsDep, opened: OpenedSession) -> Response:
    response = RedirectResponse(PREFIX, status.HTTP_303_SEE_OTHER)
    set_session_cookies(response, settings, opened)
    return response


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request, settings: SettingsDep) -> Response:
    if await principal_of(request) is not None:
        return RedirectResponse(PREFIX, status.HTTP_303_SEE_OTHER)
    return _form(request, settings)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request, settings: SettingsDep) -> Response:
    values, proven = await _fields(request, "email", "password")
    email, password = values["email"], values["password"]
    if not proven:
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
    return _signed_in(settings, opened)


def _refused(error: HTTPException) -> str:
    """What to tell the person: the sign-in's own answer, and for a lockout how long to wait."""
    retry_after = (error.headers or {}).get("Retry-After")
    if retry_after is None:
        return str(error.detail)
    minutes = max(1, math.ceil(int(retry_after) / 60))
    wait = "1 minute" if minutes == 1 else f"{minutes} minutes"
    return f"Too many failed sign-ins for this email. Try again in {wait}."


@router.post("/sign-in/email", response_class=HTMLResponse)
async def email_a_link(request: Request, settings: SettingsDep) -> Response:
    """Ask for a link: the same page follows whether or not anyone has the address."""
    values, proven = await _fields(request, "email")
    email = values["email"]
    refused: tuple[str, int] | None = None
    if not proven:
        refused = (EXPIRED_FORM, status.HTTP_403_FORBIDDEN)
    else:
        try:
            SignInLinkRequest(email=email)
            await send_sign_in_link(request, settings, email=email)
        except ValidationError:
            refused = ("Enter your email.", status.HTTP_422_UNPROCESSABLE_CONTENT)
        except Unavailable:
            refused = (
                "The link cannot be sent right now. Please try again in a moment.",
                status.HTTP_503_SERVICE_UNAVAILABLE,
            )
    if refused is not None:
        message, code = refused
        return _form(request, settings, link_email=email, link_message=message, status_code=code)
    return _page(request, settings, "sign_in_link_sent.html", {"message": LINK_SENT})


@router.get("/sign-in/link", response_class=HTMLResponse)
async def link_page(request: Request, settings: SettingsDep, token: str = "") -> Response:
    """The emailed link: a button to sign in, or why the link no longer works."""
    state = LinkState.UNKNOWN
    if token and _well_formed(token):
        state = await sign_in_link_state(request, token)
    if state != LinkState.USABLE:
        return _link_refused(request, settings, link_refused(state))
    return _page(request, settings, "sign_in_link.html", {"token": token, "problem": None})


@router.post("/sign-in/link", response_class=HTMLResponse)
async def use_link(request: Request, settings: SettingsDep) -> Response:
    values, proven = await _fields(request, "token")
    token = values["token"]
    if not proven:
        return _page(
            request,
            settings,
            "sign_in_link.html",
            {"token": token, "problem": EXPIRED_FORM},
            status_code=status.HTTP_403_FORBIDDEN,
        )
    if not _well_formed(token):
        return _link_refused(request, settings, link_refused(LinkState.UNKNOWN))
    try:
        opened = await redeem_sign_in_link(request, settings, token)
    except HTTPException as error:
        return _link_refused(request, settings, error)
    return _signed_in(settings, opened)


def _well_formed(token: str) -> bool:
    """Whether `token` could be a link's (`SignInLinkRedeem`), before any query with it."""
    try:
        SignInLinkRedeem(token=token)
    except ValidationError:
        return False
    return True


def _link_refused(request: Request, settings: SettingsDep, error: HTTPException) -> Response:
    """The link's page saying it no longer works, with the form to ask for a new one."""
    return _form(request, settings, link_message=str(error.detail), status_code=error.status_code)


@router.post("/sign-out")
async def sign_out(request: Request, principal: ConsolePrincipal) -> Response:
    response = RedirectResponse(f"{SIGN_IN}?done={SIGNED_OUT}", status.HTTP_303_SEE_OTHER)
    await close_session(request, response, principal)
    return response
