"""Several people per organisation: the colleagues an organisation's manager names, and each
colleague's agenda.

An organisation's contact (a delegate's application, a host) is its manager: their private link
names the colleagues who come too (name, email, role), books and answers for them
(`on_behalf_of` on requests and answers, in `meetings.py`) and reads each colleague's agenda.
Colleagues have no link of their own: the manager receives the agendas of all. The list is a
profile, not a step of the mission, so it is written here in one transaction; a colleague who
still goes to a meeting cannot be taken off it (409), and nothing is written.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import col, or_, select

from api.deps import MissionRow, PrivateLinkDep, SessionDep, SettingsDep
from api.reads import matchmaking_event, organisation_names
from api.routes.meetings import participant_side
from missionflow.domain.call.applications import MAX_COLLEAGUES, Colleague
from missionflow.domain.matchmaking import agenda
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime import participants, representatives
from missionflow.runtime.db import transaction
from missionflow.runtime.models import AgendaSent, Meeting
from missionflow.runtime.representatives import Representative

router = APIRouter(
    prefix="/missions/{mission_id}/participants/{participant_id}", tags=["matchmaking"]
)

LIVE = ("pending", "accepted")  # meetings someone still goes to


class ColleaguesBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    colleagues: Annotated[list[Colleague], Field(max_length=MAX_COLLEAGUES)] = Field(
        description="The whole list; a colleague given again by email keeps their id."
    )


class ColleagueView(BaseModel):
    id: uuid.UUID = Field(description="Their participant id: `on_behalf_of` names it.")
    name: str
    email: str
    role: str | None


class AgendaLine(BaseModel):
    meeting_id: uuid.UUID
    with_id: uuid.UUID
    with_name: str
    start: datetime | None
    end: datetime | None
    table: int | None
    going: list[str] = Field(description="The names of everyone of this side who goes.")


async def _manager(
    mission: MissionRow, participant_id: uuid.UUID, session: SessionDep, link: PrivateLinkDep
) -> str:
    """The organisation's side; 404 unless the link is its manager's or a coordinator's."""
    matchmaking_event(mission)
    if not link.coordinator:
        return await participant_side(session, link, mission.id, participant_id)
    person = await participants.find(session, mission.id, participant_id)
    if person is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such participant.")
    return person.kind


def _view(row: Representative) -> ColleagueView:
    return ColleagueView(id=row.id, name=row.name, email=row.email, role=row.role)


@router.get(
    "/colleagues",
    response_model=list[ColleagueView],
    summary="The colleagues who come with an organisation (its manager's link, or coordinator)",
)
async def colleagues(
    mission: MissionRow, participant_id: uuid.UUID, session: SessionDep, link: PrivateLinkDep
) -> list[ColleagueView]:
    await _manager(mission, participant_id, session, link)
    rows = await representatives.of_organisations(session, mission.id, [participant_id])
    return [_view(r) for r in rows]


@router.put(
    "/colleagues",
    response_model=list[ColleagueView],
    summary="Name the colleagues who come with an organisation (the whole list)",
    responses={409: {"description": "A colleague taken off still goes to a meeting"}},
)
async def set_colleagues(
    mission: MissionRow,
    participant_id: uuid.UUID,
    body: ColleaguesBody,
    session: SessionDep,
    link: PrivateLinkDep,
    request: Request,
) -> list[ColleagueView]:
    side = await _manager(mission, participant_id, session, link)
    async with transaction(request.app.state.sessions) as writer:
        gone = await representatives.name_colleagues(
            writer, mission.id, participant_id, side, body.colleagues
        )
        going = await _still_going(writer, mission.id, participant_id, gone)
        if going:  # the transaction rolls back: nothing is written
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"{', '.join(going)} still go to a meeting: answer it for someone else first.",
            )
        for row in gone:
            await writer.delete(row)
        await writer.flush()
        rows = await representatives.of_organisations(writer, mission.id, [participant_id])
        return [_view(r) for r in rows]


async def _still_going(
    session: SessionDep, mission_id: str, organisation_id: uuid.UUID, gone: list[Representative]
) -> list[str]:
    meetings = await _meetings_of(session, mission_id, organisation_id, LIVE)
    named = {a for m in meetings for a in m.attendees}
    return [r.name for r in gone if str(r.id) in named]


async def _meetings_of(
    session: SessionDep, mission_id: str, organisation_id: uuid.UUID, statuses: tuple[str, ...]
) -> list[Meeting]:
    return list(
        (
            await session.exec(
                select(Meeting)
                .where(Meeting.mission_id == mission_id)
                .where(col(Meeting.status).in_(statuses))
                .where(
                    or_(
                        Meeting.requester_id == organisation_id,
                        Meeting.invitee_id == organisation_id,
                    )
                )
                .order_by(col(Meeting.starts_at), col(Meeting.requested_at))
            )
        ).all()
    )


@router.get(
    "/colleagues/{colleague_id}/agenda",
    response_model=list[AgendaLine],
    summary="A colleague's own agenda: the placed meetings they go to (their manager's link)",
)
async def colleague_agenda(
    mission: MissionRow,
    participant_id: uuid.UUID,
    colleague_id: uuid.UUID,
    session: SessionDep,
    link: PrivateLinkDep,
) -> list[AgendaLine]:
    """The contact's own agenda is the participant page's; a colleague goes to a meeting when
    its attendees name them (a joint meeting is in each colleague's agenda)."""
    await _manager(mission, participant_id, session, link)
    own = await representatives.of_organisations(session, mission.id, [participant_id])
    names = {r.id: r.name for r in own}
    if colleague_id not in names:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such colleague in this organisation.")
    others = await organisation_names(session, mission.id)
    contact = await participants.find(session, mission.id, participant_id)
    names[participant_id] = contact.contact_name if contact is not None else ""
    lines = []
    for meeting in await _meetings_of(session, mission.id, participant_id, ("accepted",)):
        going = [uuid.UUID(a) for a in meeting.attendees if uuid.UUID(a) in names]
        if meeting.slot_id is None or colleague_id not in going:
            continue
        other = (
            meeting.invitee_id if meeting.requester_id == participant_id else meeting.requester_id
        )
        lines.append(
            AgendaLine(
                meeting_id=meeting.id,
                with_id=other,
                with_name=others.get(other, ""),
                start=meeting.starts_at,
                end=meeting.ends_at,
                table=meeting.table,
                going=[names[p] for p in going],
            )
        )
    return lines


@router.get(
    "/colleagues/{colleague_id}/agenda.ics",
    summary="A colleague's own agenda as a calendar file (their manager's link)",
)
async def colleague_agenda_ics(
    mission: MissionRow,
    participant_id: uuid.UUID,
    colleague_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    link: PrivateLinkDep,
) -> Response:
    """The organisation's calendar file with only the meetings the colleague goes to, under
    their name; its SEQUENCE is the organisation's, which rises whenever its agenda changes."""
    lines = await colleague_agenda(mission, participant_id, colleague_id, session, link)
    event = matchmaking_event(mission)
    people = {p.id: p for p in await participants.everyone(session, mission.id)}
    whole = (await participants.agendas(session, mission.id, event, people))[participant_id]
    theirs = {str(line.meeting_id) for line in lines}
    colleague = await session.get(Representative, colleague_id)
    assert colleague is not None  # colleague_agenda found them
    mine = dataclasses.replace(
        whole,
        participant_id=str(colleague_id),
        participant_name=colleague.name,
        items=tuple(i for i in whole.items if i.meeting_id in theirs),
    )
    if not mine.items:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No meeting is scheduled for them yet.")
    sent = await session.get(AgendaSent, (mission.id, participant_id))
    file = MissionFile.model_validate(mission.file)
    calendar = agenda.ics(
        mine,
        sequence=sent.sequence if sent else 0,
        organiser_email=str(file.coordinators[0].email),
        domain=settings.mail_from.rsplit("@", 1)[-1].strip("> "),
    )
    return Response(
        calendar,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{mission.id}-agenda.ics"'},
    )
