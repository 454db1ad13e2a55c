"""After the event: feedback, the report and its versions, and the follow-up surveys.

Answers are Updates written by local activities; one arriving after the report was produced
marks it stale, and the main loop produces the next version with one activity however many
answers came in meanwhile (`lifecycle.REPORT_REFRESH`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.feedback import FeedbackActivities
    from activities.report import ReportActivities
    from missionflow.domain.instants import describe
    from missionflow.domain.mission import lifecycle
    from missionflow.domain.mission.phases import Phase
    from missionflow.domain.refusals import CONFLICT, INVALID, saying
    from missionflow.domain.reporting.messages import (
        AnswerReceipt,
        AnswerRecord,
        FeedbackInput,
        FollowUpInput,
        ReportingNotice,
    )
    from missionflow.runtime.i18n import N_

from workflows.base import RETRY, MissionCore

FEEDBACK_OPENS = N_("Feedback opens on %(at)s.")
SURVEY_OPENS = N_("Follow-up survey %(survey)s opens on %(at)s.")
NO_SURVEYS = N_("This mission has no follow-up surveys.")
ENDED = {
    Phase.COMPLETED: N_("The mission is complete."),
    Phase.CANCELLED: N_("The mission was cancelled."),
}
"""What the feedback and follow-up forms may be refused with, in the reader's language there
(`missionflow.domain.refusals.saying`)."""


class ReportingPhase(MissionCore):
    @workflow.update
    async def give_feedback(self, feedback: FeedbackInput) -> AnswerReceipt:
        """Feedback is welcome until the mission ends; late answers re-produce the report."""
        self._changed(replan=False)
        return await self._write_answer(
            FeedbackActivities.record_feedback,
            AnswerRecord(
                mission_id=self._mission.id,
                at=workflow.now(),
                closes_at=self._mission.feedback_closes_at,
                feedback=feedback,
            ),
        )

    @give_feedback.validator
    def _validate_feedback(self, _: FeedbackInput) -> None:
        self._refuse_after_the_end()
        if not self._state.reporting.feedback_requested:
            opens = describe(self._mission.event_ends_at, self._mission.timezone)
            raise ApplicationError(
                f"Feedback opens on {opens}.",
                None,
                saying(FEEDBACK_OPENS, at=self._mission.event_ends_at),
                type=CONFLICT,
            )
        self._refuse_while_handing_over()

    @workflow.update
    async def answer_follow_up(self, answer: FollowUpInput) -> AnswerReceipt:
        self._changed(replan=False)
        return await self._write_answer(
            FeedbackActivities.record_follow_up,
            AnswerRecord(mission_id=self._mission.id, at=workflow.now(), follow_up=answer),
        )

    @answer_follow_up.validator
    def _validate_follow_up(self, answer: FollowUpInput) -> None:
        if not self._mission.reporting.follow_up:
            raise ApplicationError(
                "This mission has no follow-up surveys.", None, saying(NO_SURVEYS), type=CONFLICT
            )
        self._refuse_after_the_end()
        if answer.survey > self._state.reporting.surveys_sent:
            surveys = lifecycle.follow_ups(self._mission)
            if answer.survey > len(surveys):
                raise ApplicationError(
                    f"This mission has {len(surveys)} follow-up survey(s).", "survey", type=INVALID
                )
            opens = surveys[answer.survey - 1]
            raise ApplicationError(
                f"Follow-up survey {answer.survey} opens on "
                f"{describe(opens, self._mission.timezone)}.",
                None,
                saying(SURVEY_OPENS, survey=answer.survey, at=opens),
                type=CONFLICT,
            )
        self._refuse_while_handing_over()

    def _refuse_after_the_end(self) -> None:
        if self._state.phase.is_terminal:
            raise ApplicationError(
                f"The mission is {self._state.phase.value}.",
                None,
                saying(ENDED[Phase(self._state.phase)]),
                type=CONFLICT,
            )

    async def _write_answer(
        self,
        activity: Callable[[FeedbackActivities, AnswerRecord], Awaitable[AnswerReceipt]],
        record: AnswerRecord,
    ) -> AnswerReceipt:
        """An answer after the report was produced marks it stale: the main loop produces it
        again once `REPORT_REFRESH` has gathered the answers around it."""
        receipt = await self._write_locally(activity, record)
        progress = self._state.reporting
        if receipt.changed and progress.reports and progress.stale_since is None:
            self._set_reporting(stale_since=workflow.now())
            self._changes += 1  # re-plan: the refresh is now the next instant
        return receipt

    async def _run_reporting(self) -> None:
        """Ask for feedback when the event ends, remind once, produce the report when the
        feedback closes (and again after late answers), and send each follow-up survey."""
        if self._state.phase not in (Phase.REPORTING, Phase.FOLLOW_UP):
            return
        now = workflow.now()
        closes = self._mission.feedback_closes_at
        notice = ReportingNotice(mission_id=self._mission.id, at=now, closes_at=closes)
        if not self._state.reporting.feedback_requested:
            await self._post(
                FeedbackActivities.request_feedback,
                notice,
                "Ask the delegates and hosts for their feedback",
            )
            self._set_reporting(feedback_requested=True)
        if (
            not self._state.reporting.feedback_reminded
            and lifecycle.feedback_reminder_at(self._mission) <= now < closes
        ):
            await self._post(
                FeedbackActivities.remind_feedback,
                notice,
                "Remind those who have not given feedback",
            )
            self._set_reporting(feedback_reminded=True)
        if now >= closes and not self._state.reporting.reports:
            await self._produce_report("The feedback closed", email=True)
        elif (stale := self._state.reporting.stale_since) is not None and (
            now >= stale + lifecycle.REPORT_REFRESH
        ):
            await self._produce_report("Answers arrived after the last version", email=False)
        surveys = lifecycle.follow_ups(self._mission)
        for number, at in enumerate(surveys, start=1):
            if number <= self._state.reporting.surveys_sent or now < at:
                continue
            survey_closes = (
                surveys[number]
                if number < len(surveys)
                else lifecycle.surveys_close_at(self._mission)
            )
            await self._post(
                FeedbackActivities.send_survey,
                notice.model_copy(update={"survey": number, "closes_at": survey_closes}),
                f"Send follow-up survey {number} of {len(surveys)}",
            )
            self._set_reporting(surveys_sent=number)

    async def _produce_report(self, reason: str, *, email: bool, final: bool = False) -> None:
        version = self._state.reporting.reports + 1
        self._set_reporting(stale_since=None)  # answers from now on are for the next version
        await workflow.execute_activity_method(
            ReportActivities.produce_report,
            ReportingNotice(
                mission_id=self._mission.id,
                at=workflow.now(),
                closes_at=self._mission.feedback_closes_at,
                reason=reason,
                version=version,
                final=final,
                email=email,
            ),
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
            summary=f"Produce the report, version {version}: {reason.lower()}",
        )
        self._set_reporting(reports=version, final=final)
        if email:
            self._mail_queued += 1

    async def _close_the_report(self) -> None:
        """The completed mission's last report, with every answer in, goes to the
        coordinators."""
        if self._state.phase is not Phase.COMPLETED or self._state.reporting.final:
            return
        await workflow.wait_condition(self._settled)
        if self._state.reporting.stale_since is not None or self._mission.reporting.follow_up:
            await self._produce_report("The mission is complete", email=True, final=True)

    def _set_reporting(self, **changes: object) -> None:
        progress = self._state.reporting.model_copy(update=changes)
        self._state = self._state.model_copy(update={"reporting": progress})
