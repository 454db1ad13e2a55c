"""After the event: feedback asked of the delegation and the hosts (once, then one reminder),
follow-up surveys months later, and the answers written.

Answers run as local activities from the mission workflow's Updates (`give_feedback`,
`answer_follow_up`): the workflow has said answers are still taken; these check the respondent
against the database and write. Requests, reminders and surveys are queued in the outbox under
one key per person and round, so a retried activity sends nothing twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from activities.applications import mission_file
from activities.refusal import refused
from missionflow.domain.matchmaking.rules import DELEGATE, HOST
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.refusals import CONFLICT, INVALID, NOT_FOUND
from missionflow.domain.reporting.feedback import (
    FEEDBACK_FIELDS,
    FOLLOW_UP_FIELDS,
    cleaned_feedback,
    cleaned_follow_up,
    is_late,
)
from missionflow.domain.reporting.meeting_ratings import EVENT, FOLLOW_UP
from missionflow.domain.reporting.messages import AnswerReceipt, AnswerRecord, ReportingNotice
from missionflow.runtime import meeting_ratings, participants
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.mail import context as mail
from missionflow.runtime.mail import outbox
from missionflow.runtime.models import Feedback, FollowUpAnswer, Host
from missionflow.runtime.participants import Participant
from missionflow.runtime.settings import Settings


class FeedbackActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="request_feedback")
    async def request_feedback(self, notice: ReportingNotice) -> int:
        """Every confirmed delegate and every host is asked once; returns how many."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            people = await participants.everyone(session, mission.id)
            await self._ask(session, mission, people, notice, reminder=False)
            return len(people)

    @activity.defn(name="remind_feedback")
    async def remind_feedback(self, notice: ReportingNotice) -> int:
        """Those who have not answered yet are reminded once; returns how many."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            answered = set(
                (
                    await session.exec(
                        select(Feedback.respondent_id).where(Feedback.mission_id == mission.id)
                    )
                ).all()
            )
            people = [
                p for p in await participants.everyone(session, mission.id) if p.id not in answered
            ]
            await self._ask(session, mission, people, notice, reminder=True)
            return len(people)

    @activity.defn(name="send_survey")
    async def send_survey(self, notice: ReportingNotice) -> int:
        """Follow-up survey `notice.survey` to every confirmed delegate; returns how many."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            _check_survey(mission, notice.survey)
            delegates = [
                p for p in await participants.everyone(session, mission.id) if p.kind == DELEGATE
            ]
            await outbox.add_all(
                session,
                [
                    mail.compose(
                        mission,
                        self._settings,
                        template="follow_up_survey",
                        recipient=person.contact_email,
                        recipient_name=person.contact_name,
                        context={
                            "organisation": person.name,
                            "survey": notice.survey,
                            "surveys": len(mission.reporting.follow_up),
                            "closes_at": notice.closes_at,
                            "survey_url": mail.follow_up_url(
                                self._settings, mission.id, person.id, survey=notice.survey
                            ),
                        },
                        key=f"follow_up_survey:{notice.survey}:{person.id}",
                        application_id=person.id,
                        language=person.language,
                    )
                    for person in delegates
                ],
            )
            return len(delegates)

    @activity.defn(name="record_feedback")
    async def record_feedback(self, record: AnswerRecord) -> AnswerReceipt:
        """Write a respondent's feedback: the first answer, or an amendment in place.

        A retry of the same write (same `record.at`) gives the same receipt again."""
        assert record.feedback is not None
        answer = cleaned_feedback(record.feedback)
        async with transaction(self._sessions) as session:
            await _respondent(
                session, record.mission_id, answer.respondent_id, answer.respondent_kind
            )
            values = answer.model_dump(include=set(FEEDBACK_FIELDS))
            rated = await _rate(session, record, answer.respondent_id, answer.respondent_kind)
            row = (
                await session.exec(
                    select(Feedback).where(
                        Feedback.mission_id == record.mission_id,
                        Feedback.respondent_id == answer.respondent_id,
                    )
                )
            ).first()
            if row is None:
                late = is_late(record.at, record.closes_at)
                session.add(
                    Feedback(
                        mission_id=record.mission_id,
                        respondent_kind=answer.respondent_kind,
                        respondent_id=answer.respondent_id,
                        late=late,
                        submitted_at=record.at,
                        updated_at=record.at,
                        **values,
                    )
                )
                return AnswerReceipt(
                    respondent_id=answer.respondent_id, changed=True, late=late, created=True
                )
            changed = _update(row, values, record.at) or rated
            return AnswerReceipt(
                respondent_id=answer.respondent_id,
                changed=changed,
                late=row.late,
                created=row.submitted_at == record.at,
            )

    @activity.defn(name="record_follow_up")
    async def record_follow_up(self, record: AnswerRecord) -> AnswerReceipt:
        """Write a delegate's answer to one follow-up survey, amended in place if given again.

        A retry of the same write (same `record.at`) gives the same receipt again."""
        assert record.follow_up is not None
        answer = cleaned_follow_up(record.follow_up)
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, record.mission_id)
            _check_survey(mission, answer.survey)
            await _respondent(session, mission.id, answer.application_id, DELEGATE)
            values = answer.model_dump(include=set(FOLLOW_UP_FIELDS))
            rated = await _rate(session, record, answer.application_id, DELEGATE)
            row = (
                await session.exec(
                    select(FollowUpAnswer).where(
                        FollowUpAnswer.mission_id == mission.id,
                        FollowUpAnswer.application_id == answer.application_id,
                        FollowUpAnswer.survey == answer.survey,
                    )
                )
            ).first()
            if row is None:
                session.add(
                    FollowUpAnswer(
                        mission_id=mission.id,
                        application_id=answer.application_id,
                        survey=answer.survey,
                        submitted_at=record.at,
                        updated_at=record.at,
                        **values,
                    )
                )
                return AnswerReceipt(
                    respondent_id=answer.application_id, changed=True, created=True
                )
            changed = _update(row, values, record.at) or rated
            return AnswerReceipt(
                respondent_id=answer.application_id,
                changed=changed,
                created=row.submitted_at == record.at,
            )

    async def _ask(
        self,
        session: AsyncSession,
        mission: MissionFile,
        people: list[Participant],
        notice: ReportingNotice,
        *,
        reminder: bool,
    ) -> None:
        round_ = "feedback_reminder" if reminder else "feedback_request"
        await outbox.add_all(
            session,
            [
                mail.compose(
                    mission,
                    self._settings,
                    template="feedback_request",
                    recipient=person.contact_email,
                    recipient_name=person.contact_name,
                    context=self._request_context(mission, person, notice, reminder=reminder),
                    key=f"{round_}:{person.id}",
                    application_id=person.id if person.kind == DELEGATE else None,
                    reminder=reminder,
                    language=person.language,
                )
                for person in people
            ],
        )

    def _request_context(
        self,
        mission: MissionFile,
        person: Participant,
        notice: ReportingNotice,
        *,
        reminder: bool,
    ) -> dict[str, Any]:
        return {
            "reminder": reminder,
            "organisation": person.name,
            "host": person.kind == HOST,
            "ask_visits": person.kind == DELEGATE and bool(mission.visits),
            "ask_matchmaking": mission.matchmaking is not None,
            "closes_at": notice.closes_at,
            "feedback_url": mail.feedback_url(
                self._settings, mission.id, person.id, host=person.kind == HOST
            ),
        }


async def _respondent(
    session: AsyncSession, mission_id: str, respondent_id: uuid.UUID, kind: str
) -> None:
    """Only a confirmed delegate or a host of this mission answers."""
    if kind == HOST:
        host = await session.get(Host, respondent_id)
        known = host is not None and host.mission_id == mission_id
    else:
        person = await participants.find(session, mission_id, respondent_id)
        known = (
            person is not None
            and person.kind == DELEGATE
            and await participants.in_delegation(session, respondent_id)
        )
    if not known:
        raise refused(f"No {kind} {respondent_id} in this mission's delegation.", NOT_FOUND)


async def _rate(
    session: AsyncSession, record: AnswerRecord, rater_id: uuid.UUID, kind: str
) -> bool:
    """Replace the rater's meeting ratings of the answer's stage when it carries any; whether
    they changed. Stage 1 ratings change until the feedback closes (late feedback without
    changed ratings is still taken); stage 2 ones while the surveys take answers."""
    answer = record.feedback or record.follow_up
    assert answer is not None
    if answer.meeting_ratings is None:
        return False
    stage = EVENT if record.feedback is not None else FOLLOW_UP
    try:
        changed = await meeting_ratings.replace_ratings(
            session, record.mission_id, rater_id, kind, stage, answer.meeting_ratings, record.at
        )
    except LookupError as error:
        raise refused(str(error), NOT_FOUND, "meeting_ratings") from None
    if changed and stage == EVENT and record.closes_at and record.at > record.closes_at:
        raise refused("Meeting ratings closed with the feedback.", CONFLICT, "meeting_ratings")
    return changed


def _check_survey(mission: MissionFile, survey: int) -> None:
    count = len(mission.reporting.follow_up)
    if not 1 <= survey <= count:
        raise refused(
            f"This mission has {count} follow-up surveys, not {survey}.", INVALID, "survey"
        )


def _update(row: Feedback | FollowUpAnswer, values: dict[str, Any], at: datetime) -> bool:
    """Amend a stored answer in place; whether anything changed. The same write repeated (a
    retried activity: same instant, same values) counts as the change it was."""
    if all(getattr(row, name) == value for name, value in values.items()):
        return row.updated_at == at
    for name, value in values.items():
        setattr(row, name, value)
    row.updated_at = at
    return True
