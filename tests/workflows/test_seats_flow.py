"""Seats on the time-skipping server: offers, confirmations, declines at the same instant, a
silence past the window, a confirmation racing a withdrawal, promotions from the waitlist in
quota order, and the final delegation at the lock."""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from datetime import timedelta

import pytest
from sqlmodel import select
from support import eventually, keep_history
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment
from test_mission_walk import sleep_until
from test_selection_review import COORDINATOR, apply, small_mission

from api.missions import start_mission
from missionflow.domain.call.messages import ApplicationWithdrawal
from missionflow.domain.selection.messages import SeatAnswer, SelectionRequest
from missionflow.runtime.models import SelectionDecision, SelectionEvent
from workflows.mission import MissionWorkflow

APPLICANTS = [
    ("Alpha", "DE"),
    ("Beta", "DE"),
    ("Gamma", "FR"),
    ("Delta", "IT"),
    ("Epsilon", "ES"),
    ("Zeta", "PL"),
    ("Eta", "NL"),
]


async def test_declines_silence_and_withdrawal_promote_the_waitlist_until_the_lock(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission = small_mission(now, capacity=3, waitlist_size=4)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        ids = {}
        for name, country in APPLICANTS:  # equal scores: ranked by submission
            ids[name] = await apply(handle, f"{name} Cluster", country)
            await time_env.sleep(timedelta(seconds=1))
        await sleep_until(time_env, mission.call.deadline + timedelta(hours=1))
        await eventually(lambda: _got(mailbox, "selection_review", COORDINATOR, 1))
        await handle.execute_update(
            MissionWorkflow.review_selection, SelectionRequest(approve=True, by="Anna")
        )
        approved_at = await time_env.get_current_time()
        await eventually(lambda: _got(mailbox, "selected", None, 3))
        await eventually(lambda: _got(mailbox, "waitlisted", None, 4))
        assert {_to(m) for m in mailbox.sent("selected")} == _emails("Alpha", "Gamma", "Delta")
        assert {_to(m) for m in mailbox.sent("waitlisted")} == _emails(
            "Beta", "Epsilon", "Zeta", "Eta"
        )

        alpha = await _answer(handle, ids["Alpha"], accept=True)
        assert alpha.state == "confirmed"
        # The window runs five days from the approval (read just after it returned).
        assert (
            timedelta(0)
            <= approved_at + timedelta(days=5) - alpha.respond_by
            < timedelta(seconds=5)
        )
        # Two declines in the same instant promote two different applicants; Beta (Germany)
        # ranks first on the waitlist but Alpha holds Germany's one seat.
        await asyncio.gather(
            _answer(handle, ids["Gamma"], accept=False), _answer(handle, ids["Delta"], accept=False)
        )
        await eventually(lambda: _got(mailbox, "waitlist_promoted", None, 2))
        assert {_to(m) for m in mailbox.sent("waitlist_promoted")} == _emails("Epsilon", "Zeta")
        promoted_at = await time_env.get_current_time()

        # Reminded a day before the window ends; Zeta confirms, Epsilon stays silent.
        await sleep_until(time_env, promoted_at + timedelta(days=4, hours=1))
        await eventually(lambda: _got(mailbox, "seat_reminder", None, 2))
        await _answer(handle, ids["Zeta"], accept=True)
        await sleep_until(time_env, promoted_at + timedelta(days=5, hours=1))
        await eventually(lambda: _got(mailbox, "seat_released", "epsilon", 1))
        await eventually(lambda: _got(mailbox, "waitlist_promoted", "eta", 1))
        with pytest.raises(WorkflowUpdateFailedError):  # too late for Epsilon now
            await _answer(handle, ids["Epsilon"], accept=True)

        # Eta confirms and withdraws in the same instant: one consistent end, seat released.
        await asyncio.gather(
            _answer(handle, ids["Eta"], accept=True),
            handle.execute_update(
                MissionWorkflow.withdraw_application,
                ApplicationWithdrawal(application_id=ids["Eta"]),
            ),
            return_exceptions=True,
        )
        status = await handle.query(MissionWorkflow.status)
        assert status.seats is not None
        assert (status.seats.confirmed, status.seats.pending, status.seats.waitlist) == (2, 0, 1)
        assert status.waiting_for.startswith("Confirmation: 2 of 3 seats confirmed, 0 offers open")

        await sleep_until(time_env, mission.selection.delegation_lock + timedelta(hours=1))
        await eventually(lambda: _got(mailbox, "delegation_final", COORDINATOR, 1))
        status = await handle.query(MissionWorkflow.status)
        assert status.phase == "reporting"
        await keep_history(handle, "seats-promoted-and-locked")
        await handle.terminate("test over")

    released = {_to(m): m for m in mailbox.sent("seat_released")}
    assert set(released) == _emails("Gamma", "Delta", "Epsilon", "Eta")
    assert "did not" in released["epsilon.cluster@example.org"].get_body(("plain",)).get_content()
    (final,) = mailbox.sent("delegation_final", COORDINATOR)
    (attachment,) = list(final.iter_attachments())
    rows = list(csv.DictReader(io.StringIO(attachment.get_content().lstrip("\ufeff"))))
    assert sorted(row["organisation"] for row in rows) == ["Alpha Cluster", "Zeta Cluster"]
    async with session_factory() as session:
        seats = {
            row.application_id: (row.seat, row.seat_note)
            for row in (await session.exec(select(SelectionDecision))).all()
        }
        actions = [e.action for e in (await session.exec(select(SelectionEvent))).all()]
    assert seats[ids["Alpha"]] == ("confirmed", None)
    assert seats[ids["Epsilon"]] == ("released", "expired")
    assert seats[ids["Eta"]] == ("released", "withdrawn")
    assert seats[ids["Beta"]] == (None, None)  # waited, never fitted the quota
    for action in (
        "approved",
        "confirmed",
        "declined",
        "promoted",
        "expired",
        "withdrawn",
        "locked",
    ):
        assert action in actions


async def _answer(handle, application_id: uuid.UUID, *, accept: bool):
    return await handle.execute_update(
        MissionWorkflow.answer_seat, SeatAnswer(application_id=application_id, accept=accept)
    )


def _emails(*names: str) -> set[str]:
    return {f"{name.lower()}.cluster@example.org" for name in names}


async def _got(mailbox, template: str, to: str | None, count: int) -> None:
    assert len(mailbox.sent(template, to)) >= count


def _to(message) -> str:
    return message["To"].addresses[0].addr_spec
