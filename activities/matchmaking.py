"""The matchmaking event's effects: hosts stored, requests and answers written and told, the
reminder, and the schedule placed and sent as personal agendas with calendar files.

Requests and answers run as local activities from the mission workflow's Updates (like
applications): the workflow has said the window is open; these check who is asking whom against
the database and write, with the email, in one transaction. The schedule's instance and its
placement are in `meeting_schedule`, the agendas sent after it in `agendas`.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from activities.agendas import send_agendas
from activities.applications import mission_file
from activities.meeting_mail import tell_request
from activities.meeting_requests import expire_if_due, within_limits
from activities.meeting_schedule import instance_of, place_in_thread, schedule_run
from activities.refusal import refused
from missionflow.domain.call.applications import organisation_key
from missionflow.domain.matchmaking.messages import (
    HostNotice,
    HostsLoaded,
    MatchmakingNotice,
    MeetingReceipt,
    MeetingRecord,
    ScheduleReport,
)
from missionflow.domain.matchmaking.request_policy import EXPIRED, expiry_said, overdue
from missionflow.domain.matchmaking.rules import DELEGATE, HOST, HostForm, pair_key, slots_of
from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.refusals import CONFLICT, INVALID, NOT_FOUND
from missionflow.runtime import participants, representatives
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.i18n import country
from missionflow.runtime.mail import context as mail
from missionflow.runtime.models import Host, Meeting
from missionflow.runtime.participants import Participant
from missionflow.runtime.preference_marks import unwelcome
from missionflow.runtime.settings import Settings


class MatchmakingActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="load_hosts")
    async def load_hosts(self, notice: HostNotice) -> HostsLoaded:
        """Hosts checked by the API, stored (a known name is updated, not doubled)."""
        hosts = [HostForm.model_validate(host) for host in notice.hosts]
        async with transaction(self._sessions) as session:
            return await store_hosts(session, notice.mission_id, hosts, notice.at)

    @activity.defn(name="record_meeting_request")
    async def record_meeting_request(self, record: MeetingRecord) -> MeetingReceipt:
        request = record.request
        assert request is not None
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, record.mission_id)
            requester = await _participant(session, mission.id, request.requester_id)
            invitee = await _participant(session, mission.id, request.invitee_id)
            if requester.id == invitee.id:
                raise refused("A participant cannot meet themselves.", INVALID, "to")
            if requester.kind == invitee.kind:
                raise refused(
                    f"A {requester.kind} meets a {_other(requester.kind)}.", INVALID, "to"
                )
            key = pair_key(requester.id, invitee.id)
            existing = (
                await session.exec(
                    select(Meeting).where(Meeting.mission_id == mission.id, Meeting.pair_key == key)
                )
            ).first()
            if existing is not None:  # past its time but not swept yet: it expires now
                await expire_if_due(session, self._settings, mission, existing, record.at)
            if existing is not None and existing.status != EXPIRED:
                return await self._merge(session, mission, existing, record, requester, invitee)
            await within_limits(session, _event(mission), mission.id, requester.id, record.at)
            if existing is not None:  # asked anew after it expired: a new request
                await session.delete(existing)
                await session.flush()
            meeting = Meeting(
                id=request.request_id,
                mission_id=mission.id,
                pair_key=key,
                requester_id=requester.id,
                requester_kind=requester.kind,
                invitee_id=invitee.id,
                invitee_kind=invitee.kind,
                priority=request.priority,
                note=request.note,
                status="pending",
                requested_at=record.at,
                attendees=[str(p) for p in dict.fromkeys(request.people)],
            )
            session.add(meeting)
            await session.flush()
            await tell_request(session, self._settings, mission, meeting, requester, invitee)
            return MeetingReceipt(meeting_id=meeting.id, status=meeting.status, changed=True)

    async def _merge(
        self,
        session: AsyncSession,
        mission: MissionFile,
        meeting: Meeting,
        record: MeetingRecord,
        requester: Participant,
        invitee: Participant,
    ) -> MeetingReceipt:
        """A second request between the same pair: the same one again changes its priority and
        note; the other side asking too means both want it, so it is accepted."""
        request = record.request
        assert request is not None
        if meeting.status in ("declined", "cancelled"):
            raise refused(f"This meeting was {meeting.status}.", CONFLICT)
        meeting.attendees = await representatives.attendees_with(
            session, mission.id, meeting.attendees, requester.id, request.people
        )
        if meeting.requester_id == requester.id or meeting.status == "accepted":
            meeting.priority = max(meeting.priority, request.priority)
            meeting.note = request.note or meeting.note
            session.add(meeting)
            return MeetingReceipt(
                meeting_id=meeting.id, status=meeting.status, changed=False, merged=True
            )
        meeting.status, meeting.answered_at = "accepted", record.at
        meeting.priority = max(meeting.priority, request.priority)
        session.add(meeting)
        await session.flush()
        await self._tell_answer(session, mission, meeting, to=invitee, other=requester)
        return MeetingReceipt(
            meeting_id=meeting.id, status=meeting.status, changed=True, merged=True
        )

    @activity.defn(name="record_meeting_answer")
    async def record_meeting_answer(self, record: MeetingRecord) -> MeetingReceipt:
        answer = record.answer
        assert answer is not None
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, record.mission_id)
            meeting = await session.get(Meeting, answer.meeting_id)
            parties = (meeting.requester_id, meeting.invitee_id) if meeting else ()
            allowed = answer.by_coordinator or (
                answer.participant_id == meeting.invitee_id
                if meeting is not None and answer.action != "cancel"
                else answer.participant_id in parties
            )
            if meeting is None or meeting.mission_id != mission.id or not allowed:
                raise refused("No such meeting request for this participant.", NOT_FOUND)
            target = {"accept": "accepted", "decline": "declined", "cancel": "cancelled"}
            wanted = target[answer.action]
            if meeting.status == wanted:
                return MeetingReceipt(meeting_id=meeting.id, status=meeting.status, changed=False)
            if meeting.status == EXPIRED or (
                meeting.status == "pending"
                and overdue(_event(mission), meeting.requested_at, record.at)
            ):
                raise refused(expiry_said(_event(mission), meeting.requested_at), CONFLICT)
            allowed_from = {"accepted": "pending", "declined": "pending", "cancelled": None}
            if allowed_from[wanted] is not None and meeting.status != allowed_from[wanted]:
                raise refused(f"This meeting request is already {meeting.status}.", CONFLICT)
            if wanted == "cancelled" and meeting.status in ("declined", "cancelled"):
                raise refused(f"This meeting request is already {meeting.status}.", CONFLICT)
            meeting.status, meeting.answered_at = wanted, record.at
            meeting.attendees = await representatives.attendees_with(
                session, mission.id, meeting.attendees, answer.participant_id, answer.people
            )
            session.add(meeting)
            await session.flush()
            requester = await _participant(session, mission.id, meeting.requester_id, active=False)
            invitee = await _participant(session, mission.id, meeting.invitee_id, active=False)
            if wanted != "cancelled":
                await self._tell_answer(session, mission, meeting, to=requester, other=invitee)
            return MeetingReceipt(meeting_id=meeting.id, status=meeting.status, changed=True)

    @activity.defn(name="record_attendance")
    async def record_attendance(self, record: MeetingRecord) -> MeetingReceipt:
        attendance = record.attendance
        assert attendance is not None
        async with transaction(self._sessions) as session:
            meeting = await session.get(Meeting, attendance.meeting_id)
            if meeting is None or meeting.mission_id != record.mission_id:
                raise refused("No such meeting in this mission.", NOT_FOUND)
            if meeting.slot_id is None:
                raise refused("This meeting was not scheduled.", CONFLICT)
            changed = meeting.attendance != attendance.attendance
            meeting.attendance = attendance.attendance
            session.add(meeting)
            return MeetingReceipt(meeting_id=meeting.id, status=meeting.status, changed=changed)

    @activity.defn(name="remind_matchmaking")
    async def remind_matchmaking(self, notice: MatchmakingNotice) -> int:
        """Everyone with requests waiting for their answer hears of them once; not of those
        from someone they marked no_thanks (they may still answer them on their page)."""
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
            unwanted = await unwelcome(session, mission.id)  # who said no_thanks to whom
            waiting: dict[uuid.UUID, list[Meeting]] = defaultdict(list)
            for meeting in pending:
                if (meeting.invitee_id, meeting.requester_id) not in unwanted:
                    waiting[meeting.invitee_id].append(meeting)
            for invitee_id, meetings in waiting.items():
                person = await _participant(session, mission.id, invitee_id, active=False)
                askers = [
                    await _participant(session, mission.id, m.requester_id, active=False)
                    for m in meetings
                ]
                await mail.post(
                    session,
                    mission,
                    self._settings,
                    template="matchmaking_reminder",
                    recipient=person.contact_email,
                    recipient_name=person.contact_name,
                    context={
                        "pending_answers": [
                            {"name": a.name, "country": country(a.country, person.language)}
                            for a in askers
                        ],
                        "requests_deadline": event.requests_deadline,
                        "event": event.event,
                        "event_timezone": event.timezone,
                        "private_url": self._link(mission.id, person),
                    },
                    language=person.language,
                    key=f"matchmaking_reminder:{person.id}",
                    reminder=True,
                )
            return len(waiting)

    @activity.defn(name="schedule_meetings")
    async def schedule_meetings(self, notice: MatchmakingNotice) -> ScheduleReport:
        """Place every accepted meeting (keeping those already placed wherever possible) and
        send each participant whose agenda changed their agenda with its calendar file."""
        async with self._sessions() as session:
            mission = await mission_file(session, notice.mission_id)
            event = _event(mission)
            people = {p.id: p for p in await participants.everyone(session, mission.id)}
            meetings = (
                await session.exec(
                    select(Meeting)
                    .where(Meeting.mission_id == mission.id, Meeting.status == "accepted")
                    .order_by(col(Meeting.requested_at), col(Meeting.id))
                )
            ).all()
            colleagues = await representatives.of_organisations(session, mission.id)
        slots = slots_of(event)
        meetings = [m for m in meetings if m.requester_id in people and m.invitee_id in people]
        instance = instance_of(
            event, slots, people, meetings, keep_placed=notice.version > 1, colleagues=colleagues
        )
        result = await place_in_thread(instance)
        placed = {a.meeting: a for a in result.assignments}
        reasons = {u.meeting: u.reason for u in result.unscheduled}
        by_slot = {s.id: s for s in slots}
        async with transaction(self._sessions) as session:
            for meeting in meetings:
                row = await session.get(Meeting, meeting.id)
                assert row is not None
                assignment = placed.get(str(row.id))
                row.slot_id = assignment.slot if assignment else None
                row.table = assignment.table if assignment else None
                row.starts_at = by_slot[assignment.slot].start if assignment else None
                row.ends_at = by_slot[assignment.slot].end if assignment else None
                row.unscheduled_reason = reasons.get(str(row.id))
                session.add(row)
            await self._clear_dropped(session, mission.id)
            session.add(schedule_run(mission.id, notice, result.stats))
            sent = await send_agendas(session, self._settings, mission, event, people, notice)
        return ScheduleReport(
            requested=result.stats.requested,
            scheduled=result.stats.scheduled,
            upper_bound=result.stats.upper_bound,
            agendas_sent=sent,
            breaks=result.stats.breaks,
            breaks_bound=result.stats.breaks_bound,
            method=result.stats.method,
        )

    async def _clear_dropped(self, session: AsyncSession, mission_id: str) -> None:
        """Cancelled or declined meetings leave the grid."""
        dropped = (
            await session.exec(
                select(Meeting).where(
                    Meeting.mission_id == mission_id,
                    col(Meeting.status).in_(("cancelled", "declined")),
                    col(Meeting.slot_id).is_not(None),
                )
            )
        ).all()
        for row in dropped:
            row.slot_id, row.table, row.starts_at, row.ends_at = None, None, None, None
            session.add(row)
        await session.flush()

    async def _tell_answer(
        self,
        session: AsyncSession,
        mission: MissionFile,
        meeting: Meeting,
        *,
        to: Participant,
        other: Participant,
    ) -> None:
        event = _event(mission)
        await mail.post(
            session,
            mission,
            self._settings,
            template="meeting_answer",
            recipient=to.contact_email,
            recipient_name=to.contact_name,
            context={
                "other": {"name": other.name, "country": country(other.country, to.language)},
                "accepted": meeting.status == "accepted",
                "requests_deadline": event.requests_deadline,
                "event": event.event,
                "event_timezone": event.timezone,
                "directory_url": f"{self._settings.base_url}/missions/{mission.id}/directory",
            },
            key=f"meeting_answer:{meeting.id}:{meeting.status}",
            language=to.language,
        )

    def _link(self, mission_id: str, person: Participant) -> str:
        return mail.participant_url(self._settings, mission_id, person.id, host=person.kind == HOST)


async def store_hosts(
    session: AsyncSession, mission_id: str, hosts: list[HostForm], at: datetime
) -> HostsLoaded:
    """Insert new hosts and update known ones (by name), in the caller's transaction."""
    known = {
        row.name_key: row
        for row in (await session.exec(select(Host).where(Host.mission_id == mission_id))).all()
    }
    added = updated = 0
    for host in hosts:
        key = organisation_key(host.name)
        row = known.get(key)
        values = host.model_dump(mode="json", exclude={"colleagues"})
        if row is None:
            row = Host(mission_id=mission_id, name_key=key, added_at=at, **values)
            added += 1
        else:
            for name, value in values.items():
                setattr(row, name, value)
            updated += 1
        session.add(row)
        if host.colleagues:  # a host naming none: no read per host
            await representatives.name_colleagues(
                session, mission_id, row.id, HOST, host.colleagues
            )
    return HostsLoaded(added=added, updated=updated)


async def _participant(
    session: AsyncSession, mission_id: str, participant_id: uuid.UUID, *, active: bool = True
) -> Participant:
    """A party to a request; `active`: a delegate must hold a confirmed seat."""
    person = await participants.find(session, mission_id, participant_id)
    if person is None:
        raise refused(f"No participant {participant_id} in this mission.", NOT_FOUND)
    if (
        active
        and person.kind == DELEGATE
        and not await participants.in_delegation(session, person.id)
    ):
        raise refused(f"{person.name} is not in the delegation.", CONFLICT)
    return person


def _event(mission: MissionFile) -> Matchmaking:
    assert mission.matchmaking is not None
    return mission.matchmaking


def _other(kind: str) -> str:
    return HOST if kind == DELEGATE else DELEGATE
