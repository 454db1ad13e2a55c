"""Invitees: the organisations the call is announced to and reminded, beyond the mission file.

Coordinators keep these lists in spreadsheets, so they arrive as CSV. The mission workflow
takes each batch as an Update, so "is the call still open?" has one answer, the workflow's.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from sqlmodel import select

from api.bodies import declared_over, media_type
from api.deps import Coordinator, MissionRow, SessionDep, TemporalDep
from api.missions import add_invitees
from missionflow.domain.call.applications import email_key
from missionflow.domain.call.invitees import (
    InviteeFileError,
    TooManyInvitees,
    parse_invitees,
)
from missionflow.domain.call.messages import InviteeBatch
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime.invitees import listed_invitees
from missionflow.runtime.models import Application

router = APIRouter(
    prefix="/missions/{mission_id}/invitees", tags=["invitees"], dependencies=[Coordinator]
)

MAX_CSV_BYTES = 1 << 20
CSV_TYPES = {"text/csv", "application/csv", "text/plain"}


class InviteesAdded(BaseModel):
    added: int
    already_invited: int
    repeated_in_file: int
    announced: int


class InviteeView(BaseModel):
    organisation: str
    email: str
    name: str | None
    country: str | None
    source: str
    added_at: datetime | None
    applied: bool


@router.post(
    "",
    response_model=InviteesAdded,
    summary="Add invitees from a CSV (organisation, email, name, country); the call is "
    "announced to the new ones at once",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
    responses={409: {"description": "The call is closed"}, 413: {"description": "Too large"}},
)
async def add(mission: MissionRow, request: Request, client: TemporalDep) -> InviteesAdded:
    if media_type(request) not in CSV_TYPES:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Send the invitees as text/csv."
        )
    if declared_over(request, MAX_CSV_BYTES):
        raise _too_large(f"An invitee file is at most {MAX_CSV_BYTES // 1024} KiB.")
    body = await request.body()
    if len(body) > MAX_CSV_BYTES:
        raise _too_large(f"An invitee file is at most {MAX_CSV_BYTES // 1024} KiB.")
    try:
        parsed = parse_invitees(body)
    except TooManyInvitees as error:
        raise _too_large(str(error)) from None
    except InviteeFileError as error:
        raise RequestValidationError(error.errors) from None
    receipt = await add_invitees(client, mission.id, InviteeBatch(invitees=parsed.invitees))
    return InviteesAdded(
        added=receipt.added,
        already_invited=receipt.already_invited,
        repeated_in_file=parsed.repeated,
        announced=receipt.announced,
    )


@router.get("", response_model=list[InviteeView], summary="Everyone invited, and who applied")
async def list_invitees(mission: MissionRow, session: SessionDep) -> list[InviteeView]:
    applied = set(
        (
            await session.exec(
                select(Application.email_key).where(Application.mission_id == mission.id)
            )
        ).all()
    )
    return [
        InviteeView(
            organisation=listed.invitee.organisation,
            email=str(listed.invitee.email),
            name=listed.invitee.name,
            country=listed.invitee.country,
            source="csv" if listed.added_at else "mission file",
            added_at=listed.added_at,
            applied=email_key(str(listed.invitee.email)) in applied,
        )
        for listed in await listed_invitees(session, MissionFile.model_validate(mission.file))
    ]


def _too_large(message: str) -> HTTPException:
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, message)
