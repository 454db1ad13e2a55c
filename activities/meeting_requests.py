"""Meeting requests' expiry, limits and nudges (the mission file's `request_expiry`,
`max_pending_requests`, `max_sent_requests` and `nudge_every`).

The limits are counted in the request's own transaction (`within_limits`, called by
`record_meeting_request`), not from the workflow's state: the database is where a request is
pending, answered, expired or merged, and the workflow keeps no count per participant (2,000 of
them would ride in every continue-as-new). Two requests of one participant at once are two
local activities at once; on PostgreSQL a transaction-scoped advisory lock on the requester
makes the second count after the first commits, and SQLite takes one writer at a time.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from activities.applications import mission_file
from activities.refusal import refused
from missionflow.domain.matchmaking import request_policy as policy
from missionflow.domain.matchmaking.messages import (
    MatchmakingNotice,
    NudgeNotice,
    RequestSweep,
)
from missionflow.domain.matchmaking.rules import HOST
from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.refusals import INVALID
from missionflow.runtime import participants
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.i18n import country
from missionflow.runtime.mail import context as mail
from missionflow.runtime.models import Meeting
from missionflow.runtime.participants import Participant
from missionflow.runtime.preference_marks import unwelcome
from missionflow.runtime.settings import Settings


class MeetingRequestActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="expire_meeting_requests")
    async def expire_requests(self, notice: MatchmakingNotice) -> RequestSweep:
        """Every pending request past its time becomes expired, and both sides hear of it once;
        an expired request is never scheduled. Run again, it finds nothing more to do."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            event = _event(mission)
            pending = (
                await session.exec(
                    select(Meeting).where(
                        Meeting.mission_id == mission.id, Meeting.status == "pending"
                    )
                )
            ).all()
            expired, later = 0, []
            unwanted = await unwelcome(session, mission.id)
            for meeting in pending:
                if await expire_if_due(
                    session, self._settings, mission, meeting, notice.at, unwanted
                ):
                    expired += 1
                elif (expiry := policy.expires_at(event, meeting.requested_at)) is not None:
                    later.append(expiry)
            return RequestSweep(
                expired=expired, next_due=policy.sweep_at(min(later)) if later else None
            )

    @activity.defn(name="nudge_matchmaking")
    async def nudge(self, notice: NudgeNotice) -> int:
        """Each participant with no accepted meeting yet hears once per round: ask someone, or
        answer the requests waiting for them."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            event = _event(mission)
            meetings = (
                await session.exec(
                    select(Meeting).where(
                        Meeting.mission_id == mission.id,
                        col(Meeting.status).in_(("accepted", "pending")),
                    )
                )
            ).all()
            met = {
                person
                for m in meetings
                if m.status == "accepted"
                for person in (m.requester_id, m.invitee_id)
            }
            unwanted = await unwelcome(session, mission.id)  # quiet requests are not counted
            waiting = [
                m.invitee_id
                for m in meetings
                if m.status == "pending"
                and not policy.overdue(event, m.requested_at, notice.at)
                and (m.invitee_id, m.requester_id) not in unwanted
            ]
            nudged = 0
            for person in await participants.everyone(session, mission.id):
                if person.id in met:
                    continue
                nudged += 1
                await mail.post(
                    session,
                    mission,
                    self._settings,
                    template="matchmaking_nudge",
                    recipient=person.contact_email,
                    recipient_name=person.contact_name,
                    context={
                        "waiting": waiting.count(person.id),
                        "requests_deadline": event.requests_deadline,
                        "event": event.event,
                        "event_timezone": event.timezone,
                        "private_url": _link(self._settings, mission.id, person),
                    },
                    language=person.language,
                    key=f"matchmaking_nudge:{notice.round}:{person.id}",
                    reminder=True,
                )
            return nudged


async def expire_if_due(
    session: AsyncSession,
    settings: Settings,
    mission: MissionFile,
    meeting: Meeting,
    at: datetime,
    unwanted: set[tuple[uuid.UUID, uuid.UUID]] | None = None,
) -> bool:
    """A pending request past its time becomes expired and both sides are told, once: by the
    sweep, or sooner when someone asks for the same pair (`record_meeting_request`). The keys
    name the request and when it was made, so one asked anew and lapsed again is told again.
    An invitee who marked the requester no_thanks was never told of the request (a quiet one,
    from the preference lists), so they are not told it lapsed; `unwanted`: those marks, when
    the caller has read them."""
    event = _event(mission)
    if meeting.status != "pending" or not policy.overdue(event, meeting.requested_at, at):
        return False
    meeting.status = policy.EXPIRED
    session.add(meeting)
    requester = await participants.find(session, mission.id, meeting.requester_id)
    invitee = await participants.find(session, mission.id, meeting.invitee_id)
    if requester is None or invitee is None:
        return True
    if unwanted is None:
        unwanted = await unwelcome(session, mission.id)
    told = [(requester, invitee, True)]
    if (invitee.id, requester.id) not in unwanted:
        told.append((invitee, requester, False))
    asked = int(meeting.requested_at.timestamp())
    for to, other, asked_by_recipient in told:
        await mail.post(
            session,
            mission,
            settings,
            template="meeting_expired",
            recipient=to.contact_email,
            recipient_name=to.contact_name,
            context={
                "other": {"name": other.name, "country": country(other.country, to.language)},
                "asked_by_recipient": asked_by_recipient,
                "requested_at": meeting.requested_at,
                "requests_deadline": event.requests_deadline,
                "event": event.event,
                "event_timezone": event.timezone,
                "private_url": _link(settings, mission.id, to),
            },
            language=to.language,
            key=f"meeting_expired:{meeting.id}:{asked}:{to.id}",
        )
    return True


async def within_limits(
    session: AsyncSession,
    event: Matchmaking,
    mission_id: str,
    requester_id: uuid.UUID,
    at: datetime,
) -> None:
    """Refuse (422 at the limit's name) a new request that would pass the requester's limits;
    in the caller's transaction, so nothing is written when it refuses."""
    if event.max_pending_requests is None and event.max_sent_requests is None:
        return
    if (await session.connection()).dialect.name == "postgresql":
        key = int.from_bytes(requester_id.bytes[:8], "big", signed=True)
        await session.exec(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=key))
    sent = (
        await session.exec(
            select(Meeting.status, Meeting.requested_at).where(
                Meeting.mission_id == mission_id, Meeting.requester_id == requester_id
            )
        )
    ).all()
    pending = sum(
        1
        for status, requested_at in sent
        if status == "pending" and not policy.overdue(event, requested_at, at)
    )
    if (refusal := policy.limit_refusal(event, pending=pending, sent=len(sent))) is not None:
        field, message = refusal
        raise refused(message, INVALID, field)


def _link(settings: Settings, mission_id: str, person: Participant) -> str:
    return mail.participant_url(settings, mission_id, person.id, host=person.kind == HOST)


def _event(mission: MissionFile) -> Matchmaking:
    assert mission.matchmaking is not None
    return mission.matchmaking
