"""Unanswered meeting requests expire and participants with no meeting are nudged
(`request_expiry`, `nudge_every`), on the time-skipping server: the expired request is never
scheduled, both sides hear of it exactly once, an answer after its time is refused, it may be
asked anew; each round nudges exactly those with no accepted meeting, once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlmodel import select
from support import eventually, keep_history
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from test_matchmaking_flow import HOSTS, _got, _request, event_mission
from test_mission_walk import sleep_until
from test_selection_review import apply

from api.missions import start_mission
from missionflow.domain.matchmaking import request_policy
from missionflow.domain.matchmaking.messages import HostBatch, MeetingAnswerInput
from missionflow.domain.matchmaking.preferences import PreferenceMarkInput
from missionflow.domain.refusals import CONFLICT
from missionflow.domain.selection.messages import SeatAnswer
from missionflow.runtime.models import Host, Meeting, ScheduleRun
from workflows.mission import MissionWorkflow

GAMMA_HOST = {**HOSTS[1], "name": "Gamma Host Labs", "contact_email": "gina@gammahost.example.com"}


async def test_unanswered_requests_expire_and_those_without_a_meeting_are_nudged(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission = event_mission(now, request_expiry="P1D", nudge_every="P1D")
    event = mission.matchmaking
    assert event is not None
    rounds = request_policy.nudge_rounds(event)
    assert len(rounds) == 2  # open + 1 day, open + 2 days; open + 3 days is after the close
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
        await handle.execute_update(
            MissionWorkflow.add_hosts, HostBatch(hosts=[HOSTS[0], HOSTS[1], GAMMA_HOST])
        )
        async with session_factory() as session:
            hosts = {h.name: h.id for h in (await session.exec(select(Host))).all()}
        nanofab, energy = hosts["Boston Nanofab"], hosts["Philly Energy Labs"]
        gamma_host = hosts["Gamma Host Labs"]

        await sleep_until(time_env, event.requests_open_at + timedelta(minutes=1))
        accepted = await handle.execute_update(
            MissionWorkflow.request_meeting, _request(alpha, nanofab)
        )
        await _answer(handle, accepted.meeting_id, nanofab, "accept")
        lapsing = await handle.execute_update(
            MissionWorkflow.request_meeting, _request(beta, energy)
        )
        unswept = await handle.execute_update(
            MissionWorkflow.request_meeting, _request(gamma, gamma_host)
        )
        assert lapsing.status == unswept.status == "pending"
        expires = event.requests_open_at + timedelta(days=1, minutes=1)

        # Round 1, a minute before Beta's request expires: Beta, Gamma, Energy Labs and Gamma
        # Host Labs have no accepted meeting; Alpha and Nanofab have one.
        await sleep_until(time_env, rounds[0] + timedelta(seconds=30))
        await eventually(lambda: _got(mailbox, "matchmaking_nudge", None, 4))
        nudged = sorted(m["To"].addresses[0].addr_spec for m in mailbox.sent("matchmaking_nudge"))
        assert nudged == [
            "beta.cluster@example.org",
            "gamma.cluster@example.org",
            "gina@gammahost.example.com",
            "paul@energylabs.example.com",
        ]
        paul = mailbox.sent("matchmaking_nudge", "paul@")[0].get_body(("plain",)).get_content()
        assert "One request waits for your answer" in paul
        assert mailbox.sent("meeting_expired") == []

        async def waiting_for_the_sweep() -> None:
            status = await handle.query(MissionWorkflow.status)
            assert status.waiting_for.startswith(
                "Matchmaking: waiting until the next sweep of expired meeting requests, "
            ), status.waiting_for

        await eventually(waiting_for_the_sweep)

        # Past its time but before the sweep: the answer is refused, nothing changes.
        await sleep_until(time_env, expires + timedelta(seconds=1))
        late = await _refused_answer(handle, lapsing.meeting_id, energy, "accept")
        assert late.startswith("This meeting request expired on ")
        # The other side asking then is no acceptance: the request expires at once, both sides
        # told, and theirs is a new one (which Gamma declines).
        asked_back = await handle.execute_update(
            MissionWorkflow.request_meeting,
            _request(gamma_host, gamma, kinds=("host", "delegate")),
        )
        assert asked_back.status == "pending" and asked_back.meeting_id != unswept.meeting_id
        await eventually(lambda: _got(mailbox, "meeting_expired", "gina@", 1))
        await eventually(lambda: _got(mailbox, "meeting_expired", "gamma.cluster@", 1))
        await _answer(handle, asked_back.meeting_id, gamma, "decline")
        await sleep_until(time_env, request_policy.sweep_at(expires) + timedelta(seconds=1))
        await eventually(lambda: _got(mailbox, "meeting_expired", None, 4))
        (told_beta,) = mailbox.sent("meeting_expired", "beta.cluster@")
        (told_paul,) = mailbox.sent("meeting_expired", "paul@")
        assert "your meeting request expired" in told_beta["Subject"]
        assert "has lapsed" in told_paul["Subject"]
        async with session_factory() as session:
            row = await session.get(Meeting, lapsing.meeting_id)
            assert row is not None and row.status == "expired"

        # Asked anew after it expired: a new request, which Energy Labs declines; Gamma and
        # Energy Labs meet.
        again = await handle.execute_update(MissionWorkflow.request_meeting, _request(beta, energy))
        assert again.status == "pending" and again.meeting_id != lapsing.meeting_id
        await _answer(handle, again.meeting_id, energy, "decline")
        met = await handle.execute_update(MissionWorkflow.request_meeting, _request(gamma, energy))
        await _answer(handle, met.meeting_id, energy, "accept")

        # Round 2: only Beta and Gamma Host Labs are still without a meeting.
        await sleep_until(time_env, rounds[1] + timedelta(seconds=30))
        await eventually(lambda: _got(mailbox, "matchmaking_nudge", None, 6))

        await sleep_until(time_env, event.requests_deadline + timedelta(minutes=5))
        await eventually(lambda: _got(mailbox, "agenda", None, 4))
        async with session_factory() as session:
            runs = (await session.exec(select(ScheduleRun))).all()
            meetings = {m.id: m for m in (await session.exec(select(Meeting))).all()}
        assert [(r.requested, r.scheduled) for r in runs] == [(2, 2)]
        assert lapsing.meeting_id not in meetings  # replaced by the request asked anew
        placed = {m.id for m in meetings.values() if m.slot_id is not None}
        assert placed == {accepted.meeting_id, met.meeting_id}
        assert meetings[again.meeting_id].status == "declined"
        await keep_history(handle, "requests-expired-and-nudged")
        await handle.terminate("test over")
    per_person = {
        to: len(mailbox.sent("matchmaking_nudge", to))
        for to in ("alpha.", "beta.", "gamma.cluster", "gina@", "paul@", "hope@")
    }
    assert per_person == {
        "alpha.": 0,
        "beta.": 2,
        "gamma.cluster": 1,
        "gina@": 2,
        "paul@": 1,
        "hope@": 0,
    }
    expired = sorted(m["To"].addresses[0].addr_spec for m in mailbox.sent("meeting_expired"))
    assert expired == [  # one each, never again
        "beta.cluster@example.org",
        "gamma.cluster@example.org",
        "gina@gammahost.example.com",
        "paul@energylabs.example.com",
    ]


async def _answer(
    handle: WorkflowHandle, meeting_id: uuid.UUID, participant: uuid.UUID, action: str
) -> None:
    await handle.execute_update(
        MissionWorkflow.answer_meeting,
        MeetingAnswerInput(meeting_id=meeting_id, participant_id=participant, action=action),
    )


async def _refused_answer(
    handle: WorkflowHandle, meeting_id: uuid.UUID, participant: uuid.UUID, action: str
) -> str:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await _answer(handle, meeting_id, participant, action)
    assert isinstance(refused.value.cause, ApplicationError)
    assert refused.value.cause.type == CONFLICT
    return refused.value.cause.message


async def test_requests_made_by_the_preference_lists_expire_too_quiet_ones_unshown(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission = event_mission(now, request_expiry="P1D", preferences_deadline="+P6D")
    event = mission.matchmaking
    assert event is not None and event.preferences_deadline is not None
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        alpha = await apply(handle, "Alpha Cluster", "DE")
        await sleep_until(time_env, mission.selection.decision_due + timedelta(hours=1))
        await handle.execute_update(
            MissionWorkflow.answer_seat, SeatAnswer(application_id=alpha, accept=True)
        )
        await handle.execute_update(MissionWorkflow.add_hosts, HostBatch(hosts=HOSTS))
        async with session_factory() as session:
            hosts = {h.name: h.id for h in (await session.exec(select(Host))).all()}
        nanofab, energy = hosts["Boston Nanofab"], hosts["Philly Energy Labs"]
        await sleep_until(time_env, event.requests_open_at + timedelta(minutes=1))
        # Nanofab said no_thanks to Alpha: Alpha's wish is a quiet request, never shown to it.
        for by, on, mark in (
            (alpha, nanofab, "would_like"),
            (alpha, energy, "would_like"),
            (nanofab, alpha, "no_thanks"),
        ):
            await handle.execute_update(
                MissionWorkflow.mark_preference,
                PreferenceMarkInput(participant_id=by, other_id=on, mark=mark),
            )
        # The lists become a request at their deadline; no request Update plans the sweep.
        expires = event.preferences_deadline + timedelta(days=1)
        await sleep_until(time_env, request_policy.sweep_at(expires) + timedelta(minutes=1))
        await eventually(lambda: _got(mailbox, "meeting_expired", None, 3))
        async with session_factory() as session:
            meetings = (await session.exec(select(Meeting))).all()
        assert {(m.requester_id, m.status) for m in meetings} == {(alpha, "expired")}
        assert len(meetings) == 2
        told = sorted(m["To"].addresses[0].addr_spec for m in mailbox.sent("meeting_expired"))
        assert told == [
            "alpha.cluster@example.org",
            "alpha.cluster@example.org",
            "paul@energylabs.example.com",
        ]
        for template in ("meeting_request", "meeting_expired"):  # never shown to Nanofab
            assert mailbox.sent(template, "hope@") == []
        await handle.terminate("test over")
