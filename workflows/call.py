"""The call for expressions of interest: applications, invitees, the deadline and what the call
tells people (announcement, reminders, extensions, the close).

Whether the call is open is said in one place, the validators here, to the second: an Update
refused there leaves nothing in history. Each application is answered at once and written by
the admitter (`workflows.intake`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.applications import ApplicationActivities
    from activities.call import CallActivities
    from missionflow.domain.call import deadline
    from missionflow.domain.call.deadline import CallAction
    from missionflow.domain.call.messages import (
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
    from missionflow.domain.mission import status as mission_status
    from missionflow.domain.mission.messages import DeadlineExtension, MissionStatus
    from missionflow.domain.mission.phases import Phase
    from missionflow.domain.refusals import CONFLICT, INVALID
    from missionflow.domain.selection import review

from workflows.base import RETRY
from workflows.intake import Intake


class CallPhase(Intake):
    @workflow.update
    async def submit_applications(self, batch: ApplicationSubmissions) -> ApplicationReceipts:
        """Accept the submissions one API process gathered while the call is open (the
        validator answers for them all, at one instant); a receipt for each."""
        self._changed(replan=False)
        return ApplicationReceipts(
            receipts=[self._accepted(self._record(submission=s), s) for s in batch.submissions]
        )

    @submit_applications.validator
    def _validate_submissions(self, _: ApplicationSubmissions) -> None:
        self._refuse_unless_call_open()

    @workflow.update
    async def amend_application(self, change: ApplicationChange) -> ApplicationReceipt:
        self._changed(replan=False)
        await self._admitted_so_far()
        return await self._write_application(
            ApplicationActivities.amend_application, self._record(change=change)
        )

    @amend_application.validator
    def _validate_change(self, _: ApplicationChange) -> None:
        self._refuse_unless_call_open()

    @workflow.update
    async def withdraw_application(self, withdrawal: ApplicationWithdrawal) -> ApplicationReceipt:
        """Withdraw at any phase: a seat or a place on a visit it held is offered on."""
        self._changed(replan=False)
        await self._admitted_so_far()
        receipt = await self._write_application(
            ApplicationActivities.withdraw_application, self._record(withdrawal=withdrawal)
        )
        if receipt.changed:  # this request withdrew it; a repeated one changes nothing
            self._state = deadline.count_application(self._state, withdrawn=1)
            self._state = review.withdrawn(self._state, withdrawal.application_id)
            await self._release_seat(withdrawal.application_id)
            await self._leave_visits(withdrawal.application_id)
        return receipt

    @withdraw_application.validator
    def _validate_withdrawal(self, _: ApplicationWithdrawal) -> None:
        if self._state.phase.is_terminal:
            raise ApplicationError(f"The mission is {self._state.phase.value}.", type=CONFLICT)

    @workflow.update
    async def add_invitees(self, batch: InviteeBatch) -> InviteeReceipt:
        """Invite more organisations while the call is open; they hear of it at once (or when
        it opens) and are reminded like the others."""
        self._changed(replan=False)
        now = workflow.now()
        opens = deadline.opens_at(self._mission, self._state)
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
            refusal = deadline.call_refusal(self._mission, self._state, workflow.now())
            raise ApplicationError(f"{refusal} Invitees can no longer be added.", type=CONFLICT)
        self._refuse_while_handing_over()

    @workflow.update
    def extend_deadline(self, request: DeadlineExtension) -> MissionStatus:
        """Move the call's deadline later; its timer and the reminders are re-planned at once."""
        self._state = deadline.extend_deadline(self._state, request.deadline, workflow.now())
        self._changed()
        return mission_status.status(self._mission, self._state, workflow.now())

    @extend_deadline.validator
    def _validate_extension(self, request: DeadlineExtension) -> None:
        refusal = deadline.extension_refusal(
            self._mission, self._state, request.deadline, workflow.now()
        )
        if refusal is not None:
            kind, message = refusal
            raise ApplicationError(
                message, "deadline", type=CONFLICT if kind == "conflict" else INVALID
            )

    def _refuse_unless_call_open(self) -> None:
        refusal = deadline.call_refusal(self._mission, self._state, workflow.now())
        if refusal is not None:
            raise ApplicationError(refusal, type=CONFLICT)
        self._refuse_while_handing_over()

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
        receipt = await self._write_locally(activity, record)
        if receipt.changed:
            self._mail_queued += 1
        return receipt

    async def _tell_the_call(self) -> None:
        """Announce, remind, tell of extensions and close the call, each once, when due."""
        now = workflow.now()
        for action in deadline.call_actions_due(self._mission, self._state, now):
            # Every application accepted so far is written before anyone is told or counted.
            await self._admitted_so_far()
            if action.kind == "close":
                # Applications accepted before the deadline finish writing before the count.
                await workflow.wait_condition(self._settled)
            await self._post(
                _CALL_ACTIVITIES[action.kind],
                CallNotice(
                    mission_id=self._mission.id,
                    at=now,
                    deadline=action.deadline,
                    previous_deadline=action.previous_deadline,
                    reminder=action.reminder,
                ),
                _call_summary(action),
            )
            self._state = deadline.call_action_done(self._mission, self._state, action, now)


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
