"""Intake on the time-skipping server: applications answered at once, travelling together, and
admitted by the workflow in gathered batches; a batch that fails is split; what tells applicants
waits for those accepted before it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from call_support import (
    apply,
    call_open,
    completed,
    each_got,
    hold_the_first_write,
    local_activities,
    scheduled,
    scheduled_events,
    submission,
    timers,
)
from sqlmodel import select
from support import eventually, keep_history
from temporalio.api.enums.v1 import EventType
from temporalio.testing import WorkflowEnvironment

from activities.applications import ApplicationActivities
from api import intake_gate
from api.intake_gate import IN_FLIGHT, IntakeGates, Taken
from missionflow.domain.mission.messages import DeadlineExtension
from missionflow.runtime.models import Application
from workflows.mission import MissionWorkflow


async def test_applications_arriving_together_are_admitted_together(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    """Submissions that meet at the intake gate go as one Update, answered before anything is
    written; the gate writes their rows, and the admitter confirms everything accepted meanwhile
    with one activity. The same applicant twice at once is one application, one email and one
    count."""
    async with call_open(time_env, worker_for, session_factory, task_queue) as (mission, handle):
        numbers = [1, 2, 3, 4, 5, 6, 1, 2]  # applicants 1 and 2 apply twice, at once
        intake = IntakeGates(session_factory)
        taken = await asyncio.gather(
            *(intake.take(time_env.client, mission, submission(n)) for n in numbers)
        )
        async with session_factory() as session:  # written when answered, not later
            rows = (await session.exec(select(Application))).all()
        assert sorted(row.organisation for row in rows) == [f"Cluster {n}" for n in range(1, 7)]
        for applicant in ("contact1@", "contact3@"):
            await eventually(lambda a=applicant: each_got(mailbox, "application_received", [a]))
        status = await handle.query(MissionWorkflow.status)
        assert status.applications == 6
        # The first IN_FLIGHT went alone; the others waited for them and went together.
        assert status.updates_handled == IN_FLIGHT + 1
        history = await handle.fetch_history()
        await keep_history(handle, "submitted-together")
        await handle.terminate("test over")
    by_applicant: dict[int, set[uuid.UUID]] = {}
    for number, one in zip(numbers, taken, strict=True):
        by_applicant.setdefault(number, set()).add(one.row.id)
    assert all(len(ids) == 1 for ids in by_applicant.values())
    assert sum(one.created for one in taken) == 6
    assert len(mailbox.sent("application_received", "contact1@")) == 1
    assert not local_activities(history)  # nothing is written inside an Update
    admits = scheduled(history, "admit_applications")
    assert 1 <= len(admits) < len(numbers)


async def test_a_busy_gate_waits_a_moment_for_the_applicants_it_expects(
    time_env: WorkflowEnvironment,
    worker_for,
    session_factory,
    task_queue,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Applicants answered together come back one after another: the first waits for the
    others rather than leaving alone, at most `LINGER`; an applicant whose company does not come
    leaves after it, and the gate then expects fewer."""
    monkeypatch.setattr(intake_gate, "LINGER", 1.0)  # far beyond any scheduling jitter
    async with call_open(time_env, worker_for, session_factory, task_queue) as (mission, handle):
        intake = IntakeGates(session_factory)

        async def updates() -> int:
            return (await handle.query(MissionWorkflow.status)).updates_handled

        def take(number: int) -> asyncio.Task[Taken]:
            return asyncio.create_task(intake.take(time_env.client, mission, submission(number)))

        before = await updates()
        await asyncio.gather(take(1), take(2), take(3))  # 1 alone, then 2 and 3
        assert await updates() == before + 2
        # The gate now expects two: the first to come back waits for the second.
        first = take(4)
        await asyncio.sleep(0.05)
        second = take(5)
        taken = await asyncio.gather(first, second)
        assert [one.row.organisation for one in taken] == ["Cluster 4", "Cluster 5"]
        assert await updates() == before + 3
        started = asyncio.get_running_loop().time()
        await take(6)  # nobody comes: it leaves alone once `LINGER` ran out
        assert asyncio.get_running_loop().time() - started >= 1.0
        assert await updates() == before + 4
        await handle.terminate("test over")
    async with session_factory() as session:
        rows = (await session.exec(select(Application))).all()
    assert sorted(row.organisation for row in rows) == [f"Cluster {n}" for n in range(1, 7)]


async def test_the_workflow_writes_what_no_sender_did(
    time_env: WorkflowEnvironment,
    worker_for,
    session_factory,
    task_queue,
    mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Senders that sent the Update and never wrote the row (they crashed): the admitter writes
    it. A batch that keeps failing is split, and the one application that cannot be written is
    retried alone, while the others are confirmed and the call goes on."""
    poisoned = {"Cluster 99"}
    write = ApplicationActivities._write_and_confirm

    async def failing(self, mission_id, records):  # type: ignore[no-untyped-def]
        if any(r.submission.form.organisation in poisoned for r in records):
            raise RuntimeError("this application cannot be written (yet)")
        return await write(self, mission_id, records)

    monkeypatch.setattr(ApplicationActivities, "_write_and_confirm", failing)
    async with call_open(time_env, worker_for, session_factory, task_queue) as (_, handle):
        receipts = await asyncio.gather(*(apply(handle, n) for n in [99, 1, 2, 3]))
        assert all(r.changed and r.at is not None for r in receipts)
        await eventually(
            lambda: each_got(mailbox, "application_received", ["contact1@", "contact3@"]),
            within=60,
        )
        assert not mailbox.sent("application_received", "contact99@")
        poisoned.clear()  # the cause is fixed: its next attempt writes it
        await eventually(
            lambda: each_got(mailbox, "application_received", ["contact99@"]), within=120
        )
        status = await handle.query(MissionWorkflow.status)
        assert status.applications == 4
        history = await handle.fetch_history()
        await keep_history(handle, "admitted-applications-split")
        await handle.terminate("test over")
    async with session_factory() as session:
        rows = (await session.exec(select(Application))).all()
    assert {row.id for row in rows} == {r.application_id for r in receipts}
    assert {at.replace(microsecond=0) for at in (r.submitted_at for r in rows)} == {
        r.at.replace(microsecond=0) for r in receipts if r.at
    }
    assert len(scheduled(history, "admit_applications")) >= 2


async def test_applications_arriving_during_a_write_gather_before_the_next(
    time_env: WorkflowEnvironment,
    worker_for,
    session_factory,
    task_queue,
    mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under a steady stream, what arrives while the admitter writes is let gather again (a
    timer) before the next write, rather than written at once: a few full batches instead of
    one small one per workflow task. Everyone is still confirmed once."""
    writing, written = hold_the_first_write(monkeypatch)  # until the second group is in
    async with call_open(time_env, worker_for, session_factory, task_queue) as (_, handle):
        first = await asyncio.gather(*(apply(handle, n) for n in (1, 2, 3)))
        await asyncio.wait_for(writing.wait(), 60)
        second = await asyncio.gather(*(apply(handle, n) for n in (4, 5, 6)))
        written.set()
        await eventually(
            lambda: each_got(
                mailbox, "application_received", [f"contact{n}@" for n in range(1, 7)]
            ),
            within=60,
        )
        history = await handle.fetch_history()
        await keep_history(handle, "admitted-in-gathered-batches")
        await handle.terminate("test over")
    assert all(r.changed and r.at is not None for r in first + second)
    assert len(scheduled(history, "admit_applications")) == 2
    # Between the end of the first write and the start of the second, a timer of its own.
    admits = [event.event_id for event in scheduled_events(history, "admit_applications")]
    first_done = completed(history, admits[0])
    assert any(
        event.event_type == EventType.EVENT_TYPE_TIMER_STARTED
        for event in history.events
        if first_done < event.event_id < admits[1]
    )
    for n in range(1, 7):
        assert len(mailbox.sent("application_received", f"contact{n}@")) == 1


async def test_a_run_handing_over_writes_what_it_gathered_at_once(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    """At its cap of Updates a run continues as new. The admitter's gathering, begun with the
    first application, ends there (its timer cancelled) rather than run its second out: nothing
    more comes to this run, and every applicant meanwhile waits for the next."""
    async with call_open(
        time_env, worker_for, session_factory, task_queue, max_updates_per_run=2
    ) as (mission, handle):
        first_run = (await handle.describe()).run_id
        receipts = [await apply(handle, 1), await apply(handle, 2)]

        async def continued() -> None:
            assert (await handle.describe()).run_id != first_run

        await eventually(continued)
        await eventually(
            lambda: each_got(mailbox, "application_received", ["contact1@", "contact2@"]),
            within=60,
        )
        first = time_env.client.get_workflow_handle(mission.workflow_id, run_id=first_run)
        history = await first.fetch_history()
        await keep_history(first, "handover-cuts-gathering")
        await handle.terminate("test over")
    assert all(r.changed and r.at is not None for r in receipts)
    gathering = timers(history, "gather the applications accepted meanwhile")
    assert list(gathering.values()) == [EventType.EVENT_TYPE_TIMER_CANCELED]
    (admitted,) = scheduled_events(history, "admit_applications")
    assert admitted.event_id > next(iter(gathering))
    async with session_factory() as session:
        rows = (await session.exec(select(Application))).all()
    assert {row.id for row in rows} == {r.application_id for r in receipts}
    for n in (1, 2):
        assert len(mailbox.sent("application_received", f"contact{n}@")) == 1


async def test_telling_waits_for_those_accepted_before_it_not_after(
    time_env: WorkflowEnvironment,
    worker_for,
    session_factory,
    task_queue,
    mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An extension is told once the applications accepted before it are written; one accepted
    after it is not waited for. Waiting until nothing at all was being written, a call with a
    steady stream of applicants told nobody anything until the stream stopped."""
    writing, release = hold_the_first_write(monkeypatch)  # until the second applicant is in
    async with call_open(time_env, worker_for, session_factory, task_queue) as (mission, handle):
        await apply(handle, 1)
        await asyncio.wait_for(writing.wait(), 60)
        await handle.execute_update(
            MissionWorkflow.extend_deadline,
            DeadlineExtension(deadline=mission.call.deadline + timedelta(days=7)),
        )
        await apply(handle, 2)
        release.set()
        await eventually(
            lambda: each_got(mailbox, "application_received", ["contact1@", "contact2@"]),
            within=60,
        )
        await eventually(lambda: each_got(mailbox, "deadline_extended", ["contact1@"]))
        history = await handle.fetch_history()
        await keep_history(handle, "told-after-those-accepted-before")
        await handle.terminate("test over")
    first, second = scheduled_events(history, "admit_applications")
    (told,) = scheduled_events(history, "announce_extension")
    assert completed(history, first.event_id) < told.event_id < second.event_id
