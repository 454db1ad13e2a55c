"""Who takes part in the matchmaking event, and their agendas, as read from the database.

The activities (requests, scheduling, emails) and the API (directory, pages, calendar files)
read the same people and build the same agendas; they share these reads so a participant is
described, and an agenda built, one way only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.call.applications import ApplicationStatus
from missionflow.domain.matchmaking import agenda
from missionflow.domain.matchmaking.rules import DELEGATE, HOST
from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.mission.event_tables import place_of, video_link
from missionflow.runtime.models import Application, Host, Meeting, SelectionDecision


@dataclass(frozen=True)
class Participant:
    id: uuid.UUID
    kind: str
    name: str
    country: str
    line: str
    """One line about them in agendas and emails: sectors, or a host's sector and activity."""
    description: str | None
    contact_name: str
    contact_email: str
    unavailable: tuple[str, ...] = ()
    language: str | None = None
    """The language they applied in; a host has none and is spoken to in the mission's."""
    table: str | None = None
    """The id of the table a host always meets at (the mission file's `tables`)."""
    remote: bool = False
    """Meets by video: their meetings take no table and carry the event's link."""


async def delegation(session: AsyncSession, mission_id: str) -> Sequence[Application]:
    """The applications whose seat is confirmed and still held, by organisation; not an erased
    person's (erased after the mission ended, so never withdrawn): they take part in nothing."""
    return (
        await session.exec(
            select(Application)
            .join(SelectionDecision, col(SelectionDecision.application_id) == Application.id)
            .where(Application.mission_id == mission_id)
            .where(Application.status != ApplicationStatus.WITHDRAWN.value)
            .where(col(Application.erased_at).is_(None))
            .where(SelectionDecision.seat == "confirmed")
            .order_by(col(Application.organisation))
        )
    ).all()


async def everyone(session: AsyncSession, mission_id: str) -> list[Participant]:
    """The confirmed delegates and every host."""
    delegates = await delegation(session, mission_id)
    hosts = (await session.exec(select(Host).where(Host.mission_id == mission_id))).all()
    return [delegate(a) for a in delegates] + [host(h) for h in hosts]


async def find(
    session: AsyncSession, mission_id: str, participant_id: uuid.UUID
) -> Participant | None:
    """A host, or an applicant whatever their seat (a meeting keeps its parties' names)."""
    row = await session.get(Host, participant_id)
    if row is not None and row.mission_id == mission_id:
        return host(row)
    application = await session.get(Application, participant_id)
    if application is not None and application.mission_id == mission_id:
        return delegate(application)
    return None


async def in_delegation(session: AsyncSession, application_id: uuid.UUID) -> bool:
    application = await session.get(Application, application_id)
    decision = await session.get(SelectionDecision, application_id)
    return (
        application is not None
        and application.status != ApplicationStatus.WITHDRAWN
        and decision is not None
        and decision.seat == "confirmed"
    )


async def agendas(
    session: AsyncSession,
    mission_id: str,
    event: Matchmaking,
    people: dict[uuid.UUID, Participant],
) -> dict[uuid.UUID, agenda.Agenda]:
    """Every participant's agenda from the placed meetings, both of whose parties take part."""
    placed = (
        await session.exec(
            select(Meeting).where(
                Meeting.mission_id == mission_id, col(Meeting.slot_id).is_not(None)
            )
        )
    ).all()
    items: dict[uuid.UUID, list[agenda.AgendaItem]] = defaultdict(list)
    for meeting in placed:
        if meeting.requester_id not in people or meeting.invitee_id not in people:
            continue
        assert meeting.starts_at and meeting.ends_at
        where = _where(mission_id, event, meeting)
        for me, them in (
            (meeting.requester_id, meeting.invitee_id),
            (meeting.invitee_id, meeting.requester_id),
        ):
            other = people[them]
            items[me].append(
                agenda.AgendaItem(
                    meeting_id=str(meeting.id),
                    start=meeting.starts_at,
                    end=meeting.ends_at,
                    table=meeting.table,
                    with_name=other.name,
                    with_country=other.country,
                    with_line=other.line,
                    **where,
                )
            )
    return {
        person.id: agenda.Agenda(
            participant_id=str(person.id),
            participant_name=person.name,
            event=event.event,
            venue=event.venue,
            timezone=event.timezone,
            items=tuple(sorted(items[person.id], key=lambda item: item.start)),
        )
        for person in people.values()
    }


def _where(mission_id: str, event: Matchmaking, meeting: Meeting) -> dict[str, str | None]:
    """A placed meeting's table by name and location, or, at no table, its video link."""
    if meeting.table is None:
        link = event.video_link
        return {
            "video_link": link and video_link(link, mission=mission_id, meeting=str(meeting.id))
        }
    place = place_of(event.tables, meeting.table)
    if isinstance(event.tables, int):
        return {}
    return {"table_name": place.name, "location": place.location}


def delegate(row: Application) -> Participant:
    return Participant(
        id=row.id,
        kind=DELEGATE,
        name=row.organisation,
        country=row.country,
        line=", ".join(row.sectors),
        description=row.website,
        contact_name=row.contact_name,
        contact_email=row.contact_email,
        language=row.language,
        remote=row.remote,
    )


def host(row: Host) -> Participant:
    line = row.sector + (f" – {row.description[:140]}" if row.description else "")
    return Participant(
        id=row.id,
        kind=HOST,
        name=row.name,
        country=row.country,
        line=line,
        description=row.description,
        contact_name=row.contact_name,
        contact_email=row.contact_email,
        unavailable=tuple(row.unavailable),
        table=row.table,
        remote=row.remote,
    )
