"""The postman: the coroutine that delivers the outbox beside the mission's own timers.

Activities write their emails to the outbox and bump `_mail_queued`; the postman runs the
delivery activity whenever something was queued, one delivery at a time, so a large delivery
never delays the mission's timers. A coordinator's resend of a failed email comes the same way:
the row goes back to "queued" and the postman is woken, so it is delivered like any other.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.email import EmailActivities
    from activities.outbox import OutboxActivities
    from missionflow.domain.mission.messages import (
        DeliveryRequest,
        EmailRequeue,
        EmailRequeued,
        EmailResend,
        MissionInput,
    )
    from missionflow.domain.refusals import CONFLICT

from workflows.base import MissionCore

DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
)

DEFERRED_RETRY = timedelta(minutes=1)

DELIVERY_BATCH = 100
"""Messages one delivery activity claims at most: a second's work or so. Continuing as new waits
for the delivery under way, and intake waits for the handover: at the outbox's default of 1,000
it stood still for 7.5 s at 10,000 applicants, while the confirmations flowed beside it."""


class Postman(MissionCore):
    def __init__(self, input: MissionInput) -> None:
        super().__init__(input)
        self._delivering = False

    async def _deliver(self) -> None:
        """Deliver the outbox whenever something was queued, until cancelled."""
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

    async def _delivered(self, *, every_email: bool) -> None:
        """Before ending, every queued email sent; before continuing as new, only the delivery
        under way: what is left stays in the outbox for the next run, so a server that keeps
        deferring one message cannot hold the mission's intake."""
        if every_email:
            await workflow.wait_condition(lambda: self._mail_delivered == self._mail_queued)
        else:
            await workflow.wait_condition(lambda: not self._delivering)

    @workflow.update
    async def resend_email(self, request: EmailResend) -> EmailRequeued:
        """Send a failed email again: its row back to "queued", then the postman woken.

        The validator cannot read the outbox (a workflow reads no database), so a message the
        mission does not have, or one no longer failed, is refused by the activity: its
        conditional move lets one of two resends at once through, and the other is told.
        """
        self._changed(replan=False)
        try:
            requeued = await self._write_locally(
                OutboxActivities.requeue_failed_email,
                EmailRequeue(mission_id=self._mission.id, email_id=request.email_id),
            )
        except ApplicationError as error:
            if error.type == CONFLICT:
                # Perhaps queued by this very request, by an attempt whose answer was lost:
                # waking the postman costs one delivery that may find nothing to send.
                self._mail_queued += 1
            raise
        self._mail_queued += 1
        return requeued

    @resend_email.validator
    def _validate_resend(self, request: EmailResend) -> None:
        self._refuse_while_handing_over()
        if self._state.phase.is_terminal:
            # The run delivers what was queued before it ended, then the postman stops.
            raise ApplicationError(
                f"The mission is {self._state.phase.value}: it sends no more emails.",
                type=CONFLICT,
            )
