"""Signing in and out, by password or by an emailed link (`api.signing_in`), who am I, and
personal API tokens."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response, status
from pydantic import AwareDatetime, BaseModel, Field
from sqlmodel import col, select

from api.deps import PrincipalDep, SettingsDep, allowed_on_mission
from api.identity import Principal
from api.schemas import NO_NUL
from api.signing_in import (
    LINK_SENT,
    OpenedSession,
    close_session,
    open_session,
    redeem_sign_in_link,
    send_sign_in_link,
    set_session_cookies,
)
from missionflow.domain.people import Role
from missionflow.runtime.db import transaction
from missionflow.runtime.people import (
    PERSONAL_TOKEN_PREFIX,
    Membership,
    PersonalToken,
    new_secret,
)

router = APIRouter(prefix="/auth", tags=["auth"])


class SignIn(BaseModel):
    email: str = Field(min_length=3, max_length=320, pattern=NO_NUL)
    password: str = Field(min_length=1, max_length=1000)


class SignInLinkRequest(BaseModel):
    email: str = Field(min_length=3, max_length=320, pattern=NO_NUL)


class SignInLinkAnswer(BaseModel):
    detail: str = Field(default=LINK_SENT, description="The same whoever has the address.")


class SignInLinkRedeem(BaseModel):
    token: str = Field(
        min_length=1, max_length=200, pattern=NO_NUL, description="The link's `token`."
    )


class MembershipView(BaseModel):
    mission_id: str
    role: Role


class Me(BaseModel):
    person_id: uuid.UUID | None = Field(description="None: the bootstrap administrator token.")
    name: str
    email: str | None
    is_admin: bool
    token_role: Role | None
    token_mission: str | None
    memberships: list[MembershipView]


class SignedIn(BaseModel):
    me: Me
    csrf_token: str = Field(
        description="Send it back in X-CSRF-Token with every request that changes something "
        "(also set as the readable cookie missionflow_csrf)."
    )
    expires_at: AwareDatetime


class TokenRequest(BaseModel):
    name: str = Field(
        min_length=1,
        max_length=200,
        pattern=NO_NUL,
        description="What it is for, to tell it apart.",
    )
    role: Role | None = Field(
        default=None, description="Narrow the token to this role's rights; unset: your own."
    )
    mission_id: str | None = Field(
        default=None, max_length=64, pattern=NO_NUL, description="Only this mission; unset: all."
    )


class TokenView(BaseModel):
    id: uuid.UUID
    name: str
    role: Role | None
    mission_id: str | None
    created_at: AwareDatetime
    last_used_at: AwareDatetime | None
    revoked_at: AwareDatetime | None


class TokenCreated(TokenView):
    token: str = Field(description="Shown this once: only its digest is kept.")


@router.post(
    "/sign-in",
    response_model=SignedIn,
    summary="Sign in with email and password: sets the session cookie",
    responses={
        401: {"description": "Wrong email or password (the same answer for both)"},
        429: {"description": "Too many failures for this email: try again after Retry-After"},
    },
)
async def sign_in(
    body: SignIn, request: Request, response: Response, settings: SettingsDep
) -> SignedIn:
    opened = await open_session(request, settings, email=body.email, password=body.password)
    return await _signed_in(request, response, settings, opened)


async def _signed_in(
    request: Request, response: Response, settings: SettingsDep, opened: OpenedSession
) -> SignedIn:
    set_session_cookies(response, settings, opened)
    return SignedIn(
        me=await _me(request, opened.principal),
        csrf_token=opened.csrf_token,
        expires_at=opened.expires_at,
    )


@router.post(
    "/sign-in-link",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SignInLinkAnswer,
    summary="Email a one-time sign-in link (15 minutes, one use) to the person with this email",
    responses={503: {"description": "Temporal cannot take the email now"}},
)
async def request_sign_in_link(
    body: SignInLinkRequest, request: Request, settings: SettingsDep
) -> SignInLinkAnswer:
    """The answer is the same whether or not anyone has the address; an address sent 3 links in
    the last 15 minutes is sent no more until then."""
    await send_sign_in_link(request, settings, email=body.email)
    return SignInLinkAnswer()


@router.post(
    "/sign-in-link/redeem",
    response_model=SignedIn,
    summary="Sign in with an emailed link's token: sets the session cookie",
    responses={
        404: {"description": "No such link"},
        410: {"description": "The link was used or has expired: ask for a new one"},
    },
)
async def redeem_sign_in_link_route(
    body: SignInLinkRedeem, request: Request, response: Response, settings: SettingsDep
) -> SignedIn:
    return await _signed_in(
        request, response, settings, await redeem_sign_in_link(request, settings, body.token)
    )


@router.post(
    "/sign-out",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="End this browser's session (a token is revoked at DELETE /auth/tokens/{id})",
)
async def sign_out(principal: PrincipalDep, request: Request) -> Response:
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    await close_session(request, response, principal)
    return response


@router.get("/me", response_model=Me, summary="Who these credentials are, and their roles")
async def me(principal: PrincipalDep, request: Request) -> Me:
    return await _me(request, principal)


@router.post(
    "/tokens",
    status_code=status.HTTP_201_CREATED,
    response_model=TokenCreated,
    summary="Create a personal API token (shown once)",
)
async def create_token(
    body: TokenRequest, principal: PrincipalDep, request: Request
) -> TokenCreated:
    person_id = _person(principal)
    if principal.token_role is not None or principal.token_mission is not None:
        # A narrowed token would otherwise make itself a wider one.
        raise HTTPException(status.HTTP_403_FORBIDDEN, "A scoped token cannot create tokens.")
    if body.mission_id is not None:
        await allowed_on_mission(request, principal, body.mission_id)
    token, digest = new_secret(PERSONAL_TOKEN_PREFIX)
    row = PersonalToken(
        person_id=person_id,
        token_hash=digest,
        name=body.name,
        role=body.role.value if body.role else None,
        mission_id=body.mission_id,
    )
    async with transaction(request.app.state.sessions) as session:
        session.add(row)
    return TokenCreated(**_token_view(row).model_dump(), token=token)


@router.get("/tokens", response_model=list[TokenView], summary="Your personal tokens")
async def list_tokens(principal: PrincipalDep, request: Request) -> list[TokenView]:
    person_id = _person(principal)
    async with request.app.state.sessions() as session:
        rows = await session.exec(
            select(PersonalToken)
            .where(PersonalToken.person_id == person_id)
            .order_by(col(PersonalToken.created_at))
        )
        return [_token_view(row) for row in rows.all()]


@router.delete(
    "/tokens/{token_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Revoke one of your personal tokens: it stops working at once",
)
async def revoke_token(token_id: uuid.UUID, principal: PrincipalDep, request: Request) -> None:
    person_id = _person(principal)
    async with transaction(request.app.state.sessions) as session:
        row = await session.get(PersonalToken, token_id)
        if row is None or row.person_id != person_id:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "You have no such token.")
        if row.revoked_at is None:
            row.revoked_at = datetime.now(UTC)


def _person(principal: Principal) -> uuid.UUID:
    if principal.person_id is None:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "The bootstrap token belongs to no person: create a person (POST /people), sign in "
            "as them and make tokens there.",
        )
    return principal.person_id


def _token_view(row: PersonalToken) -> TokenView:
    return TokenView.model_validate(row, from_attributes=True)


async def _me(request: Request, principal: Principal) -> Me:
    memberships: list[MembershipView] = []
    if principal.person_id is not None:
        async with request.app.state.sessions() as session:
            rows = await session.exec(
                select(Membership)
                .where(Membership.person_id == principal.person_id)
                .order_by(col(Membership.mission_id))
            )
            memberships = [MembershipView(mission_id=m.mission_id, role=m.role) for m in rows]
    return Me(
        person_id=principal.person_id,
        name=principal.name,
        email=principal.email,
        is_admin=principal.is_admin,
        token_role=principal.token_role,
        token_mission=principal.token_mission,
        memberships=memberships,
    )
