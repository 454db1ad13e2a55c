"""Signing a person in and out: one place for the JSON route (`POST /auth/sign-in`) and the
console's form (`POST /console/sign-in`), so both lock out, name and expire sessions alike.

A sign-in answers the same for an unknown email as for a wrong password, and takes as long
(`password_matches` checks a decoy), so it tells no one who has an account. After
`SIGN_IN_FAILURES` failures for one email within `SIGN_IN_WINDOW` the email is refused with
429 and Retry-After, whatever the password, until the window has moved on.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fastapi import HTTPException, Request, Response, status
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client
from temporalio.service import RPCError

from api.identity import CSRF_COOKIE, SESSION_COOKIE, Principal
from api.updates import Unavailable, note_unreachable, reachable
from missionflow.domain.people import sign_in_retry_after
from missionflow.domain.sign_in_links import LINK_LIFETIME, SignInLinkEmail
from missionflow.domain.sign_in_links import workflow_id as link_workflow_id
from missionflow.runtime.db import transaction
from missionflow.runtime.people import (
    Person,
    PersonSession,
    SignInAttempt,
    new_secret,
    normal_email,
    password_matches,
)
from missionflow.runtime.settings import Settings
from missionflow.runtime.sign_in_links import LinkState, issue_link, link_state, spend_link
from workflows.sign_in_link import SignInLinkWorkflow

WRONG_CREDENTIALS = "Wrong email or password."
LINK_SENT = "If this address has an account, a link is on its way; it works once, for 15 minutes."
"""The one answer to a request for a link, whoever has the address."""
UNKNOWN_LINK = "This is no sign-in link. Ask for a new one on the sign-in page."
GONE_LINK = "This sign-in link was already used or has expired. Ask for a new one."
LINK_PATH = "/console/sign-in/link"
"""Where the emailed link leads: a page with a button, since mail scanners open links."""


@dataclass(frozen=True)
class OpenedSession:
    """A session just opened: the cookie is known only here, its digest is stored."""

    principal: Principal
    cookie: str
    csrf_token: str
    expires_at: datetime


async def open_session(
    request: Request, settings: Settings, *, email: str, password: str
) -> OpenedSession:
    """Check the email and password and store a new session for the person.

    Raises:
        HTTPException: 429 with Retry-After while the email is locked out; 401 for a wrong
            email or password (the same answer for both).
    """
    email = normal_email(email)
    now = datetime.now(UTC)
    sessions = request.app.state.sessions
    async with sessions() as session:
        since = now - timedelta(days=1)
        attempts = (
            await session.exec(
                select(SignInAttempt)
                .where(SignInAttempt.email == email, col(SignInAttempt.at) > since)
                .order_by(col(SignInAttempt.at))
            )
        ).all()
        person = (await session.exec(select(Person).where(Person.email == email))).first()
    last_success = max((a.at for a in attempts if a.succeeded), default=since)
    failures = [a.at for a in attempts if not a.succeeded and a.at > last_success]
    if (retry_after := sign_in_retry_after(failures, now)) is not None:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            "Too many failed sign-ins for this email; try again later.",
            headers={"Retry-After": str(retry_after)},
        )
    succeeded = password_matches(person.password_hash if person else None, password)
    opened: OpenedSession | None = None
    async with transaction(sessions) as session:
        # What no lockout will read again goes, so the tables keep what is in use.
        await session.exec(
            delete(SignInAttempt).where(
                col(SignInAttempt.email) == email, col(SignInAttempt.at) <= since
            )
        )
        session.add(SignInAttempt(email=email, at=now, succeeded=succeeded))
        if succeeded and person is not None:
            opened = await _store_session(session, settings, person, now)
    if opened is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, WRONG_CREDENTIALS)
    return opened


async def _store_session(
    session: AsyncSession, settings: Settings, person: Person, now: datetime
) -> OpenedSession:
    """A new session for `person`, in the caller's transaction, whichever way they proved who
    they are; their expired sessions go, so the table keeps what is in use."""
    await session.exec(
        delete(PersonSession).where(
            col(PersonSession.person_id) == person.id, col(PersonSession.expires_at) <= now
        )
    )
    cookie, digest = new_secret()
    row = PersonSession(
        person_id=person.id,
        token_hash=digest,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=settings.session_hours),
    )
    session.add(row)
    principal = Principal(
        person_id=person.id,
        name=person.display_name,
        email=person.email,
        is_admin=person.is_admin,
        csrf_token=row.csrf_token,
        session_id=row.id,
    )
    return OpenedSession(principal, cookie, row.csrf_token, row.expires_at)


async def send_sign_in_link(request: Request, settings: Settings, *, email: str) -> None:
    """Store a one-time link for the person with this email and start the workflow that emails
    it. Nothing tells whether anyone has the address: an unknown one, and one that was sent
    `LINKS_PER_WINDOW` links lately, return the same, with nothing stored or sent.

    Raises:
        Unavailable: Temporal cannot take the email now; for every address alike, checked
            first, and the link is not kept when its workflow could not start.
    """
    client: Client = await request.app.state.temporal.client()
    await reachable(client)
    now = datetime.now(UTC)
    async with transaction(request.app.state.sessions) as session:
        issued = await issue_link(session, email, now)
        if issued is None:
            return
        query = urlencode({"token": issued.token})
        content = SignInLinkEmail(
            link_id=issued.row.id,
            email=issued.person.email,
            name=issued.person.display_name,
            url=f"{settings.base_url}{LINK_PATH}?{query}",
            expires_at=issued.row.expires_at,
        )
        try:  # inside the transaction: a link whose email cannot go is not kept
            await client.start_workflow(
                SignInLinkWorkflow.run,
                content,
                id=link_workflow_id(issued.row.id),
                task_queue=settings.task_queue,
                execution_timeout=LINK_LIFETIME + timedelta(minutes=1),
                static_summary="a sign-in link's email",
            )
        except RPCError as error:
            note_unreachable(client, error)
            raise Unavailable(f"Temporal did not take the email: {error.message}") from error


async def redeem_sign_in_link(request: Request, settings: Settings, token: str) -> OpenedSession:
    """Spend the link and open a session, in one transaction: of two uses at once, one wins.

    Raises:
        HTTPException: 410 for a link used or expired, 404 for one that is no link.
    """
    now = datetime.now(UTC)
    async with transaction(request.app.state.sessions) as session:
        person_id = await spend_link(session, token, now)
        person = None if person_id is None else await session.get(Person, person_id)
        if person is not None:
            return await _store_session(session, settings, person, now)
        state = await link_state(session, token, now)
    raise link_refused(state)


async def sign_in_link_state(request: Request, token: str) -> LinkState:
    async with request.app.state.sessions() as session:
        return await link_state(session, token, datetime.now(UTC))


def link_refused(state: LinkState) -> HTTPException:
    if state == LinkState.UNKNOWN:
        return HTTPException(status.HTTP_404_NOT_FOUND, UNKNOWN_LINK)
    return HTTPException(status.HTTP_410_GONE, GONE_LINK)


def set_session_cookies(response: Response, settings: Settings, opened: OpenedSession) -> None:
    seconds = int(settings.session_hours * 3600)
    for name, value, http_only in (
        (SESSION_COOKIE, opened.cookie, True),
        # Readable by the page's own script, which sends it back as X-CSRF-Token.
        (CSRF_COOKIE, opened.csrf_token, False),
    ):
        response.set_cookie(
            name,
            value,
            max_age=seconds,
            path="/",
            secure=settings.secure_cookies,
            httponly=http_only,
            samesite="lax",
        )


async def close_session(request: Request, response: Response, principal: Principal) -> None:
    """End the principal's session now (a token is revoked elsewhere) and drop its cookies."""
    if principal.session_id is not None:
        async with transaction(request.app.state.sessions) as session:
            row = await session.get(PersonSession, principal.session_id)
            if row is not None and row.revoked_at is None:
                row.revoked_at = datetime.now(UTC)
    settings: Settings = request.app.state.settings
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(
            name, path="/", secure=settings.secure_cookies, samesite="lax", httponly=True
        )
