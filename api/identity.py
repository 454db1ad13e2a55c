"""Who a request comes from: the bootstrap administrator (the `MISSIONFLOW_API_TOKEN`), a person
by one of their personal tokens, or a person signed in with a session cookie.

The answer is one `Principal`, worked out once per request and kept on `request.state`; what it
may do on a mission is `mission_actions`, from the person's membership and the token's scope
(`missionflow.domain.people`). A cookie is sent by the browser on its own, so a request that
changes something by a cookie alone must also prove it comes from our page: the session's CSRF
token in the `X-CSRF-Token` header (or a `csrf_token` form field). A bearer token is never sent
on its own, and needs none.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import HTTPException, Request, status
from sqlmodel import select

from missionflow.domain.people import Action, Role, allowed_actions
from missionflow.runtime import audit
from missionflow.runtime.db import transaction
from missionflow.runtime.people import (
    PERSONAL_TOKEN_PREFIX,
    Membership,
    Person,
    PersonalToken,
    PersonSession,
    secret_digest,
)

SESSION_COOKIE = "missionflow_session"
CSRF_COOKIE = "missionflow_csrf"
CSRF_HEADER = "X-CSRF-Token"
ADMINISTRATOR = "administrator"
"""How the audit log names whoever holds the bootstrap token."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_LAST_USED_EVERY = timedelta(minutes=1)
"""A token's last use is written at most this often: not one write for every request."""


@dataclass(frozen=True)
class Principal:
    person_id: uuid.UUID | None
    """None: the bootstrap administrator."""
    name: str
    email: str | None
    is_admin: bool
    """Every mission, as its owner (narrowed by a token's role or mission)."""
    token_role: Role | None = None
    """A personal token's scope: the person's rights narrowed to this role's."""
    token_mission: str | None = None
    """A personal token's one mission; None: every mission the person has a role on."""
    csrf_token: str | None = None
    """Set when the request came by a session cookie."""
    session_id: uuid.UUID | None = None

    @property
    def administers(self) -> bool:
        """Whether it may create people and start missions: an administrator, by a session or
        a token narrowed neither by role nor by mission."""
        return (
            self.is_admin and self.token_role in (None, Role.OWNER) and self.token_mission is None
        )

    @property
    def audit_name(self) -> str:
        """How the audit log and the mission's records name who did something."""
        return f"{self.name} <{self.email}>" if self.email else ADMINISTRATOR

    def named(self, claimed: str | None) -> str:
        """Who to record for a change whose request also says who made it (`by`, from before
        people had accounts): a person is named from their credentials, whatever the request
        says; the bootstrap token is shared and names nobody, so its requests keep the name
        they give, or "administrator"."""
        return (claimed or ADMINISTRATOR) if self.person_id is None else self.audit_name


BOOTSTRAP = Principal(person_id=None, name=ADMINISTRATOR, email=None, is_admin=True)


def _unauthorised(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def principal_of(request: Request) -> Principal | None:
    """The request's principal, or None when it brings no credentials.

    Raises:
        HTTPException: 401 for a personal token that is unknown or revoked; 403 for any other
            bearer token that is not the bootstrap one (as before people had accounts).
    """
    if hasattr(request.state, "principal"):
        return request.state.principal
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        principal: Principal | None = await _by_token(request, credentials)
    elif cookie := request.cookies.get(SESSION_COOKIE):
        principal = await _by_session(request, cookie)
    else:
        principal = None
    request.state.principal = principal
    return principal


async def _by_token(request: Request, token: str) -> Principal:
    expected: str = request.app.state.coordinator_token
    if secrets.compare_digest(token.encode(), expected.encode()):
        return BOOTSTRAP
    if not token.startswith(PERSONAL_TOKEN_PREFIX):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "This token is not the coordinator token.")
    now = datetime.now(UTC)
    async with request.app.state.sessions() as session:
        found = (
            await session.exec(
                select(PersonalToken, Person)
                .join(Person, PersonalToken.person_id == Person.id)  # type: ignore[arg-type]
                .where(PersonalToken.token_hash == secret_digest(token))
            )
        ).first()
    if found is None or found[0].revoked_at is not None:
        raise _unauthorised("This personal token is unknown or was revoked.")
    row, person = found
    if row.last_used_at is None or now - row.last_used_at > _LAST_USED_EVERY:
        async with transaction(request.app.state.sessions) as session:
            stored = await session.get(PersonalToken, row.id)
            if stored is not None:
                stored.last_used_at = now
    role = Role(row.role) if row.role else None
    return Principal(
        person_id=person.id,
        name=person.display_name,
        email=person.email,
        is_admin=person.is_admin,
        token_role=role,
        token_mission=row.mission_id,
    )


async def _by_session(request: Request, cookie: str) -> Principal | None:
    async with request.app.state.sessions() as session:
        found = (
            await session.exec(
                select(PersonSession, Person)
                .join(Person, PersonSession.person_id == Person.id)  # type: ignore[arg-type]
                .where(PersonSession.token_hash == secret_digest(cookie))
            )
        ).first()
    if found is None:
        return None
    row, person = found
    if row.revoked_at is not None or row.expires_at <= datetime.now(UTC):
        return None
    return Principal(
        person_id=person.id,
        name=person.display_name,
        email=person.email,
        is_admin=person.is_admin,
        csrf_token=row.csrf_token,
        session_id=row.id,
    )


async def csrf_proven(request: Request, principal: Principal) -> bool:
    """Whether the request may act for `principal`: always by a token or for reading; by a
    cookie, only with the session's CSRF token."""
    if principal.csrf_token is None or request.method in SAFE_METHODS:
        return True
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        value = (await request.form()).get("csrf_token")
        sent = value if isinstance(value, str) else None
    return sent is not None and secrets.compare_digest(sent.encode(), principal.csrf_token.encode())


async def mission_actions(
    request: Request, principal: Principal, mission_id: str
) -> frozenset[Action] | None:
    """What `principal` may do on the mission, or None when it is not theirs to know of."""
    if principal.token_mission is not None and principal.token_mission != mission_id:
        return None
    if principal.is_admin:
        return allowed_actions([principal.token_role])
    async with request.app.state.sessions() as session:
        role = (
            await session.exec(
                select(Membership.role).where(
                    Membership.mission_id == mission_id,
                    Membership.person_id == principal.person_id,
                )
            )
        ).first()
    if role is None:
        return None
    return allowed_actions([Role(role), principal.token_role])


def required_action(request: Request) -> Action:
    """What a coordinator route asks for when it names nothing more precise: reading for a
    safe method, steering for any other."""
    return Action.READ if request.method in SAFE_METHODS else Action.STEER


async def visible_missions(request: Request, principal: Principal) -> set[str] | None:
    """The ids of the missions `principal` may know of; None: every mission."""
    if principal.token_mission is not None:
        return {principal.token_mission}
    if principal.is_admin:
        return None
    async with request.app.state.sessions() as session:
        rows = await session.exec(
            select(Membership.mission_id).where(Membership.person_id == principal.person_id)
        )
        return set(rows.all())


async def record_steering(
    request: Request,
    mission_id: str,
    *,
    by: str,
    action: str,
    subject: str | None = None,
    detail: str | None = None,
) -> None:
    """Write in the mission's audit log who steered it (`Principal.named`), once the mission
    has accepted the change."""
    async with transaction(request.app.state.sessions) as session:
        audit.record(
            session,
            mission_id,
            by=by,
            action=action,
            subject=subject,
            detail=detail,
        )
