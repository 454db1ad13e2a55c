"""The preference lists' effects: a mark written (a local activity inside the workflow's Update,
as meeting requests are) and, at the lists' deadline, every list turned into meetings and
requests in one transaction (`missionflow.domain.matchmaking.preferences` says what each pair's
marks make, and why in one batch)."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from activities.applications import mission_file
from activities.meeting_mail import tell_request
from activities.refusal import refused
from missionflow.domain.matchmaking.messages import MatchmakingNotice
from missionflow.domain.matchmaking.preferences import (
    MarkRow,
    PreferenceMarkRecord,
    PreferenceReceipt,
    PreferencesConverted,
    wishes,
)
from missionflow.domain.matchmaking.rules import DELEGATE, pair_key
from missionflow.domain.refusals import CONFLICT, INVALID, NOT_FOUND
from missionflow.runtime import participants
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.models import Meeting, PreferenceMark
from missionflow.runtime.participants import Participant
from missionflow.runtime.preference_marks import every_mark
from missionflow.runtime.settings import Settings


class PreferenceActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="record_preference")
    async def record_preference(self, record: PreferenceMarkRecord) -> PreferenceReceipt:
        """Set or clear one mark; the workflow has said the lists are open."""
        wanted = record.mark
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, record.mission_id)
            me = await _taking_part(session, mission.id, wanted.participant_id, field=None)
            other = await _taking_part(session, mission.id, wanted.other_id, field="other_id")
            if other.kind == me.kind:
                raise refused("A delegate marks hosts, and a host delegates.", INVALID, "other_id")
            key = (mission.id, me.id, other.id)
            row = await session.get(PreferenceMark, key)
            if wanted.mark is None:
                if row is not None:
                    await session.delete(row)
                return PreferenceReceipt(mark=None, changed=row is not None)
            if row is not None and row.mark == wanted.mark:
                return PreferenceReceipt(mark=wanted.mark, changed=False)
            session.add(
                PreferenceMark(
                    mission_id=mission.id,
                    participant_id=me.id,
                    other_id=other.id,
                    participant_kind=me.kind,
                    mark=wanted.mark,
                    marked_at=record.at,
                )
                if row is None
                else row.sqlmodel_update({"mark": wanted.mark, "marked_at": record.at})
            )
            return PreferenceReceipt(mark=wanted.mark, changed=True)

    @activity.defn(name="convert_preferences")
    async def convert_preferences(self, notice: MatchmakingNotice) -> PreferencesConverted:
        """Mutual wishes become accepted meetings, one-sided ones requests, once; a retry finds
        the pairs' meetings made and makes nothing twice (one meeting per pair)."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            people = {p.id: p for p in await participants.everyone(session, mission.id)}
            marks = [
                MarkRow(by=row.participant_id, on=row.other_id, mark=row.mark, at=row.marked_at)
                for row in await every_mark(session, mission.id)
                if row.participant_id in people and row.other_id in people
            ]
            meetings = (
                await session.exec(select(Meeting).where(Meeting.mission_id == mission.id))
            ).all()
            pending = {m.pair_key: m for m in meetings if m.status == "pending"}
            settled = {
                frozenset((m.requester_id, m.invitee_id)) for m in meetings if m.status != "pending"
            }
            accepted = requested = 0
            for wish in wishes(marks, settled):
                meeting = pending.get(pair_key(wish.requester, wish.invitee))
                if meeting is not None:
                    # A request by hand from the other side is a wish too: both want it.
                    if wish.accept or meeting.requester_id == wish.invitee:
                        meeting.status, meeting.answered_at = "accepted", notice.at
                        meeting.priority = max(meeting.priority, wish.priority)
                        session.add(meeting)
                        accepted += 1
                    continue
                requester, invitee = people[wish.requester], people[wish.invitee]
                meeting = _meeting(mission.id, requester, invitee, wish.priority, notice)
                if wish.accept:
                    meeting.status, meeting.answered_at = "accepted", notice.at
                session.add(meeting)
                await session.flush()
                if wish.accept:
                    accepted += 1
                    continue
                requested += 1
                if not wish.quiet:
                    await tell_request(
                        session, self._settings, mission, meeting, requester, invitee
                    )
            return PreferencesConverted(accepted=accepted, requested=requested)


def _meeting(
    mission_id: str,
    requester: Participant,
    invitee: Participant,
    priority: int,
    notice: MatchmakingNotice,
) -> Meeting:
    return Meeting(
        id=uuid.uuid4(),
        mission_id=mission_id,
        pair_key=pair_key(requester.id, invitee.id),
        requester_id=requester.id,
        requester_kind=requester.kind,
        invitee_id=invitee.id,
        invitee_kind=invitee.kind,
        priority=priority,
        status="pending",
        requested_at=notice.at,
    )


async def _taking_part(
    session: AsyncSession, mission_id: str, participant_id: uuid.UUID, *, field: str | None
) -> Participant:
    """A participant who can keep or be on a list: a host, or a delegate holding a seat. Who
    marks is the link's owner (404 if unknown, 409 once out of the delegation); whom they mark
    is a field of the request (422)."""
    person = await participants.find(session, mission_id, participant_id)
    if person is None:
        if field is None:
            raise refused(f"No participant {participant_id} in this mission.", NOT_FOUND)
        raise refused("No participant with this id in this mission.", INVALID, field)
    if person.kind == DELEGATE and not await participants.in_delegation(session, person.id):
        if field is None:
            raise refused(f"{person.name} is not in the delegation.", CONFLICT)
        raise refused(f"{person.name} is not in the delegation.", INVALID, field)
    return person
