"""A participant's preference list (with `matchmaking.preferences_deadline`): their marks on
participants of the other side, "must_meet", "would_like" or "no_thanks", set and cleared through
their private link while the lists are open, and read back.

A mark goes to the mission workflow as an Update, so "are the lists still open?" has one answer,
to the second. Only the participant's own marks are ever read here: nobody learns what the other
side marked about them (`missionflow.domain.matchmaking.preferences`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.deps import MissionRow, PrivateLinkDep, SessionDep, TemporalDep
from api.reads import matchmaking_event, organisation_names
from api.routes.meetings import participant_side
from api.updates import send_update
from missionflow.domain.matchmaking.preferences import Mark, PreferenceMarkInput, PreferenceReceipt
from missionflow.domain.matchmaking.rules import DELEGATE
from missionflow.runtime import participants
from missionflow.runtime.preference_marks import own_marks
from workflows.mission import MissionWorkflow

router = APIRouter(
    prefix="/missions/{mission_id}/participants/{participant_id}", tags=["matchmaking"]
)


class MarkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mark: Mark = Field(description="must_meet, would_like or no_thanks")


class PreferenceLine(BaseModel):
    other_id: uuid.UUID
    other_name: str
    mark: Mark
    marked_at: datetime


class PreferenceList(BaseModel):
    opens_at: datetime
    closes_at: datetime | None = Field(description="null: this event has no preference lists.")
    marks: list[PreferenceLine]


class MarkView(BaseModel):
    other_id: uuid.UUID
    mark: Mark | None
    changed: bool


@router.get(
    "/preferences",
    response_model=PreferenceList,
    summary="A participant's own preference list (private link, or coordinator)",
)
async def preference_list(
    mission: MissionRow, participant_id: uuid.UUID, session: SessionDep, link: PrivateLinkDep
) -> PreferenceList:
    event = matchmaking_event(mission)
    await own_side(session, link, mission.id, participant_id)
    names = await organisation_names(session, mission.id)
    return PreferenceList(
        opens_at=event.requests_open_at,
        closes_at=event.preferences_deadline,
        marks=[
            PreferenceLine(
                other_id=row.other_id,
                other_name=names.get(row.other_id, ""),
                mark=row.mark,  # type: ignore[arg-type]  # written from a Mark
                marked_at=row.marked_at,
            )
            for row in await own_marks(session, mission.id, participant_id)
        ],
    )


@router.put(
    "/preferences/{other_id}",
    response_model=MarkView,
    summary="Mark a participant of the other side must_meet, would_like or no_thanks",
    responses={409: {"description": "The lists are not open, or this event has none"}},
)
async def set_mark(
    mission: MissionRow,
    participant_id: uuid.UUID,
    other_id: uuid.UUID,
    body: MarkBody,
    session: SessionDep,
    client: TemporalDep,
    link: PrivateLinkDep,
) -> MarkView:
    return await _mark(mission, participant_id, other_id, body.mark, session, client, link)


@router.delete(
    "/preferences/{other_id}",
    response_model=MarkView,
    summary="Clear a mark from one's preference list",
    responses={409: {"description": "The lists are not open, or this event has none"}},
)
async def clear_mark(
    mission: MissionRow,
    participant_id: uuid.UUID,
    other_id: uuid.UUID,
    session: SessionDep,
    client: TemporalDep,
    link: PrivateLinkDep,
) -> MarkView:
    return await _mark(mission, participant_id, other_id, None, session, client, link)


async def _mark(
    mission: MissionRow,
    participant_id: uuid.UUID,
    other_id: uuid.UUID,
    mark: Mark | None,
    session: AsyncSession,
    client: TemporalDep,
    link: PrivateLinkDep,
) -> MarkView:
    """The link and whom it marks are checked here (404, 422 at other_id) before the mission
    is asked; the workflow refuses outside the lists' window (409) and writes."""
    matchmaking_event(mission)
    side = await own_side(session, link, mission.id, participant_id)
    other = await participants.find(session, mission.id, other_id)
    if other is None:
        refusal = "No participant with this id in this mission."
    elif other.kind == side:
        refusal = "A delegate marks hosts, and a host delegates."
    elif other.kind == DELEGATE and not await participants.in_delegation(session, other.id):
        refusal = f"{other.name} is not in the delegation."
    else:
        refusal = None
    if refusal is not None:
        raise RequestValidationError(
            [{"loc": ("path", "other_id"), "msg": refusal, "type": "preferences"}]
        )
    receipt = await send_mark(client, mission.id, participant_id, other_id, mark)
    return MarkView(other_id=other_id, mark=receipt.mark, changed=receipt.changed)


async def send_mark(
    client: Client,
    mission_id: str,
    participant_id: uuid.UUID,
    other_id: uuid.UUID,
    mark: Mark | None,
) -> PreferenceReceipt:
    """The mark to the mission workflow, for this route and the list's page alike."""
    return await send_update(
        client,
        mission_id,
        lambda h: h.execute_update(
            MissionWorkflow.mark_preference,
            PreferenceMarkInput(participant_id=participant_id, other_id=other_id, mark=mark),
        ),
    )


async def own_side(
    session: AsyncSession, link: PrivateLinkDep, mission_id: str, participant_id: uuid.UUID
) -> str:
    """The participant's side; their own link opens their list, as do the coordinators."""
    if link.coordinator:
        person = await participants.find(session, mission_id, participant_id)
        if person is not None:
            return person.kind
    return await participant_side(session, link, mission_id, participant_id)
