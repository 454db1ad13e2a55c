"""Preference lists: participants mark others while the lists are open (an Update answered by a
local activity, like a meeting request), and at `preferences_deadline` the lists become meetings
and requests in one batch (`missionflow.domain.matchmaking.preferences` says why one batch).

Only a mission file with `matchmaking.preferences_deadline` reaches any of this: missions started
before the field existed have none, so their recorded histories replay unchanged.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.preferences import PreferenceActivities
    from missionflow.domain.matchmaking.messages import MatchmakingNotice
    from missionflow.domain.matchmaking.preferences import (
        PreferenceMarkInput,
        PreferenceMarkRecord,
        PreferenceReceipt,
        preferences_refusal,
    )
    from missionflow.domain.mission.phases import Phase
    from missionflow.domain.refusals import CONFLICT

from workflows.matchmaking import MatchmakingPhase


class PreferenceLists(MatchmakingPhase):
    @workflow.update
    async def mark_preference(self, mark: PreferenceMarkInput) -> PreferenceReceipt:
        """Set or clear one mark on the participant's own list."""
        self._changed(replan=False)
        return await self._write_locally(
            PreferenceActivities.record_preference,
            PreferenceMarkRecord(mission_id=self._mission.id, at=workflow.now(), mark=mark),
        )

    @mark_preference.validator
    def _validate_mark(self, _: PreferenceMarkInput) -> None:
        event = self._matchmaking_open()
        if (refusal := preferences_refusal(event, workflow.now())) is not None:
            raise ApplicationError(refusal, type=CONFLICT)

    async def _convert_preferences(self) -> None:
        """At the lists' deadline, once: every mark set before it (the Updates in flight
        finished first) becomes what its pair's marks make."""
        event, progress = self._mission.matchmaking, self._state.matchmaking
        if (
            event is None
            or event.preferences_deadline is None
            or progress.preferences_converted
            or self._state.phase is not Phase.MATCHMAKING
            or workflow.now() < event.preferences_deadline
        ):
            return
        await workflow.wait_condition(self._settled)
        made_at = workflow.now()
        await self._post(
            PreferenceActivities.convert_preferences,
            MatchmakingNotice(mission_id=self._mission.id, at=made_at),
            "Turn the preference lists into meetings and requests",
            heartbeat=False,
        )
        self._set_matchmaking(preferences_converted=True)
        self._note_pending_since(made_at)  # the requests made expire too (request_expiry)
