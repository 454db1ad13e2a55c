"""Preference lists on the time-skipping server: marks taken only while the lists are open (to
the second), set, changed and cleared; at `preferences_deadline` a mutual wish becomes an
accepted meeting placed in the schedule, a one-sided wish a request its invitee is emailed about
and answers, and a wish to someone who said no_thanks a quiet request (no email, no reminder)
never placed."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select
from support import eventually
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from test_matchmaking_flow import HOSTS, event_mission
from test_mission_walk import sleep_until
from test_selection_review import apply

from api.missions import start_mission
from missionflow.domain.matchmaking.messages import HostBatch, MeetingAnswerInput
from missionflow.domain.matchmaking.preferences import PreferenceMarkInput, PreferenceReceipt
from missionflow.domain.refusals import CONFLICT, INVALID
from missionflow.domain.selection.messages import SeatAnswer
from missionflow.runtime.models import Host, Meeting, PreferenceMark
from workflows.mission import MissionWorkflow


async def test_wishes_become_meetings_and_requests_at_the_lists_deadline(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    plain = event_mission(now)
    assert plain.matchmaking is not None
    event = plain.matchmaking.model_copy(update={"preferences_deadline": now + timedelta(days=6)})
    mission = plain.model_copy(update={"matchmaking": event})
    assert event.preferences_deadline is not None
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        alpha, beta, gamma = [
            await apply(handle, f"{name} Cluster", country)
            for name, country in (("Alpha", "DE"), ("Beta", "FR"), ("Gamma", "IT"))
        ]
        await sleep_until(time_env, mission.selection.decision_due + timedelta(hours=1))
        for delegate in (alpha, beta, gamma):
            await handle.execute_update(
                MissionWorkflow.answer_seat, SeatAnswer(application_id=delegate, accept=True)
            )
        await handle.execute_update(MissionWorkflow.add_hosts, HostBatch(hosts=HOSTS))
        async with session_factory() as session:
            hosts = {h.name: h.id for h in (await session.exec(select(Host))).all()}
        nanofab, energy = hosts["Boston Nanofab"], hosts["Philly Energy Labs"]

        await sleep_until(time_env, event.requests_open_at - timedelta(seconds=1))
        early = await _refused(handle, alpha, nanofab, "must_meet")
        assert early.type == CONFLICT and early.message.startswith("Preference lists open on ")

        await sleep_until(time_env, event.requests_open_at)
        await _mark(handle, alpha, nanofab, "must_meet")  # mutual: accepted, priority 3
        await _mark(handle, nanofab, alpha, "would_like")
        await _mark(handle, beta, energy, "must_meet")  # one-sided: a request to Energy Labs
        assert (await _mark(handle, beta, energy, "would_like")).changed  # changed its mind
        same = await _mark(handle, beta, energy, "would_like")
        assert not same.changed and same.mark == "would_like"
        await _mark(handle, gamma, nanofab, "must_meet")  # Nanofab said no thanks
        await _mark(handle, nanofab, gamma, "no_thanks")
        await _mark(handle, energy, alpha, "no_thanks")  # no wish at all: nothing
        await _mark(handle, alpha, energy, "would_like")
        cleared = await _mark(handle, alpha, energy, None)  # cleared: Alpha has no wish
        assert cleared.mark is None and cleared.changed
        wrong = await _refused(handle, alpha, beta, "would_like")
        assert wrong.type == INVALID and wrong.details == ("other_id",)
        async with session_factory() as session:
            marks = (await session.exec(select(PreferenceMark))).all()
            assert len(marks) == 6
            assert (await session.exec(select(Meeting))).all() == []  # nothing before the close

        await sleep_until(time_env, event.preferences_deadline - timedelta(seconds=1))
        await _mark(handle, gamma, energy, "would_like")  # the last second still counts
        await sleep_until(time_env, event.preferences_deadline)
        late = await _refused(handle, gamma, energy, "must_meet")
        assert late.type == CONFLICT and late.message.startswith("Preference lists closed on ")

        await eventually(lambda: _count(mailbox, "meeting_request", "paul@", 2))
        meetings = await _meetings(session_factory)
        assert set(meetings) == {
            (alpha, nanofab),
            (beta, energy),
            (gamma, nanofab),
            (gamma, energy),
        }
        mutual = meetings[(alpha, nanofab)]
        assert (mutual.status, mutual.priority, mutual.requester_id) == ("accepted", 3, alpha)
        assert (meetings[(beta, energy)].status, meetings[(beta, energy)].priority) == (
            "pending",
            2,
        )
        assert meetings[(gamma, nanofab)].status == "pending"
        assert meetings[(gamma, nanofab)].requester_id == gamma
        # Energy Labs is asked twice (Beta, Gamma); Nanofab is told nothing of Gamma's wish.
        assert len(mailbox.sent("meeting_request", "paul@")) == 2
        assert mailbox.sent("meeting_request", "hope@") == []
        assert mailbox.sent("meeting_request", "cluster@") == []  # no delegate is asked

        await handle.execute_update(
            MissionWorkflow.answer_meeting,
            MeetingAnswerInput(
                meeting_id=meetings[(beta, energy)].id, participant_id=energy, action="accept"
            ),
        )
        await eventually(lambda: _count(mailbox, "meeting_answer", "beta.cluster@", 1))

        # The day-before reminder: Energy Labs of Gamma's request, Nanofab of nothing.
        await sleep_until(time_env, event.requests_deadline - timedelta(hours=23))
        await eventually(lambda: _count(mailbox, "matchmaking_reminder", "paul@", 1))
        assert mailbox.sent("matchmaking_reminder", "hope@") == []

        await sleep_until(time_env, event.requests_deadline + timedelta(minutes=5))
        await eventually(lambda: _count(mailbox, "agenda", None, 5))
        meetings = await _meetings(session_factory)
        assert meetings[(alpha, nanofab)].slot_id is not None  # the mutual wish is placed
        assert meetings[(beta, energy)].slot_id is not None  # the answered request too
        assert meetings[(gamma, nanofab)].slot_id is None  # no thanks: never placed
        assert meetings[(gamma, energy)].slot_id is None  # unanswered
        agendas = {str(m["To"].addresses[0].addr_spec) for m in mailbox.sent("agenda")}
        assert agendas == {
            "alpha.cluster@example.org",
            "beta.cluster@example.org",
            "gamma.cluster@example.org",  # an agenda without meetings
            "hope@nanofab.example.com",
            "paul@energylabs.example.com",
        }
        for message in mailbox.messages:  # no email to anyone says what was marked
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    text = part.get_content().casefold()
                    assert "no_thanks" not in text and "no thanks" not in text
        await handle.terminate("test over")


async def _mark(
    handle: WorkflowHandle, by: uuid.UUID, on: uuid.UUID, mark: str | None
) -> PreferenceReceipt:
    return await handle.execute_update(
        MissionWorkflow.mark_preference,
        PreferenceMarkInput(participant_id=by, other_id=on, mark=mark),  # type: ignore[arg-type]
    )


async def _refused(
    handle: WorkflowHandle, by: uuid.UUID, on: uuid.UUID, mark: str
) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _mark(handle, by, on, mark)
    assert isinstance(refused.value.cause, ApplicationError)
    return refused.value.cause


async def _meetings(session_factory) -> dict[tuple[uuid.UUID, uuid.UUID], Meeting]:
    """By (delegate, host)."""
    async with session_factory() as session:
        rows = (await session.exec(select(Meeting))).all()
    return {
        (m.requester_id, m.invitee_id)
        if m.requester_kind == "delegate"
        else (m.invitee_id, m.requester_id): m
        for m in rows
    }


async def _count(mailbox, template: str, to: str | None, count: int) -> None:
    assert len(mailbox.sent(template, to)) >= count
