"""MissionWorkflow: one durable run per trade mission, from the call to the follow-up.

The workflow only orchestrates: it sleeps until the mission's true instants, moves phase by the
pure rules in `missionflow.domain.mission.lifecycle`, and has activities do every effect. Coordinators steer it
with Updates (answered, validated before anything reaches history); applicants apply through an
Update whose validator is the one place that says whether the call is open, to the second. Ops
read it with the `status` query, the `MissionId`/`MissionPhase` search attributes and the current
details in the UI.

An application is answered as soon as the validator has said the call is open: the handler
writes nothing and waits for nothing, since a write inside the Update held the workflow task
open and the server takes only a few Updates per workflow at once. The sender writes the row on
the answer (`missionflow.runtime.intake`); a second coroutine, the admitter, gathers what was accepted
for a second and writes it again with one activity (nothing for rows the senders wrote, the row
for any sender that failed to) and queues the confirmations. Runs that started before that wrote
each submission inside its Update, in batches (the recorder) or one by one.

Emails are written to the outbox by the activity that causes them; a separate coroutine, the
postman, runs the delivery activity whenever something was queued, so a large delivery never
delays the mission's own timers.
"""

from __future__ import annotations

import asyncio
import collections
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from datetime import datetime, timedelta
from functools import partial

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.applications import ApplicationActivities
    from activities.call import CallActivities
    from activities.email import EmailActivities
    from activities.feedback import FeedbackActivities
    from activities.matchmaking import MatchmakingActivities
    from activities.records import RecordActivities
    from activities.report import ReportActivities
    from activities.seats import SeatActivities
    from activities.selection import SelectionActivities
    from activities.visits import VisitActivities
    from missionflow.domain.call.applications import ApplicationStatus, missing_items
    from missionflow.domain.call.messages import (
        ApplicationBatch,
        ApplicationChange,
        ApplicationReceipt,
        ApplicationReceipts,
        ApplicationRecord,
        ApplicationSubmission,
        ApplicationSubmissions,
        ApplicationWithdrawal,
        CallNotice,
        InviteeBatch,
        InviteeNotice,
        InviteeReceipt,
    )
    from missionflow.domain.instants import describe
    from missionflow.domain.matchmaking import rules as matchmaking
    from missionflow.domain.matchmaking.messages import (
        AttendanceInput,
        HostBatch,
        HostNotice,
        HostsLoaded,
        MatchmakingNotice,
        MeetingAnswerInput,
        MeetingReceipt,
        MeetingRecord,
        MeetingRequestInput,
    )
    from missionflow.domain.mission import lifecycle
    from missionflow.domain.mission.event_sections import Matchmaking, Visit
    from missionflow.domain.mission.lifecycle import CallAction, Milestone
    from missionflow.domain.mission.messages import (
        CancelRequest,
        DeadlineExtension,
        DeliveryRequest,
        MissionInput,
        MissionNotice,
        MissionOutcome,
        MissionStatus,
        PhaseRecord,
    )
    from missionflow.domain.mission.phases import Phase
    from missionflow.domain.refusals import BUSY, CONFLICT, INVALID, NOT_FOUND
    from missionflow.domain.reporting.messages import (
        AnswerReceipt,
        AnswerRecord,
        FeedbackInput,
        FollowUpInput,
        ReportingNotice,
    )
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
    from missionflow.domain.visits import rules as visits
    from missionflow.domain.visits.messages import (
        VisitAttendanceInput,
        VisitChangeInput,
        VisitNotice,
        VisitPlace,
        VisitReceipt,
        VisitRegistrationInput,
    )
    from missionflow.runtime.temporal import MISSION_PHASE

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
"""Database and SMTP effects are retried until they succeed: an outage delays a mission, it does
not fail it. Refusals that retrying cannot fix are raised non-retryable by the activities."""

DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
)

BATCH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=3,
)
"""A batch of applications is tried a few times; then each is written alone with `RETRY`, so
one that can never be written (or a long outage) holds up only itself, as before batching."""

DEFERRED_RETRY = timedelta(minutes=1)

DELIVERY_BATCH = 100
"""Messages one delivery activity claims at most: a second's work or so. Continuing as new waits
for the delivery under way, and intake waits for the handover: at the outbox's default of 1,000
it stood still for 7.5 s at 10,000 applicants, while the confirmations flowed beside it."""

CALL_COMMUNICATIONS = "call-communications"
"""Patch id: missions started before the call sent emails keep their recorded timers."""

CARRY_MAIL_OVER = "carry-mail-over"
"""Patch id: a run continues as new without waiting for the whole outbox to be delivered."""

MATCHMAKING = "matchmaking"
"""Patch id: hosts, meeting requests, the scheduler and agendas; missions started before them
only walk the event's instants."""

SELECTION_REVIEW = "selection-review"
"""Patch id: the selection phase scores the applications and waits for the coordinators'
approval; missions started before it moved on at the decision instant."""

BATCHED_INTAKE = "batched-intake"
"""Patch id: submissions are written in batches by the recorder, not one local activity each."""

ADMIT_AFTER_ANSWER = "admit-after-answer"
"""Patch id: a submission's Update is answered before anything is written; its sender writes the
row, and the admitter writes what the senders did not and queues the confirmations."""

ADMIT_GATHERING = timedelta(seconds=1)
"""How long the admitter lets accepted submissions gather before writing them: long enough for
their senders to have written the rows (the admitter then only confirms them), short enough for
the confirmation to follow the answer closely."""

GATHER_EACH_BATCH = "gather-each-batch"
"""Patch id: under a steady stream of applications the admitter lets each batch gather as it
does the first, rather than writing whatever came during the previous write: a few full batches
a second instead of one small one per workflow task, each an activity, a workflow task more
between the Updates, and a transaction."""

HANDOVER_CUTS_GATHERING = "handover-cuts-gathering"
"""Patch id: a run that decided to continue as new stops the admitter's gathering and writes at
once: nothing more is accepted in this run, and every applicant who comes meanwhile waits for the
next one (at 10,000 applicants the gathering was most of a one-second pause in intake)."""

ADMITTED_SO_FAR = "admitted-so-far"
"""Patch id: what tells applicants, an amendment and a withdrawal wait until the applications
accepted before them are admitted, not until nothing at all waits: under a steady stream of
applicants that moment never came, and the call's announcement waited for the run's last Update
(and the handover for it)."""

QUIET_HANDOVER = "quiet-handover"
"""Patch id: a long run continues as new as it enters a phase (`messages.QUIET_HANDOVER_EVENTS`)."""

POST_EVENT = "post-event"
"""Patch id: visit registrations, the itinerary and reminders, feedback, the report and the
follow-up surveys; missions started before them only walk those phases' instants."""

MAX_BATCH = 100
"""Submissions written by one activity at most: the cap bounds the activity's payload."""


_Waiting = tuple[ApplicationRecord, "asyncio.Future[ApplicationReceipt]"]
"""A submission handed to the recorder, and where its handler awaits the receipt."""


@workflow.defn
class MissionWorkflow:
    @workflow.init
    def __init__(self, input: MissionInput) -> None:
        self._mission = input.mission
        self._state = input.state or lifecycle.begin(input.mission, workflow.now())
        self._max_updates_per_run = input.max_updates_per_run
        self._handover_events = input.handover_events
        self._updates_this_run = 0
        self._changes = 0
        self._mail_queued = 0
        self._mail_delivered = 0
        self._delivering = False
        self._talks = False
        self._selection_lock = asyncio.Lock()
        self._visits_lock = asyncio.Lock()  # places are written in the order they were decided
        self._admits: bool | None = None  # decided at the run's first submission
        self._admitting: list[ApplicationRecord] = []  # accepted, not yet admitted
        # The run's accepted submissions are numbered from 1 in order; `_admitting` holds those
        # from `_admitting_from` on, and `_writing` counts the writes under way (batches, and
        # single applications split off a failed one) by the number of their first submission.
        self._admitting_from = 1
        self._writing: collections.Counter[int] = collections.Counter()
        self._waits_for_earlier: bool | None = None  # decided at the run's first wait
        self._admitter: asyncio.Task[None] | None = None
        self._gathers: bool | None = None  # decided at the run's second batch
        self._cuts_gathering: bool | None = None  # decided at the run's first gathering
        self._batched: bool | None = None  # decided at the run's first submission
        self._waiting: list[_Waiting] = []
        self._recorder: asyncio.Task[None] | None = None
        self._alone: set[asyncio.Task[None]] = set()  # writes split off a failed batch
        self._continuing = False  # draining for continue-as-new: Updates wait for the next run
        self._hand_over = False  # a long run entered a phase: continue as new now

    @workflow.run
    async def run(self, input: MissionInput) -> MissionOutcome:
        self._talks = workflow.patched(CALL_COMMUNICATIONS)
        if input.state is None and workflow.patched(SELECTION_REVIEW):
            selection = self._state.selection.model_copy(update={"reviewed": True})
            self._state = self._state.model_copy(update={"selection": selection})
        if input.state is None and workflow.patched(MATCHMAKING):
            progress = self._state.matchmaking.model_copy(update={"enabled": True})
            self._state = self._state.model_copy(update={"matchmaking": progress})
        if input.state is None and workflow.patched(POST_EVENT):
            self._state = self._state.model_copy(
                update={
                    "visits": self._state.visits.model_copy(update={"enabled": True}),
                    "reporting": self._state.reporting.model_copy(update={"enabled": True}),
                }
            )
        if self._talks and input.state is not None and workflow.patched(CARRY_MAIL_OVER):
            self._mail_queued = 1  # deliver what the previous run left in the outbox
        postman = asyncio.create_task(self._postman()) if self._talks else None
        while True:
            await self._record_new_phases()
            if self._state.phase.is_terminal:
                break
            if self._talks:
                await self._tell_the_call()
            await self._run_selection()
            await self._run_seats()
            await self._run_matchmaking()
            await self._run_post_event()
            milestone = lifecycle.next_milestone(
                self._mission, self._state, workflow.now(), with_reminders=self._talks
            )
            assert milestone is not None  # only terminal phases have none
            workflow.set_current_details(self._details())
            await self._wait_for(milestone)
            if self._continue_as_new_due():
                self._continuing = True
                await self._drain(postman, every_email=not workflow.patched(CARRY_MAIL_OVER))
                workflow.continue_as_new(
                    MissionInput(
                        mission=self._mission,
                        state=self._state,
                        max_updates_per_run=self._max_updates_per_run,
                        handover_events=self._handover_events,
                    )
                )
            if self._talks:
                await self._tell_the_call()
            await self._run_selection()
            await self._run_seats()
            await self._run_matchmaking()
            await self._run_post_event()
            entered = len(self._state.entered)
            self._state = lifecycle.advance(self._mission, self._state, workflow.now())
            if (
                len(self._state.entered) > entered
                and workflow.info().get_current_history_length() > self._handover_events
                and workflow.patched(QUIET_HANDOVER)
            ):
                self._hand_over = True
        if self._talks and self._state.phase is Phase.CANCELLED:
            await self._tell_cancellation()
        await self._close_the_report()
        workflow.set_current_details(self._details())
        await self._drain(postman)
        return MissionOutcome(
            mission_id=self._mission.id,
            phase=self._state.phase,
            ended_at=self._state.entered[-1].at,
            cancel_reason=self._state.cancel_reason,
        )

    @workflow.query
    def status(self) -> MissionStatus:
        return lifecycle.status(self._mission, self._state, workflow.now())

    # Coordinators

    @workflow.update
    def cancel(self, request: CancelRequest) -> MissionStatus:
        """Cancel at any phase; the mission tells everyone concerned and ends `cancelled`."""
        self._state = lifecycle.cancel(self._state, request.reason, request.by, workflow.now())
        self._changed()
        return self.status()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if (refusal := lifecycle.cancel_refusal(self._state)) is not None:
            raise ApplicationError(refusal, type=CONFLICT)
        if not request.reason.strip():
            raise ApplicationError("Say why the mission is cancelled.", "reason", type=INVALID)

    @workflow.update
    def extend_deadline(self, request: DeadlineExtension) -> MissionStatus:
        """Move the call's deadline later; its timer and the reminders are re-planned at once."""
        self._state = lifecycle.extend_deadline(self._state, request.deadline, workflow.now())
        self._changed()
        return self.status()

    @extend_deadline.validator
    def _validate_extension(self, request: DeadlineExtension) -> None:
        refusal = lifecycle.extension_refusal(
            self._mission, self._state, request.deadline, workflow.now()
        )
        if refusal is not None:
            kind, message = refusal
            raise ApplicationError(
                message, "deadline", type=CONFLICT if kind == "conflict" else INVALID
            )

    @workflow.update
    async def add_invitees(self, batch: InviteeBatch) -> InviteeReceipt:
        """Invite more organisations while the call is open; they hear of it at once (or when
        it opens) and are reminded like the others."""
        self._changed(replan=False)
        now = workflow.now()
        opens = lifecycle.opens_at(self._mission, self._state)
        receipt = await workflow.execute_activity_method(
            CallActivities.add_invitees,
            InviteeNotice(
                mission_id=self._mission.id,
                at=now,
                opens=opens,
                deadline=self._state.deadline,
                invitees=batch.invitees,
                announce=now >= opens,
            ),
            start_to_close_timeout=timedelta(minutes=5),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RETRY,
            summary=f"Add {len(batch.invitees)} invitees",
        )
        if receipt.announced:
            self._mail_queued += 1
        return receipt

    @add_invitees.validator
    def _validate_invitees(self, _: InviteeBatch) -> None:
        if self._state.phase is not Phase.CALL_OPEN or workflow.now() >= self._state.deadline:
            refusal = lifecycle.call_refusal(self._mission, self._state, workflow.now())
            raise ApplicationError(f"{refusal} Invitees can no longer be added.", type=CONFLICT)
        self._refuse_while_handing_over()

    @workflow.update
    async def review_selection(self, request: SelectionRequest) -> SelectionView:
        """Overrides of the proposed delegation, and its approval: the selected are offered
        their seats, the others told."""
        # Two requests can both pass their validators before either handler runs.
        if (refusal := self._review_refusal(request)) is not None:
            kind, message, field = refusal
            raise ApplicationError(message, *([field] if field else []), type=kind)
        self._changed(replan=request.approve)
        return await self._review(request)

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
        async with self._selection_lock:  # the audit log and the decisions are written in order
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

    @review_selection.validator
    def _validate_review(self, request: SelectionRequest) -> None:
        if (refusal := self._review_refusal(request)) is not None:
            kind, message, field = refusal
            raise ApplicationError(message, *([field] if field else []), type=kind)

    def _review_refusal(self, request: SelectionRequest) -> tuple[str, str, str | None] | None:
        refusal = review.review_refusal(
            self._mission, self._state, request.overrides, approve=request.approve
        )
        if refusal is None:
            return None
        kind, message, field = refusal
        return (CONFLICT if kind == "conflict" else INVALID), message, field

    @workflow.update
    async def answer_seat(self, answer: SeatAnswer) -> Seat:
        """A selected applicant confirms or declines; a decline offers the seat to the
        waitlist at once."""
        if (refusal := self._seat_refusal(answer)) is not None:  # raced another answer
            raise ApplicationError(refusal, type=CONFLICT)
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
        if (refusal := self._seat_refusal(answer)) is not None:
            raise ApplicationError(refusal, type=CONFLICT)

    def _seat_refusal(self, answer: SeatAnswer) -> str | None:
        return seats.answer_refusal(
            self._state, answer.application_id, accept=answer.accept, now=workflow.now()
        )

    # Matchmaking

    @workflow.update
    async def add_hosts(self, batch: HostBatch) -> HostsLoaded:
        """Hosts of the matchmaking event, checked by the API against its slots."""
        self._changed(replan=False)
        return await workflow.execute_activity_method(
            MatchmakingActivities.load_hosts,
            HostNotice(mission_id=self._mission.id, at=workflow.now(), hosts=batch.hosts),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RETRY,
            summary=f"Load {len(batch.hosts)} host(s)",
        )

    @add_hosts.validator
    def _validate_hosts(self, _: HostBatch) -> None:
        event = self._mission.matchmaking
        if event is None or not self._state.matchmaking.enabled:
            raise ApplicationError("This mission has no matchmaking event.", type=CONFLICT)
        if self._state.phase.is_terminal or workflow.now() >= event.ends_at:
            raise ApplicationError("The matchmaking event is over.", type=CONFLICT)

    @workflow.update
    async def request_meeting(self, request: MeetingRequestInput) -> MeetingReceipt:
        self._changed(replan=False)
        receipt = await self._write_meeting(
            MatchmakingActivities.record_meeting_request,
            MeetingRecord(mission_id=self._mission.id, at=workflow.now(), request=request),
        )
        return receipt

    @request_meeting.validator
    def _validate_meeting_request(self, _: MeetingRequestInput) -> None:
        event = self._matchmaking_open()
        if (refusal := matchmaking.request_refusal(event, workflow.now())) is not None:
            raise ApplicationError(refusal, type=CONFLICT)

    @workflow.update
    async def answer_meeting(self, answer: MeetingAnswerInput) -> MeetingReceipt:
        """Accept, decline or cancel; after the schedule is out, a change places the meetings
        again with the others kept where they are."""
        self._changed(replan=False)
        return await self._write_meeting(
            MatchmakingActivities.record_meeting_answer,
            MeetingRecord(mission_id=self._mission.id, at=workflow.now(), answer=answer),
        )

    @answer_meeting.validator
    def _validate_meeting_answer(self, _: MeetingAnswerInput) -> None:
        event = self._matchmaking_open()
        if (refusal := matchmaking.answer_refusal(event, workflow.now())) is not None:
            raise ApplicationError(refusal, type=CONFLICT)

    def _matchmaking_open(self) -> Matchmaking:
        event = self._mission.matchmaking
        if event is None or not self._state.matchmaking.enabled:
            raise ApplicationError("This mission has no matchmaking event.", type=CONFLICT)
        if self._state.phase is not Phase.MATCHMAKING:
            raise ApplicationError(
                f"Meetings are arranged during matchmaking; the mission is in "
                f"{self._state.phase.value}.",
                type=CONFLICT,
            )
        self._refuse_while_handing_over()
        return event

    async def _write_meeting(
        self,
        activity: Callable[[MatchmakingActivities, MeetingRecord], Awaitable[MeetingReceipt]],
        record: MeetingRecord,
        *,
        mails: bool = True,
    ) -> MeetingReceipt:
        """A local activity, like an application's write. A change after the schedule is out
        (a meeting accepted or cancelled) wakes the main loop to place the meetings again."""
        try:
            receipt = await workflow.execute_local_activity_method(
                activity, record, start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY
            )
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type in (CONFLICT, NOT_FOUND, INVALID):
                raise ApplicationError(cause.message, *cause.details, type=cause.type) from None
            raise
        if receipt.changed and mails:
            self._mail_queued += 1
            progress = self._state.matchmaking
            if progress.version and receipt.status in ("accepted", "cancelled"):
                self._set_matchmaking(changes=progress.changes + 1)
                self._changes += 1  # wake the main loop to place the meetings again
        return receipt

    @workflow.update
    async def record_attendance(self, attendance: AttendanceInput) -> MeetingReceipt:
        self._changed(replan=False)
        return await self._write_meeting(
            MatchmakingActivities.record_attendance,
            MeetingRecord(mission_id=self._mission.id, at=workflow.now(), attendance=attendance),
            mails=False,
        )

    @record_attendance.validator
    def _validate_attendance(self, _: AttendanceInput) -> None:
        event = self._mission.matchmaking
        if event is None or not self._state.matchmaking.version:
            raise ApplicationError("No meeting has been scheduled.", type=CONFLICT)
        if workflow.now() < event.sessions[0].start:
            raise ApplicationError(
                "Attendance is recorded once the matchmaking event has started.", type=CONFLICT
            )

    async def _run_matchmaking(self) -> None:
        """Remind about unanswered requests, place the meetings at the deadline, and again
        after a late change."""
        event, progress = self._mission.matchmaking, self._state.matchmaking
        if event is None or not progress.enabled or self._state.phase is not Phase.MATCHMAKING:
            return
        now = workflow.now()
        if (
            not progress.reminded
            and matchmaking.reminder_at(event) <= now < event.requests_deadline
        ):
            await workflow.execute_activity_method(
                MatchmakingActivities.remind_matchmaking,
                MatchmakingNotice(mission_id=self._mission.id, at=now),
                start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RETRY,
                summary="Remind participants of the requests waiting for their answer",
            )
            self._set_matchmaking(reminded=True)
            self._mail_queued += 1
        due = now >= event.requests_deadline and (progress.version == 0 or progress.changes)
        if not due or now >= event.ends_at:
            return
        await workflow.wait_condition(self._settled)
        version = self._state.matchmaking.version + 1
        self._set_matchmaking(version=version, changes=0)
        report = await workflow.execute_activity_method(
            MatchmakingActivities.schedule_meetings,
            MatchmakingNotice(mission_id=self._mission.id, at=now, version=version),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
            summary="Place the accepted meetings and send the agendas"
            if version == 1
            else f"Place the meetings again after late changes (schedule {version})",
        )
        self._mail_queued += 1
        self._set_matchmaking(
            placed=f"Schedule {version}: {report.scheduled} of {report.requested} meetings "
            f"placed (upper bound {report.upper_bound}), {report.agendas_sent} agendas sent"
        )

    def _set_matchmaking(self, **changes: object) -> None:
        progress = self._state.matchmaking.model_copy(update=changes)
        self._state = self._state.model_copy(update={"matchmaking": progress})

    # Visits

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
            raise ApplicationError(message, type=NOT_FOUND if kind == "not_found" else CONFLICT)
        self._refuse_while_handing_over()

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
                    places=[
                        p
                        for p in self._state.visits.places
                        if p.visit_id in touched and p.status != visits.CANCELLED
                    ],
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RETRY,
            )
        if any(place.status == visits.REGISTERED for place in changes[1:]):
            self._mail_queued += 1  # a promotion from the waitlist is told

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
            await workflow.execute_activity_method(
                VisitActivities.record_visit_change,
                VisitNotice(
                    mission_id=self._mission.id,
                    at=workflow.now(),
                    visits=self._mission.visits,
                    visit_id=change.visit_id,
                    change=change,
                    sequence=sequences[change.visit_id],
                    places=[
                        p
                        for p in self._state.visits.places
                        if p.visit_id == change.visit_id and p.status != visits.CANCELLED
                    ],
                ),
                start_to_close_timeout=timedelta(minutes=5),
                retry_policy=RETRY,
                summary=f"Tell the delegates of the change to the visit to {visit.city}",
            )
        self._mail_queued += 1
        return visit

    @change_visit.validator
    def _validate_visit_change(self, change: VisitChangeInput) -> None:
        self._refuse_change(change)

    def _refuse_change(self, change: VisitChangeInput) -> None:
        refusal = visits.change_refusal(self._mission, self._state, change, workflow.now())
        if refusal is not None:
            kind, message, field = refusal
            kinds = {"not_found": NOT_FOUND, "conflict": CONFLICT, "invalid": INVALID}
            raise ApplicationError(message, *([field] if field else []), type=kinds[kind])

    @workflow.update
    async def record_visit_attendance(self, attendance: VisitAttendanceInput) -> VisitReceipt:
        self._changed(replan=False)
        try:
            return await workflow.execute_local_activity_method(
                VisitActivities.record_visit_attendance,
                VisitNotice(mission_id=self._mission.id, at=workflow.now(), attendance=attendance),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RETRY,
            )
        except ActivityError as error:
            if (refusal := _refusal(error)) is not None:
                raise refusal from None
            raise

    @record_visit_attendance.validator
    def _validate_visit_attendance(self, attendance: VisitAttendanceInput) -> None:
        visit = visits.find(self._mission, attendance.visit_id)
        if visit is None:
            raise ApplicationError(f"No visit {attendance.visit_id!r}.", type=NOT_FOUND)
        if not self._state.visits.enabled:
            raise ApplicationError("This mission does not record visits.", type=CONFLICT)
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
        if not self._state.visits.enabled:
            return
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
                        places=[
                            p for p in self._state.visits.places if p.status != visits.CANCELLED
                        ],
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

    # After the event: feedback, the report, the follow-up

    @workflow.update
    async def give_feedback(self, feedback: FeedbackInput) -> AnswerReceipt:
        """Feedback is welcome until the mission ends; late answers re-produce the report."""
        self._changed(replan=False)
        return await self._write_answer(
            FeedbackActivities.record_feedback,
            AnswerRecord(
                mission_id=self._mission.id,
                at=workflow.now(),
                closes_at=self._mission.feedback_closes_at,
                feedback=feedback,
            ),
        )

    @give_feedback.validator
    def _validate_feedback(self, _: FeedbackInput) -> None:
        progress = self._state.reporting
        if not progress.enabled:
            raise ApplicationError("This mission does not collect feedback.", type=CONFLICT)
        if self._state.phase.is_terminal:
            raise ApplicationError(f"The mission is {self._state.phase.value}.", type=CONFLICT)
        if not progress.feedback_requested:
            opens = describe(self._mission.event_ends_at, self._mission.timezone)
            raise ApplicationError(f"Feedback opens on {opens}.", type=CONFLICT)
        self._refuse_while_handing_over()

    @workflow.update
    async def answer_follow_up(self, answer: FollowUpInput) -> AnswerReceipt:
        self._changed(replan=False)
        return await self._write_answer(
            FeedbackActivities.record_follow_up,
            AnswerRecord(mission_id=self._mission.id, at=workflow.now(), follow_up=answer),
        )

    @answer_follow_up.validator
    def _validate_follow_up(self, answer: FollowUpInput) -> None:
        progress = self._state.reporting
        if not progress.enabled or not self._mission.reporting.follow_up:
            raise ApplicationError("This mission has no follow-up surveys.", type=CONFLICT)
        if self._state.phase.is_terminal:
            raise ApplicationError(f"The mission is {self._state.phase.value}.", type=CONFLICT)
        if answer.survey > progress.surveys_sent:
            surveys = lifecycle.follow_ups(self._mission)
            if answer.survey > len(surveys):
                raise ApplicationError(
                    f"This mission has {len(surveys)} follow-up survey(s).", "survey", type=INVALID
                )
            sent = describe(surveys[answer.survey - 1], self._mission.timezone)
            raise ApplicationError(
                f"Follow-up survey {answer.survey} opens on {sent}.", type=CONFLICT
            )
        self._refuse_while_handing_over()

    async def _write_answer(
        self,
        activity: Callable[[FeedbackActivities, AnswerRecord], Awaitable[AnswerReceipt]],
        record: AnswerRecord,
    ) -> AnswerReceipt:
        """A local activity; an answer after the report was produced marks it stale, and the
        main loop produces it again once `REPORT_REFRESH` has gathered the answers around it."""
        try:
            receipt = await workflow.execute_local_activity_method(
                activity, record, start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY
            )
        except ActivityError as error:
            if (refusal := _refusal(error)) is not None:
                raise refusal from None
            raise
        progress = self._state.reporting
        if receipt.changed and progress.reports and progress.stale_since is None:
            self._set_reporting(stale_since=workflow.now())
            self._changes += 1  # re-plan: the refresh is now the next instant
        return receipt

    async def _run_post_event(self) -> None:
        await self._run_visits()
        await self._run_reporting()

    async def _run_reporting(self) -> None:
        """Ask for feedback when the event ends, remind once, produce the report when the
        feedback closes (and again after late answers), and send each follow-up survey."""
        progress = self._state.reporting
        if not progress.enabled or self._state.phase not in (Phase.REPORTING, Phase.FOLLOW_UP):
            return
        now = workflow.now()
        closes = self._mission.feedback_closes_at
        notice = ReportingNotice(mission_id=self._mission.id, at=now, closes_at=closes)
        if not progress.feedback_requested:
            await self._post(
                FeedbackActivities.request_feedback,
                notice,
                "Ask the delegates and hosts for their feedback",
            )
            self._set_reporting(feedback_requested=True)
        if (
            not self._state.reporting.feedback_reminded
            and lifecycle.feedback_reminder_at(self._mission) <= now < closes
        ):
            await self._post(
                FeedbackActivities.remind_feedback,
                notice,
                "Remind those who have not given feedback",
            )
            self._set_reporting(feedback_reminded=True)
        if now >= closes and not self._state.reporting.reports:
            await self._produce_report("The feedback closed", email=True)
        elif (stale := self._state.reporting.stale_since) is not None and (
            now >= stale + lifecycle.REPORT_REFRESH
        ):
            await self._produce_report("Answers arrived after the last version", email=False)
        surveys = lifecycle.follow_ups(self._mission)
        for number, at in enumerate(surveys, start=1):
            if number <= self._state.reporting.surveys_sent or now < at:
                continue
            survey_closes = (
                surveys[number]
                if number < len(surveys)
                else lifecycle.surveys_close_at(self._mission)
            )
            await self._post(
                FeedbackActivities.send_survey,
                notice.model_copy(update={"survey": number, "closes_at": survey_closes}),
                f"Send follow-up survey {number} of {len(surveys)}",
            )
            self._set_reporting(surveys_sent=number)

    async def _post(
        self,
        activity: Callable[..., Awaitable[object]],
        notice: VisitNotice | ReportingNotice,
        summary: str,
        *,
        heartbeat: bool = True,
    ) -> None:
        """Run an activity that writes emails to the outbox, then wake the postman."""
        await workflow.execute_activity_method(
            activity,
            notice,
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=1) if heartbeat else None,
            retry_policy=RETRY,
            summary=summary,
        )
        self._mail_queued += 1

    async def _produce_report(self, reason: str, *, email: bool, final: bool = False) -> None:
        version = self._state.reporting.reports + 1
        self._set_reporting(stale_since=None)  # answers from now on are for the next version
        await workflow.execute_activity_method(
            ReportActivities.produce_report,
            ReportingNotice(
                mission_id=self._mission.id,
                at=workflow.now(),
                closes_at=self._mission.feedback_closes_at,
                reason=reason,
                version=version,
                final=final,
                email=email,
            ),
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
            summary=f"Produce the report, version {version}: {reason.lower()}",
        )
        self._set_reporting(reports=version, final=final)
        if email:
            self._mail_queued += 1

    async def _close_the_report(self) -> None:
        """The completed mission's last report, with every answer in, goes to the
        coordinators."""
        progress = self._state.reporting
        if not progress.enabled or self._state.phase is not Phase.COMPLETED or progress.final:
            return
        await workflow.wait_condition(self._settled)
        if self._state.reporting.stale_since is not None or self._mission.reporting.follow_up:
            await self._produce_report("The mission is complete", email=True, final=True)

    def _set_reporting(self, **changes: object) -> None:
        progress = self._state.reporting.model_copy(update=changes)
        self._state = self._state.model_copy(update={"reporting": progress})

    # Applicants

    @workflow.update
    async def submit_applications(self, batch: ApplicationSubmissions) -> ApplicationReceipts:
        """Accept the submissions one API process gathered while the call is open (the
        validator answers for them all, at one instant); a receipt for each."""
        self._changed(replan=False)
        if self._admitting_after_answer():
            receipts = [self._accepted(self._record(submission=s), s) for s in batch.submissions]
        else:  # a run recorded before answering first goes on writing before it answers
            receipts = list(
                await asyncio.gather(
                    *(
                        self._written_before_answer(self._record(submission=s))
                        for s in batch.submissions
                    )
                )
            )
        return ApplicationReceipts(receipts=receipts)

    @workflow.update
    async def submit_application(self, submission: ApplicationSubmission) -> ApplicationReceipt:
        """One submission per Update, as the API sent them before `submit_applications`: kept
        for the Updates of runs recorded then."""
        self._changed(replan=False)
        record = self._record(submission=submission)
        if self._admitting_after_answer():
            return self._accepted(record, submission)
        return await self._written_before_answer(record)

    async def _written_before_answer(self, record: ApplicationRecord) -> ApplicationReceipt:
        if self._batching():
            receipt = await self._written_in_batch(record)
        else:
            receipt = await self._write_application(
                ApplicationActivities.record_application, record
            )
        if receipt.changed:
            self._state = lifecycle.count_application(self._state, received=1)
        return receipt

    @workflow.update
    async def amend_application(self, change: ApplicationChange) -> ApplicationReceipt:
        self._changed(replan=False)
        await self._every_application_admitted()
        return await self._write_application(
            ApplicationActivities.amend_application, self._record(change=change)
        )

    @submit_application.validator
    def _validate_submission(self, _: ApplicationSubmission) -> None:
        self._refuse_unless_call_open()

    @submit_applications.validator
    def _validate_submissions(self, _: ApplicationSubmissions) -> None:
        self._refuse_unless_call_open()

    @amend_application.validator
    def _validate_change(self, _: ApplicationChange) -> None:
        self._refuse_unless_call_open()

    def _refuse_unless_call_open(self) -> None:
        refusal = lifecycle.call_refusal(self._mission, self._state, workflow.now())
        if refusal is not None:
            raise ApplicationError(refusal, type=CONFLICT)
        self._refuse_while_handing_over()

    @workflow.update
    async def withdraw_application(self, withdrawal: ApplicationWithdrawal) -> ApplicationReceipt:
        self._changed(replan=False)
        await self._every_application_admitted()
        receipt = await self._write_application(
            ApplicationActivities.withdraw_application, self._record(withdrawal=withdrawal)
        )
        if receipt.changed:  # this request withdrew it; a repeated one changes nothing
            self._state = lifecycle.count_application(self._state, withdrawn=1)
            self._state = review.withdrawn(self._state, withdrawal.application_id)
            if self._state.selection.approved_at is not None and not self._state.selection.locked:
                now = workflow.now()
                changes = self._release(withdrawal.application_id, "withdrawn", now)
                await self._record_seats(changes, now)
            if self._state.visits.enabled:
                now = workflow.now()
                self._state, places = visits.leave_all(
                    self._mission, self._state, withdrawal.application_id, now
                )
                await self._record_places(places, now)
        return receipt

    @withdraw_application.validator
    def _validate_withdrawal(self, _: ApplicationWithdrawal) -> None:
        if self._state.phase.is_terminal:
            raise ApplicationError(f"The mission is {self._state.phase.value}.", type=CONFLICT)

    def _record(
        self,
        *,
        submission: ApplicationSubmission | None = None,
        change: ApplicationChange | None = None,
        withdrawal: ApplicationWithdrawal | None = None,
    ) -> ApplicationRecord:
        return ApplicationRecord(
            mission_id=self._mission.id,
            at=workflow.now(),
            deadline=self._state.deadline,
            submission=submission,
            change=change,
            withdrawal=withdrawal,
        )

    async def _write_application(
        self,
        activity: Callable[
            [ApplicationActivities, ApplicationRecord], Awaitable[ApplicationReceipt]
        ],
        record: ApplicationRecord,
    ) -> ApplicationReceipt:
        """A local activity: one database transaction in the worker, one marker in history."""
        try:
            receipt = await workflow.execute_local_activity_method(
                activity, record, start_to_close_timeout=timedelta(seconds=30), retry_policy=RETRY
            )
        except ActivityError as error:
            if (refusal := _refusal(error)) is not None:
                raise refusal from None
            raise
        if receipt.changed:
            self._mail_queued += 1
        return receipt

    def _admitting_after_answer(self) -> bool:
        """Whether this run answers submissions before writing them; decided once per run at its
        first submission, as `_batching` is, and before it: a run recorded on either older path
        finds no marker here and goes on to that path."""
        if self._admits is None:
            self._admits = workflow.patched(ADMIT_AFTER_ANSWER)
            if self._admits:
                self._admitter = asyncio.create_task(self._admit())
        return self._admits

    def _accepted(
        self, record: ApplicationRecord, submission: ApplicationSubmission
    ) -> ApplicationReceipt:
        """Count the submission, leave it with the admitter and answer at once, `at` the
        acceptance."""
        self._admitting.append(record)
        self._state = lifecycle.count_application(self._state, received=1)
        missing = missing_items(
            self._mission, submission.form.answers, has_slide=submission.slide_id is not None
        )
        return ApplicationReceipt(
            application_id=submission.application_id,
            status=ApplicationStatus.RECEIVED,
            changed=True,
            complete=not missing,
            missing=missing,
            at=record.at,
        )

    def _settled(self) -> bool:
        """Every Update handled and every accepted application admitted: what the mission waits
        for before reading its applications to count them, tell them or move on."""
        return workflow.all_handlers_finished() and self._admitted_all()

    def _admitted_all(self) -> bool:
        """Whether every submission accepted so far is admitted (none waits, none is written)."""
        return not self._admitting and not self._writing

    def _admitted_through(self, number: int) -> bool:
        """Whether the accepted submissions numbered up to `number` are all admitted."""
        if self._admitting and self._admitting_from <= number:
            return False
        return all(first > number for first in self._writing)

    async def _every_application_admitted(self) -> None:
        """An amendment or a withdrawal may follow its submission closer than the admitter, and
        what tells applicants must reach every one accepted: rows are written first. Those
        accepted meanwhile are not waited for (`ADMITTED_SO_FAR`).

        Awaiting even a true condition yields to the other coroutines, which would reorder
        the commands of runs recorded before the admitter: only wait when something waits."""
        if self._waits_for_earlier is None:
            self._waits_for_earlier = workflow.patched(ADMITTED_SO_FAR)
        done = self._admitted_all
        if self._waits_for_earlier:
            last = self._admitting_from + len(self._admitting) - 1
            done = partial(self._admitted_through, last)
        if not done():
            await workflow.wait_condition(done)

    async def _admit(self) -> None:
        """The admitter: once submissions were accepted, let more gather for a moment, then
        write them all with one activity. A batch that fails `BATCH_RETRY`'s attempts is split,
        and each of its submissions written alone, retried until it succeeds, beside the
        admitter, which goes on: one that cannot be written delays only its own confirmation.
        Closing the call, continuing as new and ending wait until everything is admitted."""
        while True:
            await workflow.wait_condition(lambda: bool(self._admitting))
            await self._gather()
            while self._admitting:
                batch, self._admitting = self._admitting[:MAX_BATCH], self._admitting[MAX_BATCH:]
                first = self._admitting_from
                self._admitting_from += len(batch)
                self._writing[first] += 1
                try:
                    await self._admit_batch(batch, BATCH_RETRY)
                except ActivityError:
                    for number, record in enumerate(batch, start=first):
                        self._writing[number] += 1
                        alone = asyncio.create_task(self._admit_alone(record, number))
                        self._alone.add(alone)  # referenced until done
                        alone.add_done_callback(self._alone.discard)
                finally:
                    self._written(first)
                if 0 < len(self._admitting) < MAX_BATCH and self._gathering_between_batches():
                    await self._gather()

    async def _gather(self) -> None:
        """Let accepted submissions gather (`ADMIT_GATHERING`), unless the run hands over: then
        nothing more comes (`HANDOVER_CUTS_GATHERING`)."""
        summary = "gather the applications accepted meanwhile"
        if self._cuts_gathering is None:
            self._cuts_gathering = workflow.patched(HANDOVER_CUTS_GATHERING)
        if not self._cuts_gathering:
            await workflow.sleep(ADMIT_GATHERING, summary=summary)
            return
        with suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._continuing, timeout=ADMIT_GATHERING, timeout_summary=summary
            )

    def _gathering_between_batches(self) -> bool:
        """Whether the admitter lets a part batch gather before writing it (`GATHER_EACH_BATCH`);
        a run recorded before wrote what came during a write at once, and goes on doing so."""
        if self._gathers is None:
            self._gathers = workflow.patched(GATHER_EACH_BATCH)
        return self._gathers

    async def _admit_alone(self, record: ApplicationRecord, number: int) -> None:
        try:
            await self._admit_batch([record], RETRY)
        except ActivityError as error:  # not retryable: a bug, for the logs and the UI
            workflow.logger.error("an accepted application cannot be admitted: %s", error)
        finally:
            self._written(number)

    def _written(self, first: int) -> None:
        self._writing[first] -= 1
        if not self._writing[first]:
            del self._writing[first]

    async def _admit_batch(self, batch: list[ApplicationRecord], retry_policy: RetryPolicy) -> None:
        admissions = await workflow.execute_activity_method(
            ApplicationActivities.admit_applications,
            ApplicationBatch(mission_id=self._mission.id, records=batch),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=retry_policy,
            summary=f"Admit {len(batch)} application(s) and queue their confirmations",
        )
        # Counted when accepted; an applicant who had applied before is taken back.
        self._state = lifecycle.count_application(
            self._state, received=admissions.admitted - len(batch)
        )
        self._mail_queued += 1

    def _batching(self) -> bool:
        """Whether this run writes submissions in batches: decided once per run, at its first
        submission, and kept to the run's end.

        Replaying a run that wrote its submissions one by one (recorded before this patch, or
        upgraded while it ran) finds no marker at its first submission, so every later one of
        that run takes the old path too, as it did; the next run batches. `workflow.patched`
        memoizes per run as well: this only makes the one decision visible.
        """
        if self._batched is None:
            self._batched = workflow.patched(BATCHED_INTAKE)
            if self._batched:
                self._recorder = asyncio.create_task(self._record_batches())
        return self._batched

    async def _written_in_batch(self, record: ApplicationRecord) -> ApplicationReceipt:
        """Leave the submission with the recorder and wait until it is written."""
        written: asyncio.Future[ApplicationReceipt] = asyncio.get_running_loop().create_future()
        self._waiting.append((record, written))
        try:
            return await written
        except ActivityError as error:
            if (refusal := _refusal(error)) is not None:
                raise refusal from None
            raise

    async def _record_batches(self) -> None:
        """The recorder: group commit. Whenever submissions are waiting, take them all (up to
        `MAX_BATCH`) and write them with one local activity; while it runs, the next ones
        gather. Every handler waits for its own receipt, so draining the handlers (before the
        call closes, before continuing as new) still waits for every accepted application to
        be written.

        A batch that fails `BATCH_RETRY`'s attempts is split: each of its submissions is then
        written alone, retried until it succeeds, beside the recorder, which goes on with the
        next batch. A submission that cannot be written therefore delays its own applicant
        only, never the call's intake.
        """
        while True:
            await workflow.wait_condition(lambda: bool(self._waiting))
            batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
            try:
                await self._write_batch(batch, BATCH_RETRY)
            except FailureError:
                for one in batch:
                    alone = asyncio.create_task(self._write_alone(one))
                    self._alone.add(alone)  # referenced until done
                    alone.add_done_callback(self._alone.discard)

    async def _write_alone(self, one: _Waiting) -> None:
        try:
            await self._write_batch([one], RETRY)
        except FailureError as error:  # not retryable: the handler answers with it
            one[1].set_exception(error)

    async def _write_batch(self, batch: list[_Waiting], retry_policy: RetryPolicy) -> None:
        """Write the batch with one local activity and hand each handler its receipt.

        Raises:
            FailureError: the activity failed for good (its attempts spent, or an error that is
                not retryable; an ActivityError, or its cause itself); no handler answered.
        """
        try:
            written = await workflow.execute_local_activity_method(
                ApplicationActivities.record_applications,
                ApplicationBatch(mission_id=self._mission.id, records=[r for r, _ in batch]),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=retry_policy,
            )
            if len(written.receipts) != len(batch):
                raise RuntimeError(f"{len(written.receipts)} receipts for {len(batch)}")
        except FailureError:
            raise
        except Exception as error:
            # A bug, not a database answer: each handler raises it, which fails the workflow
            # task (retried) rather than leaving the handlers waiting.
            for _, waiting in batch:
                waiting.set_exception(error)
            return
        for (_, waiting), receipt in zip(batch, written.receipts, strict=True):
            waiting.set_result(receipt)
        if any(receipt.changed for receipt in written.receipts):
            self._mail_queued += 1

    # The main loop's helpers

    def _changed(self, *, replan: bool = True) -> None:
        """Count an accepted Update; wake the main loop to re-plan its timer when the plan moved.

        Applications do not move the plan: waking for each would cancel and restart the timer
        thousands of times in a busy call.
        """
        self._updates_this_run += 1
        self._state = self._state.model_copy(
            update={"updates_handled": self._state.updates_handled + 1}
        )
        if replan:
            self._changes += 1

    async def _wait_for(self, milestone: Milestone) -> None:
        """Sleep until the milestone, or until an Update changes the plan."""
        remaining = milestone.at - workflow.now()
        if remaining <= timedelta(0):
            return
        seen = self._changes
        with suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._changes != seen or self._continue_as_new_due(),
                timeout=remaining,
                timeout_summary=f"until {milestone.label}, {milestone.text}",
            )

    def _refuse_while_handing_over(self) -> None:
        """In a validator: refuse the Update as BUSY, for the next run to take (the API retries
        it), once this run decided to continue as new or reached its cap of Updates.

        Not merely because Temporal suggests continuing: a refused Update leaves nothing in
        history, so the SDK checks no wait condition after an activation that held only refused
        Updates. The main loop would never see the suggestion, and every Update would be refused
        for as long as nothing else happened (`simulate` stalled so in its feedback phase). An
        accepted one wakes the loop, which then continues as new."""
        if self._continuing or self._updates_this_run >= self._max_updates_per_run:
            raise ApplicationError("The mission is handing over to a new run.", type=BUSY)

    def _continue_as_new_due(self) -> bool:
        return (
            self._hand_over
            or self._updates_this_run >= self._max_updates_per_run
            or workflow.info().is_continue_as_new_suggested()
        )

    async def _drain(self, postman: asyncio.Task[None] | None, *, every_email: bool = True) -> None:
        """Before ending: every handler done and every queued email sent. Before continuing as
        new, only the delivery under way is awaited: what is left stays in the outbox for the
        next run, so a server that keeps deferring one message cannot hold the mission's intake.
        """
        await workflow.wait_condition(self._settled)
        if self._recorder is not None:  # idle: every submission's handler has its receipt
            self._recorder.cancel()
        if self._admitter is not None:  # idle: every accepted submission is admitted
            self._admitter.cancel()
        if postman is not None:
            if every_email:
                await workflow.wait_condition(lambda: self._mail_delivered == self._mail_queued)
            else:
                await workflow.wait_condition(lambda: not self._delivering)
            postman.cancel()

    async def _tell_the_call(self) -> None:
        """Announce, remind, tell of extensions and close the call, each once, when due."""
        now = workflow.now()
        for action in lifecycle.call_actions_due(self._mission, self._state, now):
            # Every application accepted so far is written before anyone is told or counted.
            await self._every_application_admitted()
            if action.kind == "close":
                # Applications accepted before the deadline finish writing before the count.
                await workflow.wait_condition(self._settled)
            await workflow.execute_activity_method(
                _CALL_ACTIVITIES[action.kind],
                CallNotice(
                    mission_id=self._mission.id,
                    at=now,
                    deadline=action.deadline,
                    previous_deadline=action.previous_deadline,
                    reminder=action.reminder,
                ),
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(minutes=1),
                retry_policy=RETRY,
                summary=_call_summary(action),
            )
            self._mail_queued += 1
            self._state = lifecycle.call_action_done(self._mission, self._state, action, now)

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
                await workflow.execute_activity_method(
                    SelectionActivities.remind_review,
                    notice.model_copy(update={"reminder": reminder}),
                    start_to_close_timeout=timedelta(minutes=10),
                    retry_policy=RETRY,
                    summary=f"Remind the coordinators to approve the delegation ({reminder})",
                )
                self._state = lifecycle.review_reminded(self._mission, self._state, now)
                self._mail_queued += 1
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
        return changes + self._promote(now)

    def _promote(self, now: datetime) -> list[SeatChange]:
        self._state, promoted = seats.promote(self._mission, self._state, now)
        return [
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
        if changes:
            await self._record_seats(changes, now)

    async def _record_seats(
        self, changes: list[SeatChange], now: datetime, *, final: bool = False
    ) -> None:
        if not changes and not final:
            return
        async with self._selection_lock:
            await workflow.execute_activity_method(
                SeatActivities.record_seats,
                SeatNotice(mission_id=self._mission.id, at=now, changes=changes, final=final),
                start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RETRY,
                summary="Lock the delegation and send the coordinators the final list"
                if final
                else ", ".join(sorted({f"{c.event}" for c in changes})).capitalize()
                + f" ({len(changes)} seat(s))",
            )
        self._mail_queued += 1

    async def _tell_cancellation(self) -> None:
        await workflow.wait_condition(self._settled)
        cancelled_in = self._state.entered[-2].phase
        await workflow.execute_activity_method(
            CallActivities.announce_cancellation,
            MissionNotice(
                mission_id=self._mission.id,
                at=workflow.now(),
                phase=cancelled_in,
                reason=self._state.cancel_reason or "",
            ),
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RETRY,
            summary="Tell everyone concerned that the mission is cancelled",
        )
        self._mail_queued += 1

    async def _postman(self) -> None:
        """Deliver the outbox whenever something was queued, one delivery at a time."""
        while True:
            await workflow.wait_condition(lambda: self._mail_delivered < self._mail_queued)
            queued = self._mail_queued
            self._delivering = True
            report = await workflow.execute_activity_method(
                EmailActivities.deliver_outbox,
                DeliveryRequest(mission_id=self._mission.id, limit=DELIVERY_BATCH),
                start_to_close_timeout=timedelta(minutes=30),
                # The activity beats every few seconds whatever SMTP does: a dead worker's batch
                # is taken over by another within this.
                heartbeat_timeout=timedelta(seconds=20),
                retry_policy=DELIVERY_RETRY,
                summary="Deliver the outbox",
            )
            self._delivering = False
            if report.remaining == 0:
                self._mail_delivered = queued
            elif report.remaining <= report.deferred:
                # Only messages the server asked us to send later are left: wait, then retry.
                await workflow.sleep(DEFERRED_RETRY, summary="SMTP server asked to retry later")

    async def _record_new_phases(self) -> None:
        """Write each phase entered since the last write, then show it in search and details.

        An Update may enter a phase (cancelled) while a write is under way, so the count is
        re-read after every write.
        """
        if self._state.recorded == len(self._state.entered):
            return
        while (index := self._state.recorded) < len(self._state.entered):
            entry = self._state.entered[index]
            await workflow.execute_activity_method(
                RecordActivities.record_phase,
                PhaseRecord(
                    mission_id=self._mission.id,
                    phase=entry.phase,
                    previous=self._state.entered[index - 1].phase if index else None,
                    at=entry.at,
                    note=entry.note,
                    run_id=workflow.info().run_id,
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RETRY,
                summary=f"Record phase {entry.phase.value}",
            )
            self._state = self._state.model_copy(update={"recorded": index + 1})
        workflow.upsert_search_attributes([MISSION_PHASE.value_set(self._state.phase.value)])

    def _details(self) -> str:
        text = lifecycle.waiting_for(self._mission, self._state, workflow.now())
        counts = ""
        if self._state.call.received:
            counts = f"\n\n{self._state.call.received - self._state.call.withdrawn} applications"
        if self._state.matchmaking.placed:
            counts += f"\n\n{self._state.matchmaking.placed}"
        return f"**{self._mission.title}** ({Phase(self._state.phase).title})\n\n{text}{counts}"


def _refusal(error: ActivityError) -> ApplicationError | None:
    """A write's refusal (conflict, not found) as the Update's answer; None for other errors."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in (CONFLICT, NOT_FOUND):
        return ApplicationError(cause.message, *cause.details, type=cause.type)
    return None


_CALL_ACTIVITIES = {
    "announce": CallActivities.announce_call,
    "extension": CallActivities.announce_extension,
    "remind": CallActivities.send_reminders,
    "close": CallActivities.close_call,
}


def _call_summary(action: CallAction) -> str:
    match action.kind:
        case "announce":
            return "Announce the call to the invitees"
        case "extension":
            return "Tell applicants and invitees the deadline is extended"
        case "remind":
            return f"Send the reminders {action.reminder} before the deadline"
        case _:
            return "Close the call and send the coordinators the counts"
