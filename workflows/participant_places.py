"""A coordinator marks a participant remote, or in person again (`set_remote`). Before the
schedule this only changes how it will be placed; after it, the meetings are placed again
(the slots kept, the tables following) and the changed agendas sent, as after a late answer.

A new Update: histories recorded before it never call it, so they replay unchanged.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.participant_places import PlaceActivities
    from missionflow.domain.matchmaking.places import RemoteInput, RemoteReceipt, RemoteRecord
    from missionflow.domain.refusals import CONFLICT

from workflows.matchmaking import MatchmakingPhase


class ParticipantPlaces(MatchmakingPhase):
    @workflow.update
    async def set_remote(self, change: RemoteInput) -> RemoteReceipt:
        self._changed(replan=False)
        receipt = await self._write_locally(
            PlaceActivities.set_remote,
            RemoteRecord(mission_id=self._mission.id, at=workflow.now(), change=change),
        )
        progress = self._state.matchmaking
        if receipt.changed and progress.version:
            self._set_matchmaking(changes=progress.changes + 1)
            self._changes += 1  # wake the main loop to place the meetings again
        return receipt

    @set_remote.validator
    def _validate_remote(self, _: RemoteInput) -> None:
        event = self._mission.matchmaking
        if event is None:
            raise ApplicationError("This mission has no matchmaking event.", type=CONFLICT)
        if self._state.phase.is_terminal or workflow.now() >= event.ends_at:
            raise ApplicationError("The matchmaking event is over.", type=CONFLICT)
