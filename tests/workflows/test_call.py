"""The call for expression of interest on the time-skipping server: open to the second,
announced, reminded at its true instants, extended, closed with its counts, and cancelled."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select
from support import eu_us_later, eventually, in_year_offset, keep_history
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from test_mission_walk import sleep_until, utc

from activities.applications import ApplicationActivities
from api import intake_gate
from api.intake_gate import IN_FLIGHT, IntakeGates, Taken
from api.missions import start_mission
from missionflow.domain.call.applications import ApplicationForm
from missionflow.domain.call.messages import (
    ApplicationReceipt,
    ApplicationSubmission,
    ApplicationSubmissions,
    ApplicationWithdrawal,
)
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.messages import CancelRequest, DeadlineExtension
from missionflow.domain.refusals import CONFLICT
from missionflow.runtime.models import Application, Slide
from workflows.mission import MissionWorkflow

DEADLINE_2017 = utc("2017-03-22T23:00:00")  # 22 Mar 24:00 CET


def submission(number: int) -> ApplicationSubmission:
    return ApplicationSubmission(application_id=uuid.uuid4(), form=form(number))


def form(number: int, **changes: object) -> ApplicationForm:
    return ApplicationForm.model_validate(
        {
            "organisation": f"Cluster {number}",
            "organisation_type": "cluster_organisation",
            "country": ("DE", "FR", "IT")[number % 3],
            "city": "Lyon",
            "contact_name": f"Contact {number}",
            "contact_email": f"contact{number}@clusters.example.org",
            "sectors": ["Nanotechnologies"],
            "answers": {},
            "consent": True,
            **changes,
        }
    )


async def apply(handle: WorkflowHandle, number: int, **changes: object) -> ApplicationReceipt:
    """One submission as the API's intake gate sends it when nothing else waits."""
    answer = await handle.execute_update(
        MissionWorkflow.submit_applications,
        ApplicationSubmissions(
            submissions=[
                ApplicationSubmission(application_id=uuid.uuid4(), form=form(number, **changes))
            ]
        ),
    )
    (receipt,) = answer.receipts
    return receipt


@asynccontextmanager
async def call_open(
    time_env: WorkflowEnvironment,
    worker_for,
    session_factory,
    task_queue: str,
    **input_options: object,
) -> AsyncIterator[tuple[MissionFile, WorkflowHandle]]:
    """A mission started under a worker, its clock on 1 March at noon: the call is open."""
    now = await time_env.get_current_time()
    mission, years = eu_us_later(now)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client,
            session_factory,
            mission,
            task_queue=task_queue,
            now=now,
            **input_options,
        )
        await sleep_until(time_env, in_year_offset(utc("2017-03-01T12:00:00"), years))
        yield mission, handle


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
        await eventually(lambda: _each_got(mailbox, "call_announcement", invitees))
        incomplete = await apply(handle, 1, contact_email=invitees[0])  # an invitee applies
        complete_answers = {
            q.id: _answer(q.type.value, q.choices) for q in mission.call.questionnaire
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
        await eventually(lambda: _each_got(mailbox, "call_closed", coordinators))
        outcome_status = await handle.query(MissionWorkflow.status)
        assert outcome_status.phase == "selection"
        async with session_factory() as session:
            assert (await session.exec(select(Slide))).all() == []

        history = await handle.fetch_history()
        await handle.terminate("test over")
    rounds = _scheduled(history, "send_reminders")
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
    assert "Received:   2" in text and "Incomplete: 2" in text  # Cluster 3 withdrew
    assert "FR " in text and "IT " in text and "DE " not in text


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
        await eventually(lambda: _each_got(mailbox, "deadline_extended", ["contact1@"]))
        await sleep_until(time_env, deadline + timedelta(hours=1))
        receipt = await apply(handle, 2)  # the old deadline has passed: the call is still open
        assert receipt.changed
        await sleep_until(time_env, extended + timedelta(seconds=5))
        coordinators = [str(p.email) for p in mission.coordinators]
        await eventually(lambda: _each_got(mailbox, "call_closed", coordinators))
        history = await handle.fetch_history()
        await keep_history(handle, "call-extended-and-closed")
        await handle.terminate("test over")
    rounds = [at.replace(microsecond=0) for at in _scheduled(history, "send_reminders")]
    year = 2017 + years
    # P7D before the new deadline is 22 Mar 24:00 CET (23:00Z); P2D and P1D are CEST midnights.
    assert rounds == [
        in_year_offset(utc("2017-03-22T23:00:00"), years),
        in_year_offset(utc("2017-03-27T22:00:00"), years),
        in_year_offset(utc("2017-03-28T22:00:00"), years),
    ], year
    (told,) = mailbox.sent("deadline_extended", "contact1@")
    assert f"29 Mar {year} 24:00 CEST" in told.get_body(("plain",)).get_content()


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
            await eventually(lambda a=applicant: _each_got(mailbox, "application_received", [a]))
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
    assert not _local_activities(history)  # nothing is written inside an Update
    admits = _scheduled(history, "admit_applications")
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
            lambda: _each_got(mailbox, "application_received", ["contact1@", "contact3@"]),
            within=60,
        )
        assert not mailbox.sent("application_received", "contact99@")
        poisoned.clear()  # the cause is fixed: its next attempt writes it
        await eventually(
            lambda: _each_got(mailbox, "application_received", ["contact99@"]), within=120
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
    assert len(_scheduled(history, "admit_applications")) >= 2


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
    writing, written = _hold_the_first_write(monkeypatch)  # until the second group is in
    async with call_open(time_env, worker_for, session_factory, task_queue) as (_, handle):
        first = await asyncio.gather(*(apply(handle, n) for n in (1, 2, 3)))
        await asyncio.wait_for(writing.wait(), 60)
        second = await asyncio.gather(*(apply(handle, n) for n in (4, 5, 6)))
        written.set()
        await eventually(
            lambda: _each_got(
                mailbox, "application_received", [f"contact{n}@" for n in range(1, 7)]
            ),
            within=60,
        )
        history = await handle.fetch_history()
        await keep_history(handle, "admitted-in-gathered-batches")
        await handle.terminate("test over")
    assert all(r.changed and r.at is not None for r in first + second)
    assert len(_scheduled(history, "admit_applications")) == 2
    # Between the end of the first write and the start of the second, a timer of its own.
    admits = [event.event_id for event in _scheduled_events(history, "admit_applications")]
    first_done = _completed(history, admits[0])
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
            lambda: _each_got(mailbox, "application_received", ["contact1@", "contact2@"]),
            within=60,
        )
        first = time_env.client.get_workflow_handle(mission.workflow_id, run_id=first_run)
        history = await first.fetch_history()
        await keep_history(first, "handover-cuts-gathering")
        await handle.terminate("test over")
    assert all(r.changed and r.at is not None for r in receipts)
    gathering = _timers(history, "gather the applications accepted meanwhile")
    assert list(gathering.values()) == [EventType.EVENT_TYPE_TIMER_CANCELED]
    (admitted,) = _scheduled_events(history, "admit_applications")
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
    writing, release = _hold_the_first_write(monkeypatch)  # until the second applicant is in
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
            lambda: _each_got(mailbox, "application_received", ["contact1@", "contact2@"]),
            within=60,
        )
        await eventually(lambda: _each_got(mailbox, "deadline_extended", ["contact1@"]))
        history = await handle.fetch_history()
        await keep_history(handle, "told-after-those-accepted-before")
        await handle.terminate("test over")
    first, second = _scheduled_events(history, "admit_applications")
    (told,) = _scheduled_events(history, "announce_extension")
    assert _completed(history, first.event_id) < told.event_id < second.event_id


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


async def _each_got(mailbox, template: str, people: list[str]) -> None:
    for person in people:
        assert mailbox.sent(template, person), f"no {template} for {person}"


def _scheduled(history, activity_type: str) -> list[datetime]:
    """When the workflow scheduled each run of an activity, in the server's (skipped) time."""
    return [
        event.event_time.ToDatetime().replace(tzinfo=UTC)
        for event in _scheduled_events(history, activity_type)
    ]


def _scheduled_events(history, activity_type: str) -> list:
    """The event scheduling each run of an activity, in order."""
    return [
        event
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and event.activity_task_scheduled_event_attributes.activity_type.name == activity_type
    ]


def _hold_the_first_write(
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[asyncio.Event, asyncio.Event]:
    """Hold the admitter's first write: (set once it is held, set it to let the write go)."""
    writing, release = asyncio.Event(), asyncio.Event()
    write = ApplicationActivities._write_and_confirm

    async def held(self, mission_id, records):  # type: ignore[no-untyped-def]
        if not writing.is_set():
            writing.set()
            await release.wait()
        return await write(self, mission_id, records)

    monkeypatch.setattr(ApplicationActivities, "_write_and_confirm", held)
    return writing, release


def _completed(history, scheduled_event_id: int) -> int:
    """The id of the event completing the activity scheduled by `scheduled_event_id`."""
    (completed,) = (
        event.event_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED
        and event.activity_task_completed_event_attributes.scheduled_event_id == scheduled_event_id
    )
    return completed


def _timers(history, summary: str) -> dict[int, EventType.ValueType]:
    """How each timer with this summary ended (fired or cancelled), by the id of the event that
    ended it; a timer still running is left out."""
    started = {
        event.event_id
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED
        and json.loads(event.user_metadata.summary.data) == summary
    }
    return {
        event.event_id: event.event_type
        for event in history.events
        if (
            event.event_type == EventType.EVENT_TYPE_TIMER_FIRED
            and event.timer_fired_event_attributes.started_event_id in started
        )
        or (
            event.event_type == EventType.EVENT_TYPE_TIMER_CANCELED
            and event.timer_canceled_event_attributes.started_event_id in started
        )
    }


def _local_activities(history) -> list[str]:
    """The activity type of each local activity recorded in the history, in order."""
    return [
        json.loads(event.marker_recorded_event_attributes.details["data"].payloads[0].data)[
            "activity_type"
        ]
        for event in history.events
        if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and event.marker_recorded_event_attributes.marker_name == "core_local_activity"
    ]


def _answer(kind: str, choices: list[str] | None) -> object:
    return {"integer": 12, "boolean": False, "choice": (choices or [""])[0]}.get(kind, "Text")
