"""The selection and the confirmation: the proposed delegation, the coordinators' review and
approval, the seats offered, and the waitlist chain that refills the delegation.

Seats are decided in the workflow's state (`missionflow.domain.selection.seats`), in the order the
Updates and timers arrive, so a seat is never offered twice; one activity at a time records the
decisions and tells the applicants, under a lock, in that order.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.seats import SeatActivities
    from activities.selection import SelectionActivities
    from missionflow.domain.mission import lifecycle
    from missionflow.domain.mission.messages import MissionInput
    from missionflow.domain.mission.phases import Phase
    from missionflow.domain.refusals import CONFLICT, INVALID
    from missionflow.domain.selection import review, seats
    from missionflow.domain.selection.messages import (
        Seat,
        SeatAnswer,
        SeatChange,
        SeatNotice,
        SelectionNotice,
        SelectionRequest,
        SelectionView,
    )

from workflows.base import RETRY, MissionCore


class SelectionPhase(MissionCore):
    def __init__(self, input: MissionInput) -> None:
        super().__init__(input)
        self._selection_lock = asyncio.Lock()  # decisions are recorded in the order taken

    @workflow.update
    async def review_selection(self, request: SelectionRequest) -> SelectionView:
        """Overrides of the proposed delegation, and its approval: the selected are offered
        their seats, the others told."""
        self._refuse_review(request)  # two requests can both pass their validators
        self._changed(replan=request.approve)
        return await self._review(request)

    @review_selection.validator
    def _validate_review(self, request: SelectionRequest) -> None:
        self._refuse_review(request)

    def _refuse_review(self, request: SelectionRequest) -> None:
        refusal = review.review_refusal(
            self._mission, self._state, request.overrides, approve=request.approve
        )
        if refusal is not None:
            kind, message, field = refusal
            raise ApplicationError(
                message,
                *([field] if field else []),
                type=CONFLICT if kind == "conflict" else INVALID,
            )

    async def _review(
        self, request: SelectionRequest, *, at: datetime | None = None
    ) -> SelectionView:
        now = at or workflow.now()
        entries = review.overridden(self._state.selection.entries, request.overrides)
        if request.approve:
            self._state = review.approved(self._state, entries, request.by, now)
            self._state = seats.offer_selected(self._mission, self._state, now)
        else:
            selection = self._state.selection.model_copy(update={"entries": entries})
            self._state = self._state.model_copy(update={"selection": selection})
        async with self._selection_lock:
            await workflow.execute_activity_method(
                SelectionActivities.record_review,
                SelectionNotice(
                    mission_id=self._mission.id,
                    at=now,
                    by=request.by,
                    overrides=request.overrides,
                    entries=entries,
                    approved=request.approve,
                    seats=self._state.selection.seats if request.approve else [],
                ),
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(minutes=1),
                retry_policy=RETRY,
                summary="Approve the delegation and tell every applicant"
                if request.approve
                else f"Record {len(request.overrides)} override(s)",
            )
        if request.approve:
            self._mail_queued += 1
        return SelectionView(
            approved=request.approve,
            selected=sum(e.decision == "selected" for e in entries),
            waitlisted=sum(e.decision == "waitlisted" for e in entries),
            entries=entries,
        )

    @workflow.update
    async def answer_seat(self, answer: SeatAnswer) -> Seat:
        """A selected applicant confirms or declines; a decline offers the seat to the
        waitlist at once."""
        self._refuse_seat_answer(answer)  # raced another answer
        self._changed()
        now = workflow.now()
        if answer.accept:
            self._state = seats.confirmed(self._state, answer.application_id, now)
            changes = [SeatChange(application_id=answer.application_id, event="confirmed")]
        else:
            changes = self._release(answer.application_id, "declined", now)
        await self._record_seats(changes, now)
        seat = seats.find(self._state, answer.application_id)
        assert seat is not None
        return seat

    @answer_seat.validator
    def _validate_seat_answer(self, answer: SeatAnswer) -> None:
        self._refuse_seat_answer(answer)

    def _refuse_seat_answer(self, answer: SeatAnswer) -> None:
        refusal = seats.answer_refusal(
            self._state, answer.application_id, accept=answer.accept, now=workflow.now()
        )
        if refusal is not None:
            raise ApplicationError(refusal, type=CONFLICT)

    async def _release_seat(self, application_id: uuid.UUID) -> None:
        """A withdrawn applicant's seat or waitlist place, until the delegation locks."""
        selection = self._state.selection
        if selection.approved_at is not None and not selection.locked:
            now = workflow.now()
            await self._record_seats(self._release(application_id, "withdrawn", now), now)

    async def _run_selection(self) -> None:
        """Propose the delegation once the call has closed, then remind the coordinators (or
        approve, when the mission file allows it) until they approve."""
        for action in lifecycle.selection_actions_due(self._mission, self._state, workflow.now()):
            now = workflow.now()
            notice = SelectionNotice(mission_id=self._mission.id, at=now)
            if action == "propose":
                entries = await workflow.execute_activity_method(
                    SelectionActivities.propose_selection,
                    notice,
                    start_to_close_timeout=timedelta(minutes=10),
                    heartbeat_timeout=timedelta(minutes=1),
                    retry_policy=RETRY,
                    summary="Score the applications and propose the delegation",
                )
                selection = self._state.selection.model_copy(
                    update={"proposed": True, "entries": entries}
                )
                self._state = self._state.model_copy(update={"selection": selection})
                self._mail_queued += 1
            elif action == "remind":
                reminder = self._state.selection.review_reminders + 1
                await self._post(
                    SelectionActivities.remind_review,
                    notice.model_copy(update={"reminder": reminder}),
                    f"Remind the coordinators to approve the delegation ({reminder})",
                    heartbeat=False,
                )
                self._state = lifecycle.review_reminded(self._mission, self._state, now)
            else:
                # Approved at the due instant itself, as phases are entered at theirs.
                await self._review(
                    SelectionRequest(approve=True, by="auto_approve"),
                    at=self._mission.selection.decision_due,
                )

    def _release(self, application_id: uuid.UUID, because: str, now: datetime) -> list[SeatChange]:
        """Release the application's seat (or waitlist place) and offer free seats on."""
        held = seats.find(self._state, application_id)
        waiting = any(e.application_id == application_id for e in self._state.selection.waitlist)
        self._state = seats.released(self._state, application_id, because, now)
        changes = []
        if waiting or (held is not None and held.state != seats.RELEASED):
            changes.append(SeatChange(application_id=application_id, event=because))
        self._state, promoted = seats.promote(self._mission, self._state, now)
        return changes + [
            SeatChange(application_id=s.application_id, event="promoted", respond_by=s.respond_by)
            for s in promoted
        ]

    async def _run_seats(self) -> None:
        """Remind and expire offers whose time has come; lock the delegation at its instant."""
        selection = self._state.selection
        if self._state.phase is not Phase.CONFIRMATION or selection.approved_at is None:
            return
        now = workflow.now()
        if now >= lifecycle.lock_instant(self._mission, self._state) and not selection.locked:
            await workflow.wait_condition(self._settled)
            changes = []
            for seat in seats.held(self._state):
                if seat.state == seats.OFFERED:
                    self._state = seats.released(self._state, seat.application_id, "locked", now)
                    changes.append(SeatChange(application_id=seat.application_id, event="locked"))
            self._state = self._state.model_copy(
                update={"selection": self._state.selection.model_copy(update={"locked": True})}
            )
            await self._record_seats(changes, now, final=True)
            return
        remind, expired = seats.due(self._state, now)
        changes = [SeatChange(application_id=s.application_id, event="reminded") for s in remind]
        self._state = seats.reminded(self._state, [s.application_id for s in remind])
        for seat in expired:
            changes += self._release(seat.application_id, "expired", now)
        await self._record_seats(changes, now)

    async def _record_seats(
        self, changes: list[SeatChange], now: datetime, *, final: bool = False
    ) -> None:
        if not changes and not final:
            return
        async with self._selection_lock:
            await self._post(
                SeatActivities.record_seats,
                SeatNotice(mission_id=self._mission.id, at=now, changes=changes, final=final),
                "Lock the delegation and send the coordinators the final list"
                if final
                else ", ".join(sorted({f"{c.event}" for c in changes})).capitalize()
                + f" ({len(changes)} seat(s))",
                heartbeat=False,
            )
