"""FastAPI dependencies as `Annotated` aliases: settings, database session, Temporal, auth, the
mission named in the path and the private link a request comes by."""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Query, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.intake_gate import IntakeGates
from api.ops_access import OPS_COOKIE, ops_session_valid
from api.session import release, request_session
from api.updates import Unavailable
from missionflow.domain.access import token_matches
from missionflow.domain.matchmaking.rules import DELEGATE, HOST
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


_bearer = HTTPBearer(auto_error=False, description="The coordinator token.")


async def require_coordinator(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Coordinator routes need the header Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    expected: str = request.app.state.coordinator_token
    if not secrets.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "This token is not the coordinator token.")


async def require_ops_staff(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """The coordinator token, or the ops session cookie a browser got for it
    (`api.ops_access`): what the Temporal UI can send."""
    settings: Settings = request.app.state.settings
    cookie = request.cookies.get(OPS_COOKIE)
    if credentials is None and ops_session_valid(
        cookie, settings.link_secret(), request.app.state.coordinator_token
    ):
        return
    await require_coordinator(request, credentials)


def is_coordinator(request: Request) -> bool:
    """Whether the request carries the coordinator token (routes open to applicants too)."""
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
        token=header_token or query_token, coordinator=is_coordinator(request), settings=settings
    )


PrivateLinkDep = Annotated[PrivateLink, Depends(get_private_link)]
"""The private link's token, from the header X-Access-Token or ?token= in the URL."""
