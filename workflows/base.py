"""What every part of the mission workflow shares: its state, the retry policies of its
activities, and the few rules that decide when it may take a request.

The mission is one workflow class assembled from one mixin per phase (`workflows.mission`); each
mixin keeps its own state and handlers, and reaches the others' through `self`, as the methods of
one class do. This base holds only what all of them read or change.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from missionflow.domain.mission import lifecycle
    from missionflow.domain.mission.messages import MissionInput
    from missionflow.domain.refusals import BUSY, CONFLICT, INVALID, NOT_FOUND

R = TypeVar("R")

RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)
"""Database and SMTP effects are retried until they succeed: an outage delays a mission, it does
not fail it. Refusals that retrying cannot fix are raised non-retryable by the activities."""

LOCAL_WRITE = timedelta(seconds=30)
"""A local activity's time: one transaction in the worker, answered inside an Update."""


class MissionCore:
    """The mission's file and state, and the counters the main loop and the postman watch."""

    def __init__(self, input: MissionInput) -> None:
        self._mission = input.mission
        self._state = input.state or lifecycle.begin(input.mission, workflow.now())
        self._max_updates_per_run = input.max_updates_per_run
        self._handover_events = input.handover_events
        self._updates_this_run = 0
        self._changes = 0  # bumped when the plan moved: the main loop re-plans its timer
        # Deliveries asked for and done; a run that continues from another delivers what the
        # previous one left in the outbox.
        self._mail_queued = 0 if input.state is None else 1
        self._mail_delivered = 0
        self._continuing = False  # draining for continue-as-new: Updates wait for the next run
        self._hand_over = False  # a long run entered a phase: continue as new now

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

    def _settled(self) -> bool:
        """Every Update handled and every accepted application admitted: what the mission waits
        for before reading its rows to count them, tell people or move on."""
        return workflow.all_handlers_finished() and self._admitted_all()

    # What one phase asks of another; each is defined by the phase that knows.

    def _admitted_all(self) -> bool:
        raise NotImplementedError  # `workflows.intake`

    async def _release_seat(self, application_id: uuid.UUID) -> None:
        raise NotImplementedError  # `workflows.selection`

    async def _leave_visits(self, application_id: uuid.UUID) -> None:
        raise NotImplementedError  # `workflows.visits`

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

    async def _post(
        self,
        activity: Callable[..., Awaitable[object]],
        notice: Any,
        summary: str,
        *,
        start_to_close: timedelta = timedelta(minutes=10),
        heartbeat: bool = True,
    ) -> None:
        """Run an activity that writes emails to the outbox, then wake the postman."""
        await workflow.execute_activity_method(
            activity,
            notice,
            start_to_close_timeout=start_to_close,
            heartbeat_timeout=timedelta(minutes=1) if heartbeat else None,
            retry_policy=RETRY,
            summary=summary,
        )
        self._mail_queued += 1

    async def _write_locally(self, activity: Callable[[Any, Any], Awaitable[R]], record: Any) -> R:
        """A local activity answering an Update: one transaction in the worker, one marker in
        history. The write's refusal (conflict, not found, invalid) becomes the Update's answer;
        any other failure is retried."""
        try:
            return await workflow.execute_local_activity_method(
                activity, record, start_to_close_timeout=LOCAL_WRITE, retry_policy=RETRY
            )
        except ActivityError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type in (CONFLICT, NOT_FOUND, INVALID):
                raise ApplicationError(cause.message, *cause.details, type=cause.type) from None
            raise
