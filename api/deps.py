"""FastAPI dependencies as `Annotated` aliases: settings, database session, Temporal, auth, the
mission named in the path and the private link a request comes by."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.identity import (
    CSRF_HEADER,
    Principal,
    csrf_proven,
    mission_actions,
    principal_of,
    required_action,
)
from api.intake_gate import IntakeGates
from api.ops_access import OPS_COOKIE, ops_session_valid
from api.session import release, request_session
from api.updates import Unavailable
from missionflow.domain.access import token_matches
from missionflow.domain.matchmaking.rules import DELEGATE, HOST
from missionflow.domain.people import Action
from missionflow.runtime.codec import SealingCodec
from missionflow.runtime.models import Mission
from missionflow.runtime.settings import Settings
from missionflow.runtime.temporal import connect, sealing_codec


class TemporalConnection:
    """Connects on first use, so the API starts (and /healthz can say why) while Temporal is
    still coming up."""

    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        self._settings = settings
        self._client = client
        self._lock = asyncio.Lock()

    async def client(self) -> Client:
        if self._client is None:
            await release()  # connecting may take a while when Temporal is down
            async with self._lock:
                if self._client is None:
                    try:
                        self._client = await connect(self._settings)
                    except RuntimeError as error:
                        raise Unavailable(f"Temporal is not reachable: {error}") from error
        return self._client


# The dependencies below are `async` though they await nothing: FastAPI runs a plain function
# in its thread pool, two thread switches for a request that needs none.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def get_intake(request: Request) -> IntakeGates:
    """This process's intake gates: every request to apply passes the same ones."""
    return request.app.state.intake


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's session; its connection goes back to the pool before the request waits
    on Temporal (`api.session.release`)."""
    async with request_session(request.app.state.sessions) as session:
        yield session


async def get_temporal(request: Request) -> Client:
    return await request.app.state.temporal.client()


_bearer = HTTPBearer(
    auto_error=False,
    description="The bootstrap token (MISSIONFLOW_API_TOKEN) or a personal token (mfp_...).",
)


async def current_principal(
    request: Request,
    # Declares the bearer scheme in the OpenAPI document; `principal_of` reads the header.
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Whoever the request comes from (`api.identity`), or a 401; a 403 for a request by a
    session cookie that changes something without the session's CSRF token."""
    principal = await principal_of(request)
    if principal is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Coordinator routes need the header Authorization: Bearer <token>, or a signed-in "
            "session (POST /auth/sign-in).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not await csrf_proven(request, principal):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"A signed-in session changes nothing without its CSRF token in {CSRF_HEADER}.",
        )
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def allowed_on_mission(
    request: Request, principal: Principal, mission_id: str, wanted: Collection[Action] = ()
) -> frozenset[Action]:
    """What `principal` may do on the mission, when that includes one of `wanted` (or anything,
    when empty). A mission the principal has no role on is answered as if it did not exist
    (404); a role that allows none of `wanted` is a 403."""
    actions = await mission_actions(request, principal, mission_id)
    if not actions:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No mission with id {mission_id!r}.")
    if wanted and not actions & set(wanted):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"Your role on this mission does not allow {' or '.join(sorted(wanted))}.",
        )
    return actions


def requires(*wanted: Action) -> Callable[..., Awaitable[frozenset[Action]]]:
    """A dependency asking for one of `wanted` on the mission in the path, and giving all the
    principal may do there; none named: reading for a safe method, steering otherwise. Without
    a mission in the path, steering is the administrators' (starting a mission) and reading
    needs only a known principal."""

    async def dependency(request: Request, principal: PrincipalDep) -> frozenset[Action]:
        actions = wanted or (required_action(request),)
        mission_id = request.path_params.get("mission_id")
        if mission_id is None:
            if actions != (Action.READ,) and not principal.administers:
                raise HTTPException(status.HTTP_403_FORBIDDEN, "Only an administrator may.")
            return frozenset()
        allowed = await allowed_on_mission(request, principal, mission_id, actions)
        request.state.coordinates = Action.READ in allowed
        return allowed

    return dependency


require_coordinator = requires()


async def require_admin(principal: PrincipalDep) -> Principal:
    if not principal.administers:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "Only an administrator may.")
    return principal


async def require_ops_staff(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """An administrator, or the ops session cookie a browser got for the bootstrap token
    (`api.ops_access`): what the Temporal UI can send."""
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(OPS_COOKIE)
    if "authorization" not in request.headers and ops_session_valid(
        cookie, settings.link_secret(), request.app.state.coordinator_token
    ):
        return
    await require_admin(await current_principal(request, credentials))


async def coordinates(request: Request) -> bool:
    """Whether the request comes from someone who may do what it asks on the mission in the
    path, on routes open to applicants too (`allows`)."""
    request.state.coordinates = await allows(request, required_action(request))
    return request.state.coordinates


async def allows(request: Request, action: Action) -> bool:
    """Whether the request's credentials allow `action` on the mission in the path, on routes
    open to applicants too: there a credential that does not pass counts as no credential (the
    applicant's link decides), never as an error."""
    try:
        principal = await principal_of(request)
    except HTTPException:
        return False
    mission_id = request.path_params.get("mission_id")
    if principal is None or mission_id is None or not await csrf_proven(request, principal):
        return False
    return action in (await mission_actions(request, principal, mission_id) or frozenset())


def is_coordinator(request: Request) -> bool:
    """Whether `coordinates` (or a coordinator dependency) let this request through, or it
    carries the bootstrap token."""
    if getattr(request.state, "coordinates", False):
        return True
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    expected: str = request.app.state.coordinator_token
    return scheme.lower() == "bearer" and secrets.compare_digest(
        credentials.strip().encode(), expected.encode()
    )


async def get_codec(request: Request) -> SealingCodec:
    """The payload codec of this API's settings, built on first use: an app that never serves
    the codec endpoints never reads (or generates) a key."""
    if request.app.state.codec is None:
        request.app.state.codec = sealing_codec(request.app.state.settings)
    return request.app.state.codec


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
IntakeDep = Annotated[IntakeGates, Depends(get_intake)]


async def get_mission(mission_id: str, session: SessionDep) -> Mission:
    """The mission named in the path, or a 404.

    Routes that must refuse a bad body or query first call this themselves, after FastAPI has
    checked those; as a dependency it would answer before them."""
    row = await session.get(Mission, mission_id)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No mission with id {mission_id!r}.")
    return row


MissionRow = Annotated[Mission, Depends(get_mission)]
"""The mission named in the path, or a 404."""
TemporalDep = Annotated[Client, Depends(get_temporal)]
Coordinator = Depends(require_coordinator)
"""Reading a mission for a safe method, steering it otherwise (`requires`)."""
AdminDep = Annotated[Principal, Depends(require_admin)]
PersonalDataReader = Depends(requires(Action.READ_PERSONAL_DATA))
ApplicationsAccess = Annotated[
    frozenset[Action], Depends(requires(Action.READ_APPLICATIONS, Action.REVIEW_ASSIGNED))
]
"""What the principal may do on the mission, when it may read all of its applications or
review those assigned to it."""
OpsStaff = Depends(require_ops_staff)
CodecDep = Annotated[SealingCodec, Depends(get_codec)]


@dataclass(frozen=True)
class PrivateLink:
    """The token a request brings from a private link (an applicant's, delegate's or host's),
    and whether it carries the coordinator token instead."""

    token: str | None
    coordinator: bool
    settings: Settings

    def opens(self, owner_id: uuid.UUID, *, side: str = DELEGATE) -> bool:
        """Whether the token is the one of this applicant's or delegate's link (or this host's,
        with side=HOST)."""
        kind = "host" if side == HOST else "application"
        return token_matches(self.settings.link_secret(), owner_id, self.token, kind=kind)


async def get_private_link(
    request: Request,
    settings: SettingsDep,
    header_token: Annotated[str | None, Header(alias="X-Access-Token")] = None,
    query_token: Annotated[str | None, Query(alias="token")] = None,
) -> PrivateLink:
    return PrivateLink(
        token=header_token or query_token,
        coordinator=await coordinates(request),
        settings=settings,
    )


PrivateLinkDep = Annotated[PrivateLink, Depends(get_private_link)]
"""The private link's token, from the header X-Access-Token or ?token= in the URL."""
