"""MissionWorkflow: one durable run per trade mission, from the call to the follow-up.

The workflow only orchestrates: it sleeps until the mission's true instants, moves phase by the
pure rules in `missionflow.lifecycle`, and has activities do every effect. Coordinators steer it
with Updates (answered, validated before anything reaches history); ops read it with the `status`
query, the `MissionId`/`MissionPhase` search attributes and the current details in the UI.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.records import RecordActivities
    from missionflow import lifecycle
    from missionflow.lifecycle import Milestone
    from missionflow.messages import (
        CancelRequest,
        DeadlineExtension,
        MissionInput,
        MissionOutcome,
        MissionStatus,
        PhaseRecord,
    )
    from missionflow.phases import Phase
    from missionflow.refusals import CONFLICT, INVALID
    from missionflow.temporal import MISSION_PHASE

RECORD_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


@workflow.defn
class MissionWorkflow:
    @workflow.init
    def __init__(self, input: MissionInput) -> None:
        self._mission = input.mission
        self._state = input.state or lifecycle.begin(input.mission, workflow.now())
        self._max_updates_per_run = input.max_updates_per_run
        self._updates_this_run = 0
        self._changes = 0

    @workflow.run
    async def run(self, input: MissionInput) -> MissionOutcome:
        while True:
            await self._record_new_phases()
            if self._state.phase.is_terminal:
                break
            milestone = lifecycle.next_milestone(self._mission, self._state, workflow.now())
            assert milestone is not None  # only terminal phases have none
            workflow.set_current_details(self._details())
            await self._wait_for(milestone)
            if self._continue_as_new_due():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    MissionInput(
                        mission=self._mission,
                        state=self._state,
                        max_updates_per_run=self._max_updates_per_run,
                    )
                )
            self._state = lifecycle.advance(self._mission, self._state, workflow.now())
        workflow.set_current_details(self._details())
        await workflow.wait_condition(workflow.all_handlers_finished)
        return MissionOutcome(
            mission_id=self._mission.id,
            phase=self._state.phase,
            ended_at=self._state.entered[-1].at,
            cancel_reason=self._state.cancel_reason,
        )

    @workflow.query
    def status(self) -> MissionStatus:
        return lifecycle.status(self._mission, self._state, workflow.now())

    @workflow.update
    def cancel(self, request: CancelRequest) -> MissionStatus:
        """Cancel at any phase; the mission records it and ends `cancelled`."""
        self._state = lifecycle.cancel(self._state, request.reason, request.by, workflow.now())
        return self._changed()

    @cancel.validator
    def _validate_cancel(self, request: CancelRequest) -> None:
        if (refusal := lifecycle.cancel_refusal(self._state)) is not None:
            raise ApplicationError(refusal, type=CONFLICT)
        if not request.reason.strip():
            raise ApplicationError("Say why the mission is cancelled.", "reason", type=INVALID)

    @workflow.update
    def extend_deadline(self, request: DeadlineExtension) -> MissionStatus:
        """Move the call's deadline later; the deadline timer is re-armed at once."""
        self._state = lifecycle.extend_deadline(self._state, request.deadline)
        return self._changed()

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

    def _changed(self) -> MissionStatus:
        """Count an accepted Update and wake the main loop to re-plan its timer."""
        self._updates_this_run += 1
        self._state = self._state.model_copy(
            update={"updates_handled": self._state.updates_handled + 1}
        )
        self._changes += 1
        return self.status()

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

    def _continue_as_new_due(self) -> bool:
        return (
            self._updates_this_run >= self._max_updates_per_run
            or workflow.info().is_continue_as_new_suggested()
        )

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
                retry_policy=RECORD_RETRY,
                summary=f"Record phase {entry.phase.value}",
            )
            self._state = self._state.model_copy(update={"recorded": index + 1})
        workflow.upsert_search_attributes([MISSION_PHASE.value_set(self._state.phase.value)])

    def _details(self) -> str:
        text = lifecycle.waiting_for(self._mission, self._state, workflow.now())
        return f"**{self._mission.title}** ({Phase(self._state.phase).title})\n\n{text}"
