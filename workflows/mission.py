"""MissionWorkflow: one durable run per trade mission, from the call to the follow-up.

The workflow only orchestrates: it sleeps until the mission's true instants, moves phase by the
pure rules in `missionflow.domain.mission.lifecycle`, and has activities do every effect. Each
phase's state, Updates and validators live in a module named for the phase (`call`, `intake`,
`selection`, `matchmaking`, `visits`, `reporting`), assembled here into one class; this module
holds the phase walk, the status ops read, cancellation and the hand-over to a new run.

Coordinators steer it with Updates (validated before anything reaches history); ops read it with
the `status` query, the `MissionId`/`MissionPhase` search attributes and the current details in
the Temporal UI.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.call import CallActivities
    from activities.privacy import PrivacyActivities
    from activities.records import RecordActivities
    from missionflow.domain.instants import describe
    from missionflow.domain.mission import lifecycle
    from missionflow.domain.mission import status as mission_status
    from missionflow.domain.mission.messages import (
        CancelRequest,
        MissionInput,
        MissionNotice,
        MissionOutcome,
        MissionStatus,
        PhaseRecord,
        RetentionNotice,
    )
    from missionflow.domain.mission.milestone import Milestone
    from missionflow.domain.mission.phases import Phase
    from missionflow.domain.refusals import CONFLICT, INVALID
    from missionflow.runtime.temporal import MISSION_PHASE

from workflows.base import RETRY
from workflows.call import CallPhase
from workflows.check_in import CheckInDesk
from workflows.matchmaking import MatchmakingPhase
from workflows.participant_places import ParticipantPlaces
from workflows.postman import Postman
from workflows.preferences import PreferenceLists
from workflows.reporting import ReportingPhase
from workflows.selection import SelectionPhase
from workflows.visits import VisitsPhase


@workflow.defn
class MissionWorkflow(
    CallPhase,
    SelectionPhase,
    PreferenceLists,
    ParticipantPlaces,
    MatchmakingPhase,
    CheckInDesk,
    VisitsPhase,
    ReportingPhase,
    Postman,
):
    @workflow.init
    def __init__(self, input: MissionInput) -> None:
        super().__init__(input)

    @workflow.run
    async def run(self, input: MissionInput) -> MissionOutcome:
        admitter = asyncio.create_task(self._admit())
        postman = asyncio.create_task(self._deliver())
        while True:
            await self._record_new_phases()
            if self._state.phase.is_terminal:
                break
            await self._act_on_what_is_due()
            milestone = lifecycle.next_milestone(self._mission, self._state, workflow.now())
            assert milestone is not None  # only terminal phases have none
            workflow.set_current_details(self._details())
            await self._wait_for(milestone)
            if self._continue_as_new_due():
                self._continuing = True
                await self._drain(admitter, postman, every_email=False)
                workflow.continue_as_new(
                    MissionInput(
                        mission=self._mission,
                        state=self._state,
                        max_updates_per_run=self._max_updates_per_run,
                        handover_events=self._handover_events,
                    )
                )
            await self._act_on_what_is_due()
            entered = len(self._state.entered)
            self._state = lifecycle.advance(self._mission, self._state, workflow.now())
            # A long run continues as new as it enters a phase, a quiet moment (phases begin
            # at the mission's instants), rather than wait for Temporal's suggestion to come
            # amid a burst of Updates.
            if (
                len(self._state.entered) > entered
                and workflow.info().get_current_history_length() > self._handover_events
            ):
                self._hand_over = True
        if self._state.phase is Phase.CANCELLED:
            await self._tell_cancellation()
        await self._close_the_report()
        workflow.set_current_details(self._details())
        await self._drain(admitter, postman, every_email=True)
        await self._erase_when_retention_ends()
        return MissionOutcome(
            mission_id=self._mission.id,
            phase=self._state.phase,
            ended_at=self._state.entered[-1].at,
            cancel_reason=self._state.cancel_reason,
        )

    async def _erase_when_retention_ends(self) -> None:
        """With `privacy.retain_for`, the run outlives its mission by a durable timer, which a
        restart of workers or of Temporal does not lose; when it fires, everyone's personal data
        is erased. Missions started before the section existed have none and end as they did,
        so their recorded histories replay unchanged: no patch is needed."""
        erase_at = self._mission.privacy.erase_at(
            self._state.entered[-1].at, self._mission.timezone
        )
        if erase_at is None:
            return
        retain_for = self._mission.privacy.retain_for
        when = describe(erase_at, self._mission.timezone)
        workflow.set_current_details(
            f"{self._details()}\n\nPersonal data kept until {when} "
            f"(privacy.retain_for {retain_for} after the mission ended), then erased."
        )
        if (remaining := erase_at - workflow.now()) > timedelta(0):
            await workflow.sleep(
                remaining, summary=f"until {when}, the end of the retention period"
            )
        await workflow.execute_activity_method(
            PrivacyActivities.erase_personal_data,
            RetentionNotice(mission_id=self._mission.id, at=workflow.now()),
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
            summary="Erase everyone's personal data: the retention period has ended",
        )
        erased = describe(workflow.now(), self._mission.timezone)
        workflow.set_current_details(
            f"{self._details()}\n\nPersonal data erased on {erased} (privacy.retain_for "
            f"{retain_for})."
        )
        # An Update accepted while the timer ran (a late visit attendance) finishes first.
        await workflow.wait_condition(workflow.all_handlers_finished)

    @workflow.query
    def status(self) -> MissionStatus:
        return mission_status.status(self._mission, self._state, workflow.now())

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

    async def _act_on_what_is_due(self) -> None:
        """Each phase does what its rules say is due now; those not in their phase do nothing."""
        await self._tell_the_call()
        await self._run_selection()
        await self._run_seats()
        await self._convert_preferences()
        await self._run_matchmaking()
        await self._run_visits()
        await self._run_reporting()

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

    async def _drain(
        self, admitter: asyncio.Task[None], postman: asyncio.Task[None], *, every_email: bool
    ) -> None:
        """Before ending or continuing as new: every handler done, every accepted application
        admitted, and the outbox delivered (`Postman._delivered`)."""
        await workflow.wait_condition(self._settled)
        admitter.cancel()  # idle: every accepted submission is admitted
        await self._delivered(every_email=every_email)
        postman.cancel()

    async def _tell_cancellation(self) -> None:
        await workflow.wait_condition(self._settled)
        await self._post(
            CallActivities.announce_cancellation,
            MissionNotice(
                mission_id=self._mission.id,
                at=workflow.now(),
                phase=self._state.entered[-2].phase,
                reason=self._state.cancel_reason or "",
            ),
            "Tell everyone concerned that the mission is cancelled",
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
                retry_policy=RETRY,
                summary=f"Record phase {entry.phase.value}",
            )
            self._state = self._state.model_copy(update={"recorded": index + 1})
        workflow.upsert_search_attributes([MISSION_PHASE.value_set(self._state.phase.value)])

    def _details(self) -> str:
        """What the Temporal UI shows: the mission, its phase, what it waits for, its counts."""
        text = mission_status.waiting_for(self._mission, self._state, workflow.now())
        counts = ""
        if self._state.call.received:
            counts = f"\n\n{self._state.call.received - self._state.call.withdrawn} applications"
        if self._state.matchmaking.placed:
            counts += f"\n\n{self._state.matchmaking.placed}"
        return f"**{self._mission.title}** ({Phase(self._state.phase).title})\n\n{text}{counts}"
