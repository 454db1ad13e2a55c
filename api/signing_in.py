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

from fastapi import HTTPException, Request, Response, status
from sqlmodel import col, delete, select

from api.identity import CSRF_COOKIE, SESSION_COOKIE, Principal
from missionflow.domain.people import sign_in_retry_after
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

WRONG_CREDENTIALS = "Wrong email or password."


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
    cookie, digest = new_secret()
    expires = now + timedelta(hours=settings.session_hours)
    row: PersonSession | None = None
    async with transaction(sessions) as session:
        # What no lockout will read again goes, so the tables keep what is in use.
        await session.exec(
            delete(SignInAttempt).where(
                col(SignInAttempt.email) == email, col(SignInAttempt.at) <= since
            )
        )
        if person is not None:
            await session.exec(
                delete(PersonSession).where(
                    col(PersonSession.person_id) == person.id, col(PersonSession.expires_at) <= now
                )
            )
        session.add(SignInAttempt(email=email, at=now, succeeded=succeeded))
        if succeeded and person is not None:
            row = PersonSession(
                person_id=person.id,
                token_hash=digest,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=expires,
            )
            session.add(row)
    if row is None or person is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, WRONG_CREDENTIALS)
    principal = Principal(
        person_id=person.id,
        name=person.display_name,
        email=person.email,
        is_admin=person.is_admin,
        csrf_token=row.csrf_token,
        session_id=row.id,
    )
    return OpenedSession(principal, cookie, row.csrf_token, expires)


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
