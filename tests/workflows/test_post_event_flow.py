"""After the event on the time-skipping server: feedback requested when the last visit ends,
one reminder, the report at the close and again after late feedback, follow-up surveys months
later, and the final report when the mission completes."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select
from support import eventually, keep_history, rehearsal
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from test_matchmaking_flow import _got
from test_mission_walk import sleep_until
from test_selection_review import apply

from api.missions import give_feedback, start_mission
from missionflow.domain.mission import lifecycle
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.refusals import CONFLICT, saying
from missionflow.domain.reporting.messages import FeedbackInput, FollowUpInput
from missionflow.domain.selection.messages import SeatAnswer
from missionflow.runtime.models import Feedback, Report
from workflows.mission import MissionWorkflow
from workflows.reporting import FEEDBACK_OPENS

PRAISE = "The visits opened doors we had knocked on for years."
PRIVATE = "Off the record: the hotel was dreadful."


def reporting_mission(now: Any, **sections: Any) -> MissionFile:
    document = rehearsal(matchmaking=None, **sections)
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
    document["visits"][0].update(starts_at="+P8D", ends_at="+P8DT6H")
    document["visits"][1].update(starts_at="+P9D", ends_at="+P9DT6H")
    document["reporting"].update(
        feedback_within="P4D", report_due="+P20D", follow_up=["P3M", "P6M"], survey_within="P1M"
    )
    return load_mission(document, now=now, live=True)


async def test_feedback_report_and_follow_up(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission = reporting_mission(now)
    coordinators = len(mission.coordinators)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        alpha, beta = [
            await apply(handle, f"{name} Cluster", country)
            for name, country in (("Alpha", "DE"), ("Beta", "FR"))
        ]
        await sleep_until(time_env, mission.selection.decision_due + timedelta(hours=1))
        for delegate in (alpha, beta):
            await handle.execute_update(
                MissionWorkflow.answer_seat, SeatAnswer(application_id=delegate, accept=True)
            )
        early = await _refused(handle, _feedback(alpha, PRAISE, consent=True))
        assert early.type == CONFLICT and early.message.startswith("Feedback opens on ")
        # Said again in words a page translates, the instant kept whole for the reader's zone.
        assert early.details[1] == saying(FEEDBACK_OPENS, at=mission.event_ends_at)

        await sleep_until(time_env, mission.event_ends_at + timedelta(minutes=1))
        await eventually(lambda: _got(mailbox, "feedback_request", None, 2))
        receipt = await handle.execute_update(
            MissionWorkflow.give_feedback, _feedback(alpha, PRAISE, consent=True)
        )
        assert receipt.changed and not receipt.late

        reminder_at = lifecycle.feedback_reminder_at(mission)
        await sleep_until(time_env, reminder_at - timedelta(seconds=1))
        assert _reminders(mailbox) == []
        await sleep_until(time_env, reminder_at + timedelta(minutes=1))
        await eventually(lambda: _assert(_reminders(mailbox) == ["beta.cluster@example.org"]))

        # The feedback closes: the report is produced and sent with its PDF.
        await sleep_until(time_env, mission.feedback_closes_at + timedelta(minutes=1))
        await eventually(lambda: _got(mailbox, "report_ready", None, coordinators))
        ready = mailbox.sent("report_ready")[0]
        attached = {a.get_filename(): a for a in ready.iter_attachments()}
        pdf = next(a for name, a in attached.items() if name and name.endswith(".pdf"))
        assert pdf.get_content().startswith(b"%PDF")
        assert any(name and name.endswith(".md") for name in attached)

        # Late feedback is welcome: marked late, and the report is produced again, not re-sent.
        late = await handle.execute_update(
            MissionWorkflow.give_feedback, _feedback(beta, PRIVATE, consent=False)
        )
        assert late.late
        status = await handle.query(MissionWorkflow.status)
        assert "answers arrived after report version 1" in status.waiting_for
        # Answers are gathered for an hour, then the report is produced once for all of them.
        await time_env.sleep(lifecycle.REPORT_REFRESH + timedelta(minutes=1))
        latest = await eventually(lambda: _report(session_factory, mission.id, 2))
        assert PRAISE in latest.html and PRIVATE not in latest.html
        assert PRIVATE not in latest.article and PRIVATE not in latest.csv
        assert len(mailbox.sent("report_ready")) == coordinators
        async with session_factory() as session:
            rows = (await session.exec(select(Feedback))).all()
        assert {(r.respondent_id, r.late) for r in rows} == {(alpha, False), (beta, True)}

        # Months later: the surveys, one at a time.
        not_yet = await _refused(handle, FollowUpInput(application_id=alpha, survey=1))
        assert not_yet.type == CONFLICT and "opens on" in not_yet.message
        first, second = lifecycle.follow_ups(mission)
        await sleep_until(time_env, first + timedelta(hours=1))
        await eventually(lambda: _got(mailbox, "follow_up_survey", None, 2))
        await handle.execute_update(
            MissionWorkflow.answer_follow_up,
            FollowUpInput(application_id=alpha, survey=1, agreements=2, mous=1),
        )
        await handle.execute_update(
            MissionWorkflow.answer_follow_up,
            FollowUpInput(application_id=beta, survey=1, revisits=1),
        )
        too_soon = await _refused(handle, FollowUpInput(application_id=alpha, survey=2))
        assert too_soon.type == CONFLICT
        await time_env.sleep(lifecycle.REPORT_REFRESH + timedelta(minutes=1))
        third = await eventually(lambda: _report(session_factory, mission.id, 3))
        assert third.figures["follow_up"] != latest.figures["follow_up"]
        assert third.figures != latest.figures

        await sleep_until(time_env, second + timedelta(hours=1))
        await eventually(lambda: _got(mailbox, "follow_up_survey", None, 4))
        outcome = await handle.result()
        assert outcome.phase == "completed"
        assert outcome.ended_at == lifecycle.surveys_close_at(mission)
        await eventually(lambda: _got(mailbox, "report_ready", None, 2 * coordinators))
        final = await _report(session_factory, mission.id, 4)
        assert "complete" in final.reason.lower()
        await keep_history(handle, "post-event-report-and-follow-up")


async def test_feedback_goes_on_when_temporal_suggests_continuing_as_new(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    """Past 4,096 events Temporal suggests continuing as new. In the quiet of the feedback
    phase, refusing Updates for that stalled the mission: a refused Update leaves nothing in
    history, so the SDK re-checks no wait condition after one, and the main loop, which
    continues as new, never woke (`simulate` hung so). Every answer is taken, and the run hands
    over to the next."""
    now = await time_env.get_current_time()
    mission = reporting_mission(now)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        alpha = await apply(handle, "Alpha Cluster", "DE")
        await sleep_until(time_env, mission.selection.decision_due + timedelta(hours=1))
        await handle.execute_update(
            MissionWorkflow.answer_seat, SeatAnswer(application_id=alpha, accept=True)
        )
        await sleep_until(time_env, mission.event_ends_at + timedelta(minutes=1))
        await eventually(lambda: _got(mailbox, "feedback_request", None, 1))
        first_run = (await handle.describe()).run_id
        answers = 0
        while (await handle.describe()).run_id == first_run:
            for _ in range(50):  # one by one, each answered before the next is sent
                answers += 1
                answer = _feedback(alpha, f"Answer {answers}", consent=True)
                receipt = await asyncio.wait_for(
                    give_feedback(time_env.client, mission.id, answer), timeout=30
                )
                assert receipt.changed
            assert answers < 3000, "the run never continued as new"
        status = await handle.query(MissionWorkflow.status)
        assert status.phase == "reporting"
        await handle.terminate("test over")
    first = time_env.client.get_workflow_handle(mission.workflow_id, run_id=first_run)
    events = [event async for event in first.fetch_history_events()]
    assert events[-1].event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
    assert len(events) > 4096
    async with session_factory() as session:
        (row,) = (await session.exec(select(Feedback))).all()
    assert row.testimonial == f"Answer {answers}"


def _feedback(who: Any, testimonial: str, *, consent: bool) -> FeedbackInput:
    return FeedbackInput(
        respondent_id=who,
        respondent_kind="delegate",
        rating_visits=5,
        rating_organisation=4,
        met_partners=True,
        testimonial=testimonial,
        consent_to_publish=consent,
    )


async def _refused(handle: Any, request: FeedbackInput | FollowUpInput) -> ApplicationError:
    update = (
        MissionWorkflow.give_feedback
        if isinstance(request, FeedbackInput)
        else MissionWorkflow.answer_follow_up
    )
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(update, request)
    assert isinstance(refused.value.cause, ApplicationError)
    return refused.value.cause


def _reminders(mailbox) -> list[str]:
    return [
        m["To"].addresses[0].addr_spec
        for m in mailbox.sent("feedback_request")
        if m["Auto-Submitted"] == "auto-generated"
    ]


async def _report(session_factory, mission_id: str, version: int) -> Report:
    async with session_factory() as session:
        rows = (
            await session.exec(
                select(Report)
                .where(Report.mission_id == mission_id)
                .order_by(col(Report.version).desc())
            )
        ).all()
    assert rows and rows[0].version >= version
    return next(r for r in rows if r.version == version)


async def _assert(condition: bool) -> None:
    assert condition
