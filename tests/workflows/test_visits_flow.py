"""The visits on the time-skipping server: places and the waitlist, the itinerary at the lock
with one calendar file in two zones, reminders at 18:00 in each city, a coordinator's change
emailed at once, and attendance."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select
from support import eventually, keep_history, rehearsal
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from test_matchmaking_flow import _calendar, _got
from test_mission_walk import sleep_until
from test_selection_review import apply

from api.missions import start_mission
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.refusals import CONFLICT
from missionflow.domain.selection.messages import SeatAnswer
from missionflow.domain.visits import rules as visits
from missionflow.domain.visits.messages import (
    VisitAttendanceInput,
    VisitChangeInput,
    VisitRegistrationInput,
)
from missionflow.runtime.models import Mission, VisitRegistration
from workflows.mission import MissionWorkflow


def visits_mission(now: Any) -> MissionFile:
    """Three delegates, no matchmaking, a visit in New York (two places) then one in Berlin."""
    document = rehearsal(matchmaking=None)
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
    new_york, berlin = document["visits"][1], document["visits"][0]
    new_york.update(id="new-york", starts_at="+P8D", ends_at="+P8DT6H", capacity=2)
    new_york["meeting_point"] = "Lobby, by the reception desk"
    berlin.update(id="berlin", starts_at="+P10D", ends_at="+P10DT5H", capacity=5)
    document["visits"] = [new_york, berlin]
    document["reporting"].update(feedback_within="P2D", report_due="+P20D", follow_up=[])
    return load_mission(document, now=now, live=True)


async def test_places_itinerary_reminders_changes_and_attendance(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission = visits_mission(now)
    new_york, berlin = mission.visits
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        alpha, beta, gamma = [
            await apply(handle, f"{name} Cluster", country)
            for name, country in (("Alpha", "DE"), ("Beta", "FR"), ("Gamma", "IT"))
        ]
        stranger = uuid.uuid4()
        await sleep_until(time_env, mission.selection.decision_due + timedelta(hours=1))
        refused = await _refused(handle, _register(alpha, "new-york"))
        assert refused.type == CONFLICT and "confirmed their seat" in refused.message
        for delegate in (alpha, beta, gamma):
            await handle.execute_update(
                MissionWorkflow.answer_seat, SeatAnswer(application_id=delegate, accept=True)
            )
        first = await handle.execute_update(
            MissionWorkflow.register_visit, _register(alpha, "new-york")
        )
        second = await handle.execute_update(
            MissionWorkflow.register_visit, _register(beta, "new-york")
        )
        third = await handle.execute_update(
            MissionWorkflow.register_visit, _register(gamma, "new-york")
        )
        assert (first.status, second.status, third.status) == (
            "registered",
            "registered",
            "waitlisted",
        )
        assert third.waitlist_position == 1
        again = await handle.execute_update(
            MissionWorkflow.register_visit, _register(alpha, "new-york")
        )
        assert again.status == "registered" and not again.changed
        await handle.execute_update(MissionWorkflow.register_visit, _register(alpha, "berlin"))
        stranger_refused = await _refused(handle, _register(stranger, "berlin"))
        assert stranger_refused.type == CONFLICT

        # The lock: everyone gets the itinerary, one calendar file with both cities' zones.
        await sleep_until(time_env, mission.selection.delegation_lock + timedelta(minutes=5))
        await eventually(lambda: _got(mailbox, "itinerary", None, 3))
        itinerary = mailbox.sent("itinerary", "alpha.cluster@")[0]
        calendar = _calendar(itinerary)
        zones = {str(e["DTSTART"].params["TZID"]) for e in calendar.walk("VEVENT")}
        assert zones == {"America/New_York", "Europe/Berlin"}
        text = itinerary.get_body(("plain",)).get_content()
        assert "You are registered" not in text and "Your place: registered" in text

        # Beta gives the place up: Gamma, first on the waitlist, takes it and is told.
        given_up = await handle.execute_update(
            MissionWorkflow.register_visit, _register(beta, "new-york", cancel=True)
        )
        assert given_up.status == "cancelled"
        await eventually(lambda: _got(mailbox, "visit_promoted", "gamma.cluster@", 1))
        async with session_factory() as session:
            places = {
                r.application_id: r.status
                for r in (
                    await session.exec(
                        select(VisitRegistration).where(VisitRegistration.visit_id == "new-york")
                    )
                ).all()
            }
        assert places == {alpha: "registered", beta: "cancelled", gamma: "registered"}

        # A coordinator moves the Berlin visit an hour later: its delegate hears at once.
        moved = berlin.starts_at + timedelta(hours=1)
        change = VisitChangeInput(
            visit_id="berlin",
            starts_at=moved,
            address="Invalidenstraße 2, 10115 Berlin",
            note="The host moved us to its new building.",
        )
        changed = await handle.execute_update(MissionWorkflow.change_visit, change)
        assert changed.starts_at == moved
        await eventually(lambda: _got(mailbox, "visit_changed", "alpha.cluster@", 1))
        notice = mailbox.sent("visit_changed", "alpha.cluster@")[0]
        assert "Invalidenstraße 2" in notice.get_body(("plain",)).get_content()
        updated = _calendar(notice)
        (event,) = list(updated.walk("VEVENT"))
        assert int(event["SEQUENCE"]) == 1
        assert event.decoded("DTSTART") == moved.replace(microsecond=0)
        assert len(mailbox.sent("visit_changed")) == 1  # only Berlin's one delegate
        async with session_factory() as session:
            stored = await session.get(Mission, mission.id)
            assert stored is not None
            assert {v["id"]: v["address"] for v in stored.file["visits"]}["berlin"] == (
                "Invalidenstraße 2, 10115 Berlin"
            )

        # The reminders: 18:00 on the day before, in New York, then in Berlin.
        await sleep_until(time_env, visits.reminder_at(new_york) - timedelta(seconds=1))
        assert mailbox.sent("visit_reminder") == []
        await sleep_until(time_env, visits.reminder_at(new_york) + timedelta(minutes=1))
        await eventually(lambda: _got(mailbox, "visit_reminder", None, 2))
        reminded = {m["To"].addresses[0].addr_spec for m in mailbox.sent("visit_reminder")}
        assert reminded == {"alpha.cluster@example.org", "gamma.cluster@example.org"}
        reminder = mailbox.sent("visit_reminder", "gamma.cluster@")[0]
        assert "Lobby, by the reception desk" in reminder.get_body(("plain",)).get_content()
        assert reminder["Auto-Submitted"] == "auto-generated"

        berlin_now = visits.changed(mission, change).visits[1]
        berlin_reminder = visits.reminder_at(berlin_now)
        assert berlin_reminder.astimezone(ZoneInfo("Europe/Berlin")).hour == 18
        await sleep_until(time_env, berlin_reminder - timedelta(seconds=1))
        assert len(mailbox.sent("visit_reminder")) == 2
        await sleep_until(time_env, berlin_reminder + timedelta(minutes=1))
        await eventually(lambda: _got(mailbox, "visit_reminder", None, 3))

        # Attendance once New York has started; no-shows are kept for the report.
        status = await handle.query(MissionWorkflow.status)
        assert status.phase == "visits"
        await handle.execute_update(
            MissionWorkflow.record_visit_attendance,
            VisitAttendanceInput(visit_id="new-york", application_id=alpha, attendance="attended"),
        )
        await handle.execute_update(
            MissionWorkflow.record_visit_attendance,
            VisitAttendanceInput(visit_id="new-york", application_id=gamma, attendance="no_show"),
        )
        not_there = await _refused_attendance(handle, beta)
        assert not_there.type == CONFLICT
        async with session_factory() as session:
            rows = (
                await session.exec(
                    select(VisitRegistration).where(VisitRegistration.visit_id == "new-york")
                )
            ).all()
        assert {r.application_id: r.attendance for r in rows if r.attendance} == {
            alpha: "attended",
            gamma: "no_show",
        }
        await keep_history(handle, "visits-registered-changed-reminded")
        await handle.terminate("test over")


def _register(
    application_id: uuid.UUID, visit_id: str, *, cancel: bool = False
) -> VisitRegistrationInput:
    return VisitRegistrationInput(visit_id=visit_id, application_id=application_id, cancel=cancel)


async def _refused(handle: WorkflowHandle, request: VisitRegistrationInput) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(MissionWorkflow.register_visit, request)
    assert isinstance(refused.value.cause, ApplicationError)
    return refused.value.cause


async def _refused_attendance(handle: WorkflowHandle, who: uuid.UUID) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            MissionWorkflow.record_visit_attendance,
            VisitAttendanceInput(visit_id="new-york", application_id=who, attendance="attended"),
        )
    assert isinstance(refused.value.cause, ApplicationError)
    return refused.value.cause
