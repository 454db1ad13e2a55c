"""The matchmaking event on the time-skipping server: hosts, the request window to the second,
merged and answered requests, the reminder, the schedule and personal agendas with calendar
files, and a late cancellation that re-sends only the agendas it changed."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
from icalendar import Calendar
from sqlmodel import col, select
from support import eventually, keep_history, rehearsal
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from test_mission_walk import sleep_until
from test_selection_review import apply

from api.missions import start_mission
from missionflow.domain.matchmaking.messages import (
    HostBatch,
    MeetingAnswerInput,
    MeetingRequestInput,
)
from missionflow.domain.matchmaking.rules import slots_of
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.refusals import CONFLICT
from missionflow.domain.selection.messages import SeatAnswer
from missionflow.runtime.models import Host, Meeting, ScheduleRun
from workflows.mission import MissionWorkflow


def event_mission(now: Any, **matchmaking: Any) -> MissionFile:
    """The event; `matchmaking`: more of its section's fields."""
    document = rehearsal(visits=[])
    document["call"].update(deadline="+P1D", reminders=[])
    document["call"]["invitees"] = []
    document["selection"].update(
        capacity=3,
        max_per_country=None,
        decision_due="+P2D",
        confirm_within="P2D",
        delegation_lock="+P5D",
        auto_approve=True,
    )
    document["matchmaking"].update(
        requests_open_at="+P5DT1H",
        requests_deadline="+P8D",
        sessions=[{"start": "+P9D", "end": "+P9DT1H"}],
        slot_minutes=20,
        tables=2,
        max_meetings_per_participant=3,
        **matchmaking,
    )
    document["reporting"].update(report_due="+P20D", follow_up=[])
    return load_mission(document, now=now, live=True)


HOSTS = [
    {
        "name": "Boston Nanofab",
        "country": "US",
        "sector": "Advanced materials",
        "description": "Thin films",
        "contact_name": "Hope Host",
        "contact_email": "hope@nanofab.example.com",
    },
    {
        "name": "Philly Energy Labs",
        "country": "US",
        "sector": "Energy and sustainability",
        "contact_name": "Paul Host",
        "contact_email": "paul@energylabs.example.com",
    },
]


async def test_requests_schedule_agendas_and_a_late_cancellation(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission = event_mission(now)
    event = mission.matchmaking
    assert event is not None
    first_slot = slots_of(event)[0].id
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        delegates = [
            await apply(handle, f"{name} Cluster", country)
            for name, country in (("Alpha", "DE"), ("Beta", "FR"), ("Gamma", "IT"))
        ]
        await sleep_until(time_env, mission.selection.decision_due + timedelta(hours=1))
        for delegate in delegates:
            await handle.execute_update(
                MissionWorkflow.answer_seat, SeatAnswer(application_id=delegate, accept=True)
            )
        await handle.execute_update(
            MissionWorkflow.add_hosts,
            HostBatch(hosts=[{**HOSTS[0], "unavailable": [first_slot]}, HOSTS[1]]),
        )
        async with session_factory() as session:
            hosts = {h.name: h.id for h in (await session.exec(select(Host))).all()}
        nanofab, energy = hosts["Boston Nanofab"], hosts["Philly Energy Labs"]

        await sleep_until(time_env, mission.selection.delegation_lock + timedelta(minutes=30))
        early = await _refused(handle, _request(delegates[0], nanofab))
        assert early.type == CONFLICT and early.message.startswith("Meeting requests open on ")

        await sleep_until(time_env, event.requests_open_at + timedelta(minutes=1))
        alpha_nanofab = await handle.execute_update(
            MissionWorkflow.request_meeting, _request(delegates[0], nanofab, priority=3)
        )
        beta_nanofab = await handle.execute_update(
            MissionWorkflow.request_meeting, _request(delegates[1], nanofab)
        )
        await handle.execute_update(MissionWorkflow.request_meeting, _request(delegates[2], energy))
        # Both sides asking is one meeting, accepted.
        await handle.execute_update(
            MissionWorkflow.request_meeting,
            _request(energy, delegates[0], kinds=("host", "delegate")),
        )
        mutual = await handle.execute_update(
            MissionWorkflow.request_meeting, _request(delegates[0], energy)
        )
        assert mutual.merged and mutual.status == "accepted"
        same = await _refused(
            handle, _request(delegates[1], delegates[2], kinds=("delegate", "delegate"))
        )
        assert "meets a host" in same.message
        for meeting in (alpha_nanofab, beta_nanofab):
            await handle.execute_update(
                MissionWorkflow.answer_meeting,
                MeetingAnswerInput(
                    meeting_id=meeting.meeting_id, participant_id=nanofab, action="accept"
                ),
            )
        await eventually(lambda: _got(mailbox, "meeting_request", "hope@", 2))
        await eventually(lambda: _got(mailbox, "meeting_answer", "alpha.cluster@", 1))

        # Gamma's request to Energy Labs stays unanswered: one reminder, a day before the close.
        await sleep_until(time_env, event.requests_deadline - timedelta(hours=23))
        await eventually(lambda: _got(mailbox, "matchmaking_reminder", "paul@", 1))
        await sleep_until(time_env, event.requests_deadline)
        late = await _refused(handle, _request(delegates[2], nanofab))
        assert late.message.startswith("Meeting requests closed on ")

        await sleep_until(time_env, event.requests_deadline + timedelta(minutes=5))
        await eventually(lambda: _got(mailbox, "agenda", None, 5))
        async with session_factory() as session:
            placed = (await session.exec(select(Meeting).where(Meeting.status == "accepted"))).all()
        assert len(placed) == 3 and all(m.slot_id is not None for m in placed)
        assert all(
            m.slot_id != first_slot for m in placed if nanofab in (m.requester_id, m.invitee_id)
        )
        busy = [(p, m.slot_id) for m in placed for p in (m.requester_id, m.invitee_id)]
        assert len(busy) == len(set(busy))  # nobody in two meetings at once
        hope = mailbox.sent("agenda", "hope@")[0]
        calendar = _calendar(hope)
        told = str(calendar["X-WR-CALDESC"])  # the agenda's breaks, as the email says them
        assert re.fullmatch(r"No breaks between your meetings|1 break: \d\d:\d\d–\d\d:\d\d", told)
        assert f"{told}." in hope.get_body(("plain",)).get_content()
        events = [c for c in calendar.walk("VEVENT")]
        assert len(events) == 2 and all(
            str(e["DTSTART"].params["TZID"]) == event.timezone for e in events
        )

        kept = {m.id: (m.slot_id, m.table) for m in placed if m.id != beta_nanofab.meeting_id}
        await handle.execute_update(
            MissionWorkflow.answer_meeting,
            MeetingAnswerInput(
                meeting_id=beta_nanofab.meeting_id, participant_id=delegates[1], action="cancel"
            ),
        )
        await eventually(lambda: _got(mailbox, "agenda_changed", None, 2))
        changed = {m["To"].addresses[0].addr_spec for m in mailbox.sent("agenda_changed")}
        assert changed == {"beta.cluster@example.org", "hope@nanofab.example.com"}
        new = _calendar(mailbox.sent("agenda_changed", "hope@")[0])
        sequences = {int(e["SEQUENCE"]) for e in new.walk("VEVENT")}
        assert sequences == {1}
        cancelled = [e for e in new.walk("VEVENT") if str(e.get("STATUS")) == "CANCELLED"]
        assert len(cancelled) == 1
        async with session_factory() as session:
            after = {
                m.id: (m.slot_id, m.table) for m in (await session.exec(select(Meeting))).all()
            }
        assert {mid: after[mid] for mid in kept} == kept  # the other meetings stayed in place
        async with session_factory() as session:
            runs = (
                await session.exec(select(ScheduleRun).order_by(col(ScheduleRun.version)))
            ).all()
        assert [(r.version, r.requested, r.scheduled) for r in runs] == [(1, 3, 3), (2, 2, 2)]
        assert all(r.upper_bound >= r.scheduled and r.method in ("fast", "exact") for r in runs)
        status = await handle.query(MissionWorkflow.status)
        assert status.phase == "matchmaking"
        await keep_history(handle, "matchmaking-scheduled-and-changed")
        await handle.terminate("test over")
    assert len(mailbox.sent("agenda")) == 5  # three delegates and two hosts, once each


def _request(
    requester: uuid.UUID,
    invitee: uuid.UUID,
    *,
    priority: int = 2,
    kinds: tuple[str, str] = ("delegate", "host"),
) -> MeetingRequestInput:
    return MeetingRequestInput(
        request_id=uuid.uuid4(),
        requester_id=requester,
        requester_kind=kinds[0],
        invitee_id=invitee,
        invitee_kind=kinds[1],
        priority=priority,
    )


async def _refused(handle: WorkflowHandle, request: MeetingRequestInput) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(MissionWorkflow.request_meeting, request)
    assert isinstance(refused.value.cause, ApplicationError)
    return refused.value.cause


def _calendar(message) -> Calendar:
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "text/calendar"
    content = attachment.get_content()
    return Calendar.from_ical(content if isinstance(content, bytes) else content.encode())


async def _got(mailbox, template: str, to: str | None, count: int) -> None:
    assert len(mailbox.sent(template, to)) >= count
