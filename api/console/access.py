"""What every console page shares: who is signed in, the page around the content, and refusals
answered as pages a person can read, not as JSON.

A request that cannot go on (nobody signed in, a form without its CSRF token, a mission the
person has no role on) raises `PageAnswer` with the page to show instead."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, Response, status
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import allowed_on_mission
from api.identity import Principal, csrf_proven, principal_of
from api.pages.rendering import CONFIRMATION_HEADERS, templates
from missionflow.domain.people import Action
from missionflow.runtime.models import Mission

PREFIX = "/console"
SIGN_IN = f"{PREFIX}/sign-in"
CONSOLE_HEADERS = CONFIRMATION_HEADERS
"""No script, forms posted to this origin only, and never kept in a cache: the pages carry the
session's CSRF token and people's data."""


class PageAnswer(Exception):
    """Ends a console request early with `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def page_answer(_: Request, answer: PageAnswer) -> Response:
    return answer.response


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    principal: Principal | None,
    status_code: int = status.HTTP_200_OK,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A console page; every one shows who is signed in and the sign-out form, so every one
    carries the session's CSRF token."""
    return templates.TemplateResponse(
        request,
        f"console/{template}",
        {
            "principal": principal,
            "csrf_token": principal.csrf_token if principal else None,
            **context,
        },
        status_code=status_code,
        headers={**CONSOLE_HEADERS, **(headers or {})},
    )


def refusal(request: Request, principal: Principal, error: HTTPException) -> PageAnswer:
    return PageAnswer(
        render(
            request,
            "refused.html",
            {"detail": error.detail},
            principal=principal,
            status_code=error.status_code,
        )
    )


async def console_principal(request: Request) -> Principal:
    """Who is signed in; anyone else is sent to the sign-in page. A form that changes
    something must carry the session's CSRF token (`api.identity.csrf_proven`)."""
    principal = await principal_of(request)
    if principal is None:
        raise PageAnswer(RedirectResponse(SIGN_IN, status.HTTP_303_SEE_OTHER))
    if not await csrf_proven(request, principal):
        raise refusal(
            request,
            principal,
            HTTPException(
                status.HTTP_403_FORBIDDEN,
                "This form is not from your session (it may be from before you signed in "
                "again): open the page again and send it from there.",
            ),
        )
    return principal


ConsolePrincipal = Annotated[Principal, Depends(console_principal)]


async def stored_mission(
    request: Request, principal: Principal, session: AsyncSession, mission_id: str
) -> Mission:
    """The mission's row: an administrator has every role, also on a mission that does not
    exist, which is the 404 page here."""
    row = await session.get(Mission, mission_id)
    if row is None:
        raise refusal(
            request,
            principal,
            HTTPException(status.HTTP_404_NOT_FOUND, f"No mission with id {mission_id!r}."),
        )
    return row


async def mission_access(
    request: Request, principal: Principal, mission_id: str, wanted: Collection[Action]
) -> frozenset[Action]:
    """What the person may do on the mission (`api.deps.allowed_on_mission`): one without a
    role on it is told it does not exist (404), one whose role does not allow `wanted` a 403."""
    try:
        return await allowed_on_mission(request, principal, mission_id, wanted)
    except HTTPException as error:
        raise refusal(request, principal, error) from None
