"""`privacy.retain_for` on the time-skipping server: a completed mission keeps its people's data
for two years, then erases it; the report keeps its figures as counts.

The wait is a Temporal timer like the mission's other instants, which the fault tests show
surviving a killed worker on the real server (the time-skipping server does not hand a sticky
workflow task on to a new worker, so a restart cannot be shown here)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from support import eventually, keep_history
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment
from test_matchmaking_flow import _got
from test_mission_walk import sleep_until
from test_post_event_flow import _feedback, reporting_mission
from test_selection_review import apply

from api.missions import start_mission
from missionflow.domain.erasure import ERASED, ERASED_ADDRESS
from missionflow.domain.mission import lifecycle
from missionflow.domain.selection.messages import SeatAnswer
from missionflow.runtime import audit
from missionflow.runtime.audit import AuditEntry
from missionflow.runtime.models import Application, Feedback, Mission, OutboxMessage, Report
from workflows.mission import MissionWorkflow

PRAISE = "The cluster visits in Munich changed our export plans."


async def test_two_years_after_the_end_everyones_data_is_erased_and_the_report_adds_up(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission = reporting_mission(now, privacy={"retain_for": "P2Y"})
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
        await sleep_until(time_env, mission.event_ends_at + timedelta(minutes=1))
        await eventually(lambda: _got(mailbox, "feedback_request", None, 2))
        await handle.execute_update(
            MissionWorkflow.give_feedback, _feedback(alpha, PRAISE, consent=True)
        )

        ended_at = lifecycle.surveys_close_at(mission)
        await sleep_until(time_env, ended_at + timedelta(hours=1))
        status = await handle.query(MissionWorkflow.status)
        assert status.phase == "completed"
        # The run outlives its mission, waiting on the retention timer.
        assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
        reports = await eventually(lambda: _final_reports(session_factory, mission.id))
        before = {row.version: row.figures for row in reports}
        assert any(PRAISE in row.html for row in reports)
        assert any("Alpha Cluster" in row.html for row in reports)

        erase_at = mission.privacy.erase_at(ended_at, mission.timezone)
        zone = ZoneInfo(mission.timezone)
        assert erase_at is not None
        assert erase_at.astimezone(zone).year == ended_at.astimezone(zone).year + 2
        await sleep_until(time_env, erase_at - timedelta(days=1))
        async with session_factory() as session:
            kept = await session.get(Application, alpha)
        assert kept is not None and kept.contact_email == "alpha.cluster@example.org"
        assert kept.erased_at is None

        outcome = await handle.result()  # time skips to the timer while the result is awaited
        assert await time_env.get_current_time() >= erase_at
        await keep_history(handle, "retention-erased")
    assert outcome.phase == "completed" and outcome.ended_at == ended_at

    async with session_factory() as session:
        applications = (
            await session.exec(select(Application).where(Application.mission_id == mission.id))
        ).all()
        feedback = (
            await session.exec(select(Feedback).where(Feedback.mission_id == mission.id))
        ).all()
        outbox = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.mission_id == mission.id))
        ).all()
        entries = (
            await session.exec(select(AuditEntry).where(AuditEntry.mission_id == mission.id))
        ).all()
        mission_row = await session.get(Mission, mission.id)
        after = (
            await session.exec(
                select(Report).where(Report.mission_id == mission.id).order_by(col(Report.version))
            )
        ).all()

    assert {a.id for a in applications} == {alpha, beta}
    for row in applications:
        assert row.erased_at is not None
        assert row.contact_email == ERASED_ADDRESS and row.organisation == ERASED
        assert row.country in {"DE", "FR"}  # what the figures count stays
    (answer,) = feedback
    assert answer.rating_visits == 5 and PRAISE not in (answer.testimonial or "")
    assert outbox and all(
        "example.org" not in m.recipient and PRAISE not in (m.text_body or "") for m in outbox
    )
    assert mission_row is not None and mission_row.personal_data_erased_at is not None
    (entry,) = [e for e in entries if e.action == audit.ERASED]
    assert entry.by == audit.RETENTION and "example.org" not in (entry.detail or "")

    assert {row.version for row in after} == set(before)
    for row in after:
        for text in (row.html, row.csv, row.article):
            assert PRAISE not in text and "Alpha Cluster" not in text
        assert row.pdf is None
        assert row.figures["testimonials"] == [] and row.figures["delegation"]["members"] == []
        counts = {key: row.figures[key] for key in ("applications", "selection", "feedback")}
        assert counts == {key: before[row.version][key] for key in counts}
        assert row.figures["delegation"]["size"] == before[row.version]["delegation"]["size"]
        assert "Personal data erased on" in row.html


async def _final_reports(session_factory, mission_id: str) -> list[Report]:
    async with session_factory() as session:
        rows = (await session.exec(select(Report).where(Report.mission_id == mission_id))).all()
    assert any(row.figures["final"] for row in rows), "no final report yet"
    return list(rows)
