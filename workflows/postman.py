"""The postman: the coroutine that delivers the outbox beside the mission's own timers.

Activities write their emails to the outbox and bump `_mail_queued`; the postman runs the
delivery activity whenever something was queued, one delivery at a time, so a large delivery
never delays the mission's timers.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.email import EmailActivities
    from missionflow.domain.mission.messages import DeliveryRequest, MissionInput

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
