"""The selection phase on the time-skipping server: the proposal at the deadline, the review
reminders until approval, overrides refused and accepted, approval and every applicant's email."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select
from support import eventually, keep_history, rehearsal
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from test_mission_walk import sleep_until

from api.missions import start_mission
from missionflow.domain.call.applications import ApplicationForm
from missionflow.domain.call.messages import ApplicationSubmission, ApplicationSubmissions
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.refusals import CONFLICT, INVALID
from missionflow.domain.selection.messages import SelectionOverride, SelectionRequest
from missionflow.runtime.models import SelectionDecision, SelectionEvent
from workflows.mission import MissionWorkflow

COMPLETE = {
    "member_organisations": 80,
    "management_label": "Gold",
    "mission_objectives": "Partners in Boston",
}
COORDINATOR = "coordinator@example.org"


def small_mission(now: Any, **selection: Any) -> MissionFile:
    """Two seats, one per country, a waitlist of two; days between the instants."""
    document = rehearsal(matchmaking=None, visits=[])
    document["call"].update(deadline="+P1D", reminders=[])
    document["call"]["invitees"] = []
    document["selection"].update(
        capacity=2,
        max_per_country=1,
        waitlist_size=2,
        decision_due="+P2D",
        delegation_lock="+P20D",
        confirm_within="P5D",
        auto_approve=False,
    )
    document["selection"].update(selection)
    document["reporting"].update(report_due="+P30D", follow_up=[])
    return load_mission(document, now=now, live=True)


async def apply(handle: WorkflowHandle, name: str, country: str, **changes: Any) -> uuid.UUID:
    application_id = uuid.uuid4()
    form = ApplicationForm.model_validate(
        {
            "organisation": name,
            "organisation_type": "cluster_organisation",
            "country": country,
            "city": "Somewhere",
            "contact_name": f"Contact of {name}",
            "contact_email": f"{name.lower().replace(' ', '.')}@example.org",
            "sectors": ["Advanced materials"],
            "answers": COMPLETE,
            "consent": True,
            **changes,
        }
    )
    await handle.execute_update(
        MissionWorkflow.submit_applications,
        ApplicationSubmissions(
            submissions=[ApplicationSubmission(application_id=application_id, form=form)]
        ),
    )
    return application_id


async def five_applicants(handle: WorkflowHandle) -> dict[str, uuid.UUID]:
    return {
        "alpha": await apply(handle, "Alpha Cluster", "DE"),
        "beta": await apply(handle, "Beta Cluster", "DE"),
        "gamma": await apply(
            handle, "Gamma Cluster", "FR", answers={**COMPLETE, "member_organisations": 10}
        ),
        "delta": await apply(
            handle, "Delta Cluster", "IT", answers={**COMPLETE, "member_organisations": 5}
        ),
        "late": await apply(handle, "Incomplete Cluster", "ES", answers={}),
    }


async def test_proposal_reminders_overrides_and_approval(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission = small_mission(now)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        ids = await five_applicants(handle)
        await sleep_until(time_env, mission.call.deadline + timedelta(hours=1))
        await eventually(lambda: _got(mailbox, "selection_review", COORDINATOR, 1))
        status = await handle.query(MissionWorkflow.status)
        assert status.phase == "selection"
        assert status.waiting_for.startswith("Selection: waiting for the coordinators' approval")

        async with session_factory() as session:
            rows = {
                row.application_id: row
                for row in (await session.exec(select(SelectionDecision))).all()
            }
        assert rows[ids["late"]].decision == "not_eligible"
        selected = {key for key, aid in ids.items() if rows[aid].decision == "selected"}
        assert len(selected) == 2 and not {"alpha", "beta"} <= selected  # one per country

        # Reminded at the due time and every two days after, until approval.
        await sleep_until(time_env, mission.selection.decision_due + timedelta(days=4, hours=1))
        await eventually(lambda: _got(mailbox, "selection_review", COORDINATOR, 4))
        reminders = mailbox.sent("selection_review", COORDINATOR)[1:]
        assert all(m["Auto-Submitted"] == "auto-generated" for m in reminders)
        assert (await handle.query(MissionWorkflow.status)).phase == "selection"

        both_germans = [
            _override(ids["alpha"], "selected", "DE", rows[ids["alpha"]]),
            _override(ids["beta"], "selected", "DE", rows[ids["beta"]]),
        ]
        refusal = await _refused(handle, SelectionRequest(overrides=both_germans, approve=True))
        assert refusal.type == INVALID and "Germany" in refusal.message
        no_reason = _override(ids["delta"], "selected", "IT", rows[ids["delta"]], reason=" ")
        refusal = await _refused(handle, SelectionRequest(overrides=[no_reason]))
        assert refusal.type == INVALID and refusal.details == ("overrides.0.reason",)

        germans_out = [
            _override(aid, "not_selected", "DE", rows[aid], reason="Budget for one region only")
            for aid in (ids["alpha"], ids["beta"])
        ]
        await handle.execute_update(
            MissionWorkflow.review_selection,
            SelectionRequest(overrides=germans_out, by="Anna Verbeke"),
        )
        view = await handle.execute_update(
            MissionWorkflow.review_selection,
            SelectionRequest(
                overrides=[
                    _override(ids["gamma"], "selected", "FR", rows[ids["gamma"]], reason="Fit"),
                    _override(ids["delta"], "selected", "IT", rows[ids["delta"]], reason="Fit"),
                ],
                approve=True,
                by="Anna Verbeke",
            ),
        )
        assert view.approved and view.selected == 2
        again = await _refused(handle, SelectionRequest(approve=True))
        assert again.type == CONFLICT and again.message == "The delegation is already approved."

        await eventually(lambda: _got(mailbox, "selected", "delta.cluster@example.org", 1))
        await eventually(lambda: _got(mailbox, "not_selected", "incomplete.cluster@", 1))
        status = await handle.query(MissionWorkflow.status)
        assert status.phase == "confirmation"
        await keep_history(handle, "selection-approved")
        await handle.terminate("test over")

    assert {_to(m) for m in mailbox.sent("selected")} == {
        "gamma.cluster@example.org",
        "delta.cluster@example.org",
    }
    assert {_to(m) for m in mailbox.sent("not_selected")} == {
        "alpha.cluster@example.org",
        "beta.cluster@example.org",
        "incomplete.cluster@example.org",
    }
    assert not mailbox.sent("waitlisted")
    incomplete = mailbox.sent("not_selected", "incomplete.cluster@")[0]
    assert "incomplete" in incomplete.get_body(("plain",)).get_content()
    async with session_factory() as session:
        events = (await session.exec(select(SelectionEvent).order_by(col(SelectionEvent.at)))).all()
        final = {
            row.application_id: row.decision
            for row in (await session.exec(select(SelectionDecision))).all()
        }
    assert [e.action for e in events] == ["proposed", *["overridden"] * 4, "approved"]
    overridden = [e for e in events if e.action == "overridden"]
    assert {e.reason for e in overridden} == {"Budget for one region only", "Fit"}
    assert all(e.by == "Anna Verbeke" for e in overridden)
    assert final[ids["alpha"]] == final[ids["beta"]] == "not_selected"
    assert final[ids["gamma"]] == final[ids["delta"]] == "selected"
    assert final[ids["late"]] == "not_eligible"


async def test_auto_approval_at_the_due_time_without_reminders(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission = small_mission(now, auto_approve=True)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        await five_applicants(handle)
        await sleep_until(time_env, mission.selection.decision_due + timedelta(hours=1))
        await eventually(lambda: _got(mailbox, "selected", None, 2))
        status = await handle.query(MissionWorkflow.status)
        assert status.phase == "confirmation"
        assert status.phases[-1].at == mission.selection.decision_due
        await handle.terminate("test over")
    assert len(mailbox.sent("selection_review", COORDINATOR)) == 1  # the proposal, no reminder
    assert len(mailbox.sent("waitlisted")) == 2


def _override(
    application_id: uuid.UUID,
    decision: str,
    country: str,
    row: SelectionDecision,
    *,
    reason: str = "Coordinators' choice",
) -> SelectionOverride:
    return SelectionOverride(
        application_id=application_id,
        decision=decision,
        reason=reason,
        country=country,
        sector="Advanced materials",
        rank=row.rank,
        score=row.score,
    )


async def _refused(handle: WorkflowHandle, request: SelectionRequest) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(MissionWorkflow.review_selection, request)
    assert isinstance(refused.value.cause, ApplicationError)
    return refused.value.cause


async def _got(mailbox, template: str, to: str | None, count: int) -> None:
    assert len(mailbox.sent(template, to)) >= count


def _to(message) -> str:
    return message["To"].addresses[0].addr_spec
