"""The matchmaking's request timers: unanswered requests expire (`request_expiry`) and
participants with no accepted meeting are nudged (`nudge_every`).

Both wake the main loop through milestones (`request_policy.planned`): the next sweep, at the
earliest expiry rounded up to a quarter hour, and the next round of nudges. A mission file
without these fields plans neither and never reaches this code, so histories recorded before
them replay unchanged.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.meeting_requests import MeetingRequestActivities
    from missionflow.domain.matchmaking import request_policy as policy
    from missionflow.domain.matchmaking.messages import (
        MatchmakingNotice,
        MeetingReceipt,
        NudgeNotice,
    )
    from missionflow.domain.mission.event_sections import Matchmaking

from workflows.base import RETRY, MissionCore


class RequestTimers(MissionCore):
    def _note_request(self, receipt: MeetingReceipt) -> None:
        """A request Update's answer: a new pending request was made now."""
        if receipt.status == "pending" and receipt.changed:
            self._note_pending_since(workflow.now())

    def _note_pending_since(self, at: datetime) -> None:
        """Pending requests were made at `at` (by a request Update, or in a batch such as the
        preference lists' conversion): the sweep is due by their expiry at the latest. The main
        loop re-plans its timer when that is sooner than it planned."""
        event = self._mission.matchmaking
        if event is None or event.request_expiry is None:
            return
        progress = self._state.matchmaking
        due = policy.next_sweep(event, progress.expiry_due, at)
        if due != progress.expiry_due:
            self._set_matchmaking(expiry_due=due)
            self._changes += 1

    async def _run_request_timers(self, event: Matchmaking) -> None:
        """Expire the requests past their time, then nudge if a round is due."""
        now = workflow.now()
        due = self._state.matchmaking.expiry_due
        if due is not None and due <= now:
            # No answer is being written while requests expire: one made before a request's
            # time took it; one after is refused as late (`record_meeting_answer`).
            await workflow.wait_condition(self._settled)
            # Requests made while the sweep runs set a new due time themselves.
            self._set_matchmaking(expiry_due=None)
            sweep = await workflow.execute_activity_method(
                MeetingRequestActivities.expire_requests,
                MatchmakingNotice(mission_id=self._mission.id, at=now),
                start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RETRY,
                summary="Expire the meeting requests left unanswered too long",
            )
            if sweep.expired:
                self._mail_queued += 1
            noted = self._state.matchmaking.expiry_due
            nexts = [at for at in (sweep.next_due, noted) if at is not None]
            self._set_matchmaking(expiry_due=min(nexts) if nexts else None)
        progress = self._state.matchmaking
        if number := policy.due_nudge(event, progress.nudged, now):
            await self._post(
                MeetingRequestActivities.nudge,
                NudgeNotice(mission_id=self._mission.id, at=now, round=number),
                f"Nudge the participants with no accepted meeting yet (round {number})",
                heartbeat=False,
            )
            self._set_matchmaking(nudged=number)

    def _set_matchmaking(self, **changes: object) -> None:
        raise NotImplementedError  # `workflows.matchmaking`
