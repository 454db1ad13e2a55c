"""The matchmaking event's meetings: a participant's page, the directory of the other side,
meeting requests and their answers.

Participants act through their private links: a delegate with their application's token, a
host with the token of the host link. Requests and answers go to the mission workflow as
Updates, so "are requests still open?" has one answer, to the second, in the venue's zone.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import (
    Coordinator,
    MissionRow,
    PrivateLink,
    PrivateLinkDep,
    SessionDep,
    TemporalDep,
)
from api.missions import answer_meeting, request_meeting, set_remote
from api.reads import matchmaking_event, organisation_names
from api.routes.matchmaking import (
    MeetingBody,
    MeetingLine,
    MeetingView,
    ParticipantPage,
    Profile,
)
from missionflow.domain.erasure import is_erased_address
from missionflow.domain.matchmaking.messages import MeetingAnswerInput, MeetingRequestInput
from missionflow.domain.matchmaking.places import RemoteInput, RemoteReceipt
from missionflow.domain.selection.scoring import country_name
from missionflow.runtime import participants, representatives
from missionflow.runtime.models import Meeting
from missionflow.runtime.participants import Participant

router = APIRouter(prefix="/missions/{mission_id}", tags=["matchmaking"])

OnBehalfOf = Annotated[
    list[uuid.UUID],
    Field(
        default_factory=list,
        max_length=21,
        description="Who goes for the organisation: its contact's id and its colleagues' "
        "(GET .../participants/{id}/colleagues); left out: the contact.",
    ),
]


class BookingBody(MeetingBody):
    on_behalf_of: OnBehalfOf


class AnswerBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on_behalf_of: OnBehalfOf


@router.get(
    "/participants/{participant_id}",
    response_model=ParticipantPage,
    summary="A participant's page: profile and meetings (private link, or coordinator)",
)
async def participant_page(
    mission: MissionRow, participant_id: uuid.UUID, session: SessionDep, link: PrivateLinkDep
) -> ParticipantPage:
    """Where the emails' links lead: the requests to answer (POST
    .../meeting-requests/{meeting_id}/accept or decline, with the same token) and the schedule."""
    matchmaking_event(mission)
    if not link.coordinator:
        await participant_side(session, link, mission.id, participant_id)
    person = await participants.find(session, mission.id, participant_id)
    if person is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such participant.")
    profile = _profile(person)
    names = await organisation_names(session, mission.id)
    colleagues = await representatives.of_organisations(session, mission.id, [participant_id])
    own = {str(participant_id)} | {str(c.id) for c in colleagues}
    rows = (
        await session.exec(
            select(Meeting)
            .where(Meeting.mission_id == mission.id)
            .where(
                or_(Meeting.requester_id == participant_id, Meeting.invitee_id == participant_id)
            )
            .order_by(col(Meeting.requested_at))
        )
    ).all()
    return ParticipantPage(
        profile=profile,
        meetings=[
            MeetingLine(
                meeting_id=m.id,
                with_id=other,
                with_name=names.get(other, ""),
                asked_by_me=m.requester_id == participant_id,
                status=m.status,
                priority=m.priority,
                note=m.note,
                start=m.starts_at,
                table=m.table,
                going=[uuid.UUID(a) for a in m.attendees if a in own],
            )
            for m in rows
            for other in [m.invitee_id if m.requester_id == participant_id else m.requester_id]
        ],
    )


class RemoteBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    remote: StrictBool = Field(
        description="True: meets by video from now on (their meetings take no table and carry "
        "the event's link); false: in person again."
    )


@router.put(
    "/participants/{participant_id}/remote",
    response_model=RemoteReceipt,
    dependencies=[Coordinator],
    summary="Mark a delegate or a host remote (meets by video), or in person again",
    responses={
        404: {"description": "No such delegate or host"},
        409: {"description": "The event is over"},
        422: {"description": "No video link in the mission file, or a host at a fixed table"},
    },
)
async def mark_remote(
    mission: MissionRow, participant_id: uuid.UUID, body: RemoteBody, client: TemporalDep
) -> RemoteReceipt:
    matchmaking_event(mission)
    return await set_remote(
        client, mission.id, RemoteInput(participant_id=participant_id, remote=body.remote)
    )


@router.get("/directory", response_model=list[Profile], summary="Profiles of the other side")
async def directory(
    mission: MissionRow,
    session: SessionDep,
    link: PrivateLinkDep,
    participant: Annotated[
        uuid.UUID | None, Query(description="Who is looking (with ?token=)")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in name, sector, country")
    ] = None,
) -> list[Profile]:
    """Delegates see the hosts and hosts the delegates; coordinators see both."""
    matchmaking_event(mission)
    side = None
    if not link.coordinator:
        if participant is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such participant for this link.")
        side = await participant_side(session, link, mission.id, participant)
    profiles = [
        _profile(person)
        for person in await participants.everyone(session, mission.id)
        if side is None or person.kind != side
    ]
    if q:
        words = q.casefold().split()
        profiles = [p for p in profiles if all(w in _searchable(p) for w in words)]
    return sorted(profiles, key=lambda p: (p.side, p.name.casefold()))


@router.post(
    "/meeting-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingView,
    summary="Ask to meet someone of the other side (by private link, or as a coordinator)",
    responses={
        409: {"description": "Requests are not open, or the pair was declined"},
        422: {
            "description": "An unknown participant, or past a limit of the event (named at "
            "body.max_pending_requests or body.max_sent_requests)"
        },
    },
)
async def request(
    mission: MissionRow,
    body: BookingBody,
    session: SessionDep,
    client: TemporalDep,
    link: PrivateLinkDep,
) -> JSONResponse:
    matchmaking_event(mission)
    if not link.coordinator:
        await participant_side(session, link, mission.id, body.from_)
    requester_kind = await _kind(session, mission.id, body.from_)
    invitee_kind = await _kind(session, mission.id, body.to, field="to")
    await _own_people(session, mission.id, body.from_, body.on_behalf_of)
    receipt = await request_meeting(
        client,
        mission.id,
        MeetingRequestInput(
            request_id=uuid.uuid4(),
            requester_id=body.from_,
            requester_kind=requester_kind,
            invitee_id=body.to,
            invitee_kind=invitee_kind,
            priority=body.priority,
            note=body.note,
            people=body.on_behalf_of,
        ),
    )
    view = MeetingView(meeting_id=receipt.meeting_id, status=receipt.status, merged=receipt.merged)
    code = status.HTTP_200_OK if receipt.merged else status.HTTP_201_CREATED
    return JSONResponse(view.model_dump(mode="json"), code)


@router.post(
    "/meeting-requests/{meeting_id}/{action}",
    response_model=MeetingView,
    summary="Accept or decline a request made to you; cancel a meeting you are in",
    responses={409: {"description": "Already answered, or too late"}},
)
async def answer(
    mission: MissionRow,
    meeting_id: uuid.UUID,
    action: str,
    session: SessionDep,
    client: TemporalDep,
    link: PrivateLinkDep,
    body: AnswerBody | None = None,
) -> MeetingView:
    """With a body, `on_behalf_of` says who of the answering organisation goes."""
    if action not in ("accept", "decline", "cancel"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Actions are accept, decline and cancel.")
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.mission_id != mission.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such meeting request.")
    coordinator = link.coordinator
    answering = meeting.invitee_id
    if not coordinator:
        parties = [(meeting.invitee_id, meeting.invitee_kind)]
        if action == "cancel":
            parties.append((meeting.requester_id, meeting.requester_kind))
        matches = [pid for pid, kind in parties if link.opens(pid, side=kind)]
        if not matches:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such meeting request for this link.")
        answering = matches[0]
    people = body.on_behalf_of if body is not None else []
    await _own_people(session, mission.id, answering, people)
    receipt = await answer_meeting(
        client,
        mission.id,
        MeetingAnswerInput(
            meeting_id=meeting_id,
            participant_id=answering,
            action=action,
            by_coordinator=coordinator,
            people=people,
        ),
    )
    return MeetingView(meeting_id=receipt.meeting_id, status=receipt.status)


async def participant_side(
    session: AsyncSession, link: PrivateLink, mission_id: str, pid: uuid.UUID
) -> str:
    """The side of the participant this private link opens; 404 for anyone else, and for an
    erased person's link (it opens nothing once their data is gone)."""
    person = await participants.find(session, mission_id, pid)
    if (
        person is None
        or not link.opens(pid, side=person.kind)
        or is_erased_address(person.contact_email)
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such participant for this link.")
    return person.kind


async def _own_people(
    session: AsyncSession, mission_id: str, organisation: uuid.UUID, people: list[uuid.UUID]
) -> None:
    """A manager books and answers for their own organisation only: anyone else, 404."""
    if await representatives.refused_people(session, mission_id, organisation, people):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such colleague in this organisation.")


async def _kind(
    session: AsyncSession, mission_id: str, pid: uuid.UUID, *, field: str = "from"
) -> str:
    person = await participants.find(session, mission_id, pid)
    if person is None:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", field),
                    "msg": "No participant with this id in this mission.",
                    "type": "unknown",
                }
            ]
        )
    return person.kind


def _searchable(profile: Profile) -> str:
    text = f"{profile.name} {profile.line} {profile.country} {profile.country_name}"
    return f"{text} {profile.description or ''}".casefold()


def _profile(person: Participant) -> Profile:
    return Profile(
        id=person.id,
        side=person.kind,
        name=person.name,
        country=person.country,
        country_name=country_name(person.country),
        line=person.line,
        description=person.description,
    )
