"""The cluster visits: registrations and their waitlists, a coordinator's changes, the
itinerary, the day-before reminders and attendance.

Places are decided in the workflow's state (`missionflow.domain.visits.rules`), in the order the
Updates arrive, so capacity and the waitlist need no database lock; a local activity records
them, under a lock, in that order.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.visits import VisitActivities
    from missionflow.domain.mission.event_sections import Visit
    from missionflow.domain.mission.messages import MissionInput
    from missionflow.domain.refusals import CONFLICT, INVALID, NOT_FOUND
    from missionflow.domain.visits import rules as visits
    from missionflow.domain.visits.messages import (
        VisitAttendanceInput,
        VisitChangeInput,
        VisitNotice,
        VisitPlace,
        VisitReceipt,
        VisitRegistrationInput,
    )

from workflows.base import LOCAL_WRITE, RETRY, MissionCore

_KINDS = {"not_found": NOT_FOUND, "conflict": CONFLICT, "invalid": INVALID}


class VisitsPhase(MissionCore):
    def __init__(self, input: MissionInput) -> None:
        super().__init__(input)
        self._visits_lock = asyncio.Lock()  # places are written in the order they were decided

    @workflow.update
    async def register_visit(self, request: VisitRegistrationInput) -> VisitReceipt:
        """Take a place on a visit (or its waitlist), or give it up; a freed place goes to the
        first on the waitlist at once."""
        self._refuse_registration(request)  # two requests can pass their validators together
        self._changed(replan=False)
        now = workflow.now()
        if request.cancel:
            self._state, changes = visits.give_up(
                self._mission, self._state, request.visit_id, request.application_id, now
            )
            place = changes[0]
        else:
            self._state, place, changed = visits.register(
                self._mission, self._state, request.visit_id, request.application_id, now
            )
            changes = [place] if changed else []
        await self._record_places(changes, now)
        return VisitReceipt(
            visit_id=place.visit_id,
            application_id=place.application_id,
            status=place.status,
            waitlist_position=visits.waitlist_position(self._state, place),
            changed=bool(changes),
        )

    @register_visit.validator
    def _validate_registration(self, request: VisitRegistrationInput) -> None:
        self._refuse_registration(request)

    def _refuse_registration(self, request: VisitRegistrationInput) -> None:
        refusal = visits.registration_refusal(
            self._mission,
            self._state,
            request.visit_id,
            request.application_id,
            workflow.now(),
            cancel=request.cancel,
        )
        if refusal is not None:
            kind, message = refusal
            raise ApplicationError(message, type=_KINDS[kind])
        self._refuse_while_handing_over()

    async def _leave_visits(self, application_id: uuid.UUID) -> None:
        """A withdrawn delegate's places are given up, and the waitlists move on."""
        now = workflow.now()
        self._state, places = visits.leave_all(self._mission, self._state, application_id, now)
        await self._record_places(places, now)

    async def _record_places(self, changes: list[VisitPlace], now: datetime) -> None:
        if not changes:
            return
        touched = {place.visit_id for place in changes}
        async with self._visits_lock:
            await workflow.execute_local_activity_method(
                VisitActivities.record_visit_places,
                VisitNotice(
                    mission_id=self._mission.id,
                    at=now,
                    visits=self._mission.visits,
                    changes=changes,
                    places=self._places(lambda place: place.visit_id in touched),
                ),
                start_to_close_timeout=LOCAL_WRITE,
                retry_policy=RETRY,
            )
        if any(place.status == visits.REGISTERED for place in changes[1:]):
            self._mail_queued += 1  # a promotion from the waitlist is told

    def _places(self, keep: Callable[[VisitPlace], bool] = lambda _: True) -> list[VisitPlace]:
        """The places held (not given up) that `keep` accepts."""
        return [
            place
            for place in self._state.visits.places
            if place.status != visits.CANCELLED and keep(place)
        ]

    @workflow.update
    async def change_visit(self, change: VisitChangeInput) -> Visit:
        """A coordinator moves, relocates or cancels a visit: its delegates hear at once, and
        its reminder follows the new time."""
        self._refuse_change(change)
        self._changed()
        self._mission = visits.changed(self._mission, change)
        sequences = dict(self._state.visits.sequences)
        sequences[change.visit_id] = sequences.get(change.visit_id, 0) + 1
        self._state = self._state.model_copy(
            update={"visits": self._state.visits.model_copy(update={"sequences": sequences})}
        )
        visit = visits.find(self._mission, change.visit_id)
        assert visit is not None
        async with self._visits_lock:
            await self._post(
                VisitActivities.record_visit_change,
                VisitNotice(
                    mission_id=self._mission.id,
                    at=workflow.now(),
                    visits=self._mission.visits,
                    visit_id=change.visit_id,
                    change=change,
                    sequence=sequences[change.visit_id],
                    places=self._places(lambda place: place.visit_id == change.visit_id),
                ),
                f"Tell the delegates of the change to the visit to {visit.city}",
                start_to_close=timedelta(minutes=5),
                heartbeat=False,
            )
        return visit

    @change_visit.validator
    def _validate_visit_change(self, change: VisitChangeInput) -> None:
        self._refuse_change(change)

    def _refuse_change(self, change: VisitChangeInput) -> None:
        refusal = visits.change_refusal(self._mission, self._state, change, workflow.now())
        if refusal is not None:
            kind, message, field = refusal
            raise ApplicationError(message, *([field] if field else []), type=_KINDS[kind])

    @workflow.update
    async def record_visit_attendance(self, attendance: VisitAttendanceInput) -> VisitReceipt:
        self._changed(replan=False)
        return await self._write_locally(
            VisitActivities.record_visit_attendance,
            VisitNotice(mission_id=self._mission.id, at=workflow.now(), attendance=attendance),
        )

    @record_visit_attendance.validator
    def _validate_visit_attendance(self, attendance: VisitAttendanceInput) -> None:
        visit = visits.find(self._mission, attendance.visit_id)
        if visit is None:
            raise ApplicationError(f"No visit {attendance.visit_id!r}.", type=NOT_FOUND)
        if visit.cancelled:
            raise ApplicationError(f"The visit to {visit.city} was cancelled.", type=CONFLICT)
        if workflow.now() < visit.starts_at:
            raise ApplicationError(
                f"Attendance is recorded once the visit has started, {visits.starts_text(visit)}.",
                type=CONFLICT,
            )
        place = visits.place_of(self._state, attendance.visit_id, attendance.application_id)
        if place is None or place.status != visits.REGISTERED:
            raise ApplicationError(
                f"This delegate was not registered for the visit to {visit.city}.", type=CONFLICT
            )

    async def _run_visits(self) -> None:
        """Send the itinerary once the delegation is final, and each visit's reminder on the
        day before, at 18:00 in its city."""
        now = workflow.now()
        if visits.itinerary_due(self._mission, self._state):
            await workflow.wait_condition(self._settled)
            async with self._visits_lock:
                await self._post(
                    VisitActivities.send_itinerary,
                    VisitNotice(
                        mission_id=self._mission.id,
                        at=now,
                        visits=self._mission.visits,
                        places=self._places(),
                        sequences=self._state.visits.sequences,
                    ),
                    f"Send the delegation the itinerary of {len(self._mission.visits)} visit(s)",
                )
            progress = self._state.visits.model_copy(update={"itinerary_sent": True})
            self._state = self._state.model_copy(update={"visits": progress})
        for visit in visits.reminders_due(self._mission, self._state, now):
            async with self._visits_lock:
                await self._post(
                    VisitActivities.remind_visit,
                    VisitNotice(
                        mission_id=self._mission.id,
                        at=now,
                        visits=self._mission.visits,
                        visit_id=visit.id,
                        places=visits.holding(self._state, visit.id, visits.REGISTERED),
                        sequence=self._state.visits.sequences.get(visit.id, 0),
                    ),
                    f"Remind the delegates of {visits.title(self._mission, visit)}",
                    heartbeat=False,
                )
            self._state = visits.reminded(self._state, visit)
