"""Arrivals on the day of the matchmaking event: the desk checks participants in.

Like meeting attendance, an arrival is an Update answered by a local activity: the validator
says whether the desk is open (from two hours before the first session until the event ends),
the activity writes the arrival once and says who it was, or when they were checked in first.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.check_ins import CheckInActivities
    from missionflow.domain.matchmaking.check_in import (
        CheckInInput,
        CheckInReceipt,
        CheckInRecord,
        check_in_refusal,
    )
    from missionflow.domain.refusals import CONFLICT

from workflows.base import MissionCore


class CheckInDesk(MissionCore):
    @workflow.update
    async def check_in(self, arrival: CheckInInput) -> CheckInReceipt:
        self._changed(replan=False)
        return await self._write_locally(
            CheckInActivities.record_check_in,
            CheckInRecord(mission_id=self._mission.id, at=workflow.now(), check_in=arrival),
        )

    @check_in.validator
    def _validate_check_in(self, _: CheckInInput) -> None:
        event = self._mission.matchmaking
        if event is None:
            raise ApplicationError("This mission has no matchmaking event.", type=CONFLICT)
        if self._state.phase.is_terminal:
            raise ApplicationError(f"The mission is {self._state.phase.value}.", type=CONFLICT)
        if (refusal := check_in_refusal(event, workflow.now())) is not None:
            raise ApplicationError(refusal, type=CONFLICT)
        self._refuse_while_handing_over()  # a desk scans hundreds: the run's cap holds
