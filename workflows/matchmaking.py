"""The B2B matchmaking event: hosts, meeting requests and answers, the scheduling rounds and
their agendas, and attendance on the day.

Requests and answers are written by local activities inside their Updates; the schedule is
placed at the request deadline, and placed again, the other meetings kept where they are, after
a late change.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.matchmaking import MatchmakingActivities
    from missionflow.domain.matchmaking import rules as matchmaking
    from missionflow.domain.matchmaking.messages import (
        AttendanceInput,
        HostBatch,
        HostNotice,
        HostsLoaded,
        MatchmakingNotice,
        MeetingAnswerInput,
        MeetingReceipt,
        MeetingRecord,
        MeetingRequestInput,
    )
    from missionflow.domain.mission.event_sections import Matchmaking
    from missionflow.domain.mission.phases import Phase
    from missionflow.domain.refusals import CONFLICT

from workflows.base import RETRY
from workflows.meeting_requests import RequestTimers


class MatchmakingPhase(RequestTimers):
    @workflow.update
    async def add_hosts(self, batch: HostBatch) -> HostsLoaded:
        """Hosts of the matchmaking event, checked by the API against its slots."""
        self._changed(replan=False)
        return await workflow.execute_activity_method(
            MatchmakingActivities.load_hosts,
            HostNotice(mission_id=self._mission.id, at=workflow.now(), hosts=batch.hosts),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RETRY,
            summary=f"Load {len(batch.hosts)} host(s)",
        )

    @add_hosts.validator
    def _validate_hosts(self, _: HostBatch) -> None:
        event = self._event()
        if self._state.phase.is_terminal or workflow.now() >= event.ends_at:
            raise ApplicationError("The matchmaking event is over.", type=CONFLICT)

    @workflow.update
    async def request_meeting(self, request: MeetingRequestInput) -> MeetingReceipt:
        self._changed(replan=False)
        receipt = await self._write_meeting(
            MatchmakingActivities.record_meeting_request,
            MeetingRecord(mission_id=self._mission.id, at=workflow.now(), request=request),
        )
        self._note_request(receipt)
        return receipt

    @request_meeting.validator
    def _validate_meeting_request(self, _: MeetingRequestInput) -> None:
        event = self._matchmaking_open()
        if (refusal := matchmaking.request_refusal(event, workflow.now())) is not None:
            raise ApplicationError(refusal, type=CONFLICT)

    @workflow.update
    async def answer_meeting(self, answer: MeetingAnswerInput) -> MeetingReceipt:
        """Accept, decline or cancel; after the schedule is out, a change places the meetings
        again with the others kept where they are."""
        self._changed(replan=False)
        return await self._write_meeting(
            MatchmakingActivities.record_meeting_answer,
            MeetingRecord(mission_id=self._mission.id, at=workflow.now(), answer=answer),
        )

    @answer_meeting.validator
    def _validate_meeting_answer(self, _: MeetingAnswerInput) -> None:
        event = self._matchmaking_open()
        if (refusal := matchmaking.answer_refusal(event, workflow.now())) is not None:
            raise ApplicationError(refusal, type=CONFLICT)

    @workflow.update
    async def record_attendance(self, attendance: AttendanceInput) -> MeetingReceipt:
        self._changed(replan=False)
        return await self._write_meeting(
            MatchmakingActivities.record_attendance,
            MeetingRecord(mission_id=self._mission.id, at=workflow.now(), attendance=attendance),
            mails=False,
        )

    @record_attendance.validator
    def _validate_attendance(self, _: AttendanceInput) -> None:
        event = self._mission.matchmaking
        if event is None or not self._state.matchmaking.version:
            raise ApplicationError("No meeting has been scheduled.", type=CONFLICT)
        if workflow.now() < event.sessions[0].start:
            raise ApplicationError(
                "Attendance is recorded once the matchmaking event has started.", type=CONFLICT
            )

    def _event(self) -> Matchmaking:
        if (event := self._mission.matchmaking) is None:
            raise ApplicationError("This mission has no matchmaking event.", type=CONFLICT)
        return event

    def _matchmaking_open(self) -> Matchmaking:
        event = self._event()
        if self._state.phase is not Phase.MATCHMAKING:
            raise ApplicationError(
                f"Meetings are arranged during matchmaking; the mission is in "
                f"{self._state.phase.value}.",
                type=CONFLICT,
            )
        self._refuse_while_handing_over()
        return event

    async def _write_meeting(
        self,
        activity: Callable[[MatchmakingActivities, MeetingRecord], Awaitable[MeetingReceipt]],
        record: MeetingRecord,
        *,
        mails: bool = True,
    ) -> MeetingReceipt:
        """A change after the schedule is out (a meeting accepted or cancelled) wakes the main
        loop to place the meetings again."""
        receipt = await self._write_locally(activity, record)
        if receipt.changed and mails:
            self._mail_queued += 1
            progress = self._state.matchmaking
            if progress.version and receipt.status in ("accepted", "cancelled"):
                self._set_matchmaking(changes=progress.changes + 1)
                self._changes += 1  # wake the main loop to place the meetings again
        return receipt

    async def _run_matchmaking(self) -> None:
        """Remind about unanswered requests, place the meetings at the deadline, and again
        after a late change."""
        event, progress = self._mission.matchmaking, self._state.matchmaking
        if event is None or self._state.phase is not Phase.MATCHMAKING:
            return
        await self._run_request_timers(event)
        progress, now = self._state.matchmaking, workflow.now()
        if (
            not progress.reminded
            and matchmaking.reminder_at(event) <= now < event.requests_deadline
        ):
            await self._post(
                MatchmakingActivities.remind_matchmaking,
                MatchmakingNotice(mission_id=self._mission.id, at=now),
                "Remind participants of the requests waiting for their answer",
                heartbeat=False,
            )
            self._set_matchmaking(reminded=True)
        due = now >= event.requests_deadline and (progress.version == 0 or progress.changes)
        if not due or now >= event.ends_at:
            return
        await workflow.wait_condition(self._settled)
        version = self._state.matchmaking.version + 1
        self._set_matchmaking(version=version, changes=0)
        report = await workflow.execute_activity_method(
            MatchmakingActivities.schedule_meetings,
            MatchmakingNotice(mission_id=self._mission.id, at=now, version=version),
            start_to_close_timeout=timedelta(minutes=30),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
            summary="Place the accepted meetings and send the agendas"
            if version == 1
            else f"Place the meetings again after late changes (schedule {version})",
        )
        self._mail_queued += 1
        self._set_matchmaking(
            placed=f"Schedule {version}: {report.scheduled} of {report.requested} meetings "
            f"placed (upper bound {report.upper_bound}), {report.agendas_sent} agendas sent"
        )

    def _set_matchmaking(self, **changes: object) -> None:
        progress = self._state.matchmaking.model_copy(update=changes)
        self._state = self._state.model_copy(update={"matchmaking": progress})
