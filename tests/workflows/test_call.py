"""The call for expression of interest on the time-skipping server: open to the second,
announced, reminded at its true instants, extended, closed with its counts, and cancelled."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from call_support import DEADLINE_2017, answer, apply, call_open, each_got, scheduled
from sqlmodel import select
from support import eu_us_later, eventually, in_year_offset, keep_history
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from test_mission_walk import sleep_until, utc

from api.missions import start_mission
from missionflow.domain.call.messages import (
    ApplicationWithdrawal,
)
from missionflow.domain.mission.messages import CancelRequest, DeadlineExtension
from missionflow.domain.refusals import CONFLICT
from missionflow.runtime.models import Slide
from workflows.mission import MissionWorkflow


async def test_the_deadline_holds_to_the_second(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue
) -> None:
    now = await time_env.get_current_time()
    mission, years = eu_us_later(now)
    deadline = in_year_offset(DEADLINE_2017, years)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        with pytest.raises(WorkflowUpdateFailedError) as early:
            await apply(handle, 0)
        assert early.value.cause.message == (  # type: ignore[union-attr]
            f"The call for expression of interest opens on 15 Feb {2017 + years} at 09:00 CET."
        )
        await sleep_until(time_env, deadline - timedelta(seconds=1))  # 23:59:59 CET
        receipt = await apply(handle, 1)
        assert receipt.changed and receipt.status == "received"
        await sleep_until(time_env, deadline)  # 24:00:00 CET
        with pytest.raises(WorkflowUpdateFailedError) as late:
            await apply(handle, 2)
        cause = late.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == CONFLICT
        assert cause.message == (
            f"The call for expression of interest closed on 22 Mar {2017 + years} at 24:00 CET."
        )
        status = await handle.query(MissionWorkflow.status)
        assert status.applications == 1
        await handle.terminate("test over")


async def test_announce_remind_close_at_the_true_instants(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission, years = eu_us_later(now)
    invitees = [str(i.email) for i in mission.call.invitees]
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        await sleep_until(time_env, in_year_offset(utc("2017-02-15T08:00:01"), years))
        await eventually(lambda: each_got(mailbox, "call_announcement", invitees))
        incomplete = await apply(handle, 1, contact_email=invitees[0])  # an invitee applies
        complete_answers = {
            q.id: answer(q.type.value, q.choices) for q in mission.call.questionnaire
        }
        await apply(handle, 2, answers=complete_answers)  # complete but for the slide
        withdrawn = await apply(handle, 3)
        await handle.execute_update(
            MissionWorkflow.withdraw_application,
            ApplicationWithdrawal(application_id=withdrawn.application_id),
        )
        assert not incomplete.complete
        async with session_factory() as session:  # an upload whose request never got an answer
            session.add(
                Slide(
                    mission_id=mission.id,
                    filename="lost.pdf",
                    content_type="application/pdf",
                    content=b"%PDF-1.4",
                    size=8,
                    sha256="0" * 64,
                    uploaded_at=datetime.now(UTC),
                )
            )
            await session.commit()
        await sleep_until(time_env, in_year_offset(DEADLINE_2017, years) + timedelta(seconds=5))
        coordinators = [str(p.email) for p in mission.coordinators]
        await eventually(lambda: each_got(mailbox, "call_closed", coordinators))
        outcome_status = await handle.query(MissionWorkflow.status)
        assert outcome_status.phase == "selection"
        async with session_factory() as session:
            assert (await session.exec(select(Slide))).all() == []

        history = await handle.fetch_history()
        await handle.terminate("test over")
    rounds = scheduled(history, "send_reminders")
    expected = [in_year_offset(utc(f"2017-03-{day}T23:00:00"), years) for day in (15, 20, 21)]
    assert [at.replace(microsecond=0) for at in rounds] == expected  # midnights CET
    reminders = mailbox.sent("deadline_reminder")
    # 3 rounds x (2 incomplete applications + the invitees who never applied); never the one who
    # withdrew, never after the deadline.
    not_applied = [i for i in invitees if i != invitees[0]]
    assert len(reminders) == 3 * (2 + len(not_applied))
    assert all(m["Auto-Submitted"] == "auto-generated" for m in reminders)
    assert not mailbox.sent("deadline_reminder", "contact3@")
    (closed,) = mailbox.sent("call_closed", str(mission.coordinators[0].email))
    text = closed.get_body(("plain",)).get_content()
    assert "Received: 2" in text and "Incomplete: 2" in text  # Cluster 3 withdrew
    assert "France " in text and "Italy " in text and "Germany " not in text  # named


async def test_an_extension_is_told_and_moves_the_close(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission, years = eu_us_later(now)
    deadline = in_year_offset(DEADLINE_2017, years)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        await sleep_until(time_env, in_year_offset(utc("2017-03-10T12:00:00"), years))
        await apply(handle, 1)
        extended = in_year_offset(utc("2017-03-29T22:00:00"), years)  # 24:00 CEST, after DST
        status = await handle.execute_update(
            MissionWorkflow.extend_deadline, DeadlineExtension(deadline=extended)
        )
        assert status.deadline.text == f"29 Mar {2017 + years} 24:00 CEST (22:00 UTC)"
        await eventually(lambda: each_got(mailbox, "deadline_extended", ["contact1@"]))
        await sleep_until(time_env, deadline + timedelta(hours=1))
        receipt = await apply(handle, 2)  # the old deadline has passed: the call is still open
        assert receipt.changed
        await sleep_until(time_env, extended + timedelta(seconds=5))
        coordinators = [str(p.email) for p in mission.coordinators]
        await eventually(lambda: each_got(mailbox, "call_closed", coordinators))
        history = await handle.fetch_history()
        await keep_history(handle, "call-extended-and-closed")
        await handle.terminate("test over")
    rounds = [at.replace(microsecond=0) for at in scheduled(history, "send_reminders")]
    year = 2017 + years
    # P7D before the new deadline is 22 Mar 24:00 CET (23:00Z); P2D and P1D are CEST midnights.
    assert rounds == [
        in_year_offset(utc("2017-03-22T23:00:00"), years),
        in_year_offset(utc("2017-03-27T22:00:00"), years),
        in_year_offset(utc("2017-03-28T22:00:00"), years),
    ], year
    (told,) = mailbox.sent("deadline_extended", "contact1@")
    assert f"29 Mar {year} 24:00 CEST" in told.get_body(("plain",)).get_content()


async def test_cancelling_tells_everyone_concerned(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    async with call_open(time_env, worker_for, session_factory, task_queue) as (mission, handle):
        await apply(handle, 1)
        await handle.execute_update(
            MissionWorkflow.cancel, CancelRequest(reason="The conference was called off")
        )
        outcome = await handle.result()
    assert outcome.phase == "cancelled"
    told = {str(m["To"]) for m in mailbox.sent("mission_cancelled")}
    everyone = {str(p.email) for p in mission.coordinators} | {
        str(i.email) for i in mission.call.invitees
    }
    assert all(any(address in to for to in told) for address in everyone)
    assert any("contact1@" in to for to in told)
    body = mailbox.sent("mission_cancelled", "contact1@")[0].get_body(("plain",)).get_content()
    assert "The conference was called off" in body
