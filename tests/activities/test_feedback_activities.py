"""The feedback and follow-up activities against SQLite and PostgreSQL: who is asked, who is
reminded, what is written, what is refused, and that a retry sends and writes nothing twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from feedback_people import People, seed
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.exceptions import ApplicationError

from activities.feedback import FeedbackActivities
from missionflow.domain.access import access_token
from missionflow.domain.refusals import INVALID, NOT_FOUND
from missionflow.domain.reporting.messages import (
    AnswerRecord,
    FeedbackInput,
    FollowUpInput,
    ReportingNotice,
)
from missionflow.runtime.models import Feedback, FollowUpAnswer, OutboxMessage
from missionflow.runtime.settings import Settings

CLOSES = datetime(2034, 5, 22, 21, 0, tzinfo=UTC)  # 23:00 in Brussels


@pytest.fixture
async def people(session_factory: async_sessionmaker[AsyncSession]) -> People:
    return await seed(session_factory)


@pytest.fixture
def activities(engine: AsyncEngine, settings: Settings) -> FeedbackActivities:
    return FeedbackActivities(engine, settings)


def notice(people: People, **changes: object) -> ReportingNotice:
    fields = {"mission_id": people.mission.id, "at": datetime.now(UTC), "closes_at": CLOSES}
    return ReportingNotice.model_validate({**fields, **changes})


def record(people: People, at: datetime, **feedback: object) -> AnswerRecord:
    return AnswerRecord(
        mission_id=people.mission.id,
        at=at,
        closes_at=CLOSES,
        feedback=FeedbackInput(**{"respondent_kind": "delegate", **feedback}),
    )


def survey_record(people: People, at: datetime, **answer: object) -> AnswerRecord:
    return AnswerRecord(
        mission_id=people.mission.id,
        at=at,
        follow_up=FollowUpInput(**{"application_id": people.delegates[0], "survey": 1, **answer}),
    )


async def outbox(factory: async_sessionmaker[AsyncSession], template: str) -> list[OutboxMessage]:
    async with factory() as session:
        rows = await session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.template == template)
            .order_by(col(OutboxMessage.recipient))
        )
        return list(rows.all())


async def feedback_rows(factory: async_sessionmaker[AsyncSession]) -> list[Feedback]:
    async with factory() as session:
        return list((await session.exec(select(Feedback))).all())


async def test_the_delegation_and_the_hosts_are_asked_once_with_their_own_link(
    activities: FeedbackActivities, people: People, session_factory, settings: Settings
) -> None:
    assert await activities.request_feedback(notice(people)) == 3
    assert await activities.request_feedback(notice(people)) == 3  # a retry

    messages = await outbox(session_factory, "feedback_request")
    assert [m.recipient for m in messages] == [
        "alpha@example.org",
        "beta@example.org",
        "boston@host.example.com",
    ]
    secret = settings.link_secret()
    base = f"http://missionflow.test/missions/{people.mission.id}/feedback?token="
    alpha, beta, host = messages
    assert f"{base}{access_token(secret, people.delegates[0])}" in alpha.text_body
    assert f"{base}{access_token(secret, people.delegates[1])}" in beta.text_body
    assert f"{base}{access_token(secret, people.host, kind='host')}" in host.text_body
    assert alpha.application_id == people.delegates[0] and host.application_id is None
    for message in messages:
        assert "22 May 2034 23:00 CEST (21:00 UTC)" in message.text_body
        assert "22 May 2034 23:00 CEST (21:00 UTC)" in message.html_body
        assert "Auto-Submitted" not in message.headers
    assert "rating from 1 to 5 of the visits" in alpha.text_body
    assert "of the visits" not in host.text_body and "as a host" in host.text_body


async def test_only_those_who_have_not_answered_are_reminded_once(
    activities: FeedbackActivities, people: People, session_factory
) -> None:
    await activities.request_feedback(notice(people))
    await activities.record_feedback(
        record(people, datetime.now(UTC), respondent_id=people.delegates[0], rating_visits=4)
    )

    assert await activities.remind_feedback(notice(people)) == 2
    assert await activities.remind_feedback(notice(people)) == 2  # a retry

    reminders = [
        m
        for m in await outbox(session_factory, "feedback_request")
        if m.idempotency_key.startswith(f"{people.mission.id}:feedback_reminder:")
    ]
    assert [m.recipient for m in reminders] == ["beta@example.org", "boston@host.example.com"]
    assert all(m.headers["Auto-Submitted"] == "auto-generated" for m in reminders)
    assert all(m.subject.startswith("Reminder: your feedback") for m in reminders)


async def test_a_survey_goes_to_the_delegates_only_once_per_number(
    activities: FeedbackActivities, people: People, session_factory, settings: Settings
) -> None:
    assert await activities.send_survey(notice(people, survey=1)) == 2
    assert await activities.send_survey(notice(people, survey=1)) == 2  # a retry
    assert await activities.send_survey(notice(people, survey=2, closes_at=None)) == 2

    messages = await outbox(session_factory, "follow_up_survey")
    assert len(messages) == 4
    assert {m.recipient for m in messages} == {"alpha@example.org", "beta@example.org"}
    token = access_token(settings.link_secret(), people.delegates[0])
    link = f"http://missionflow.test/missions/{people.mission.id}/follow-up?token={token}"
    first = [m for m in messages if m.recipient == "alpha@example.org" and "1 of 2" in m.subject]
    assert len(first) == 1 and f"{link}&survey=1" in first[0].text_body
    assert "22 May 2034 23:00 CEST" in first[0].text_body
    with pytest.raises(ApplicationError) as refused:
        await activities.send_survey(notice(people, survey=3))
    assert refused.value.type == INVALID and refused.value.non_retryable


async def test_feedback_is_written_amended_and_a_repeat_changes_nothing(
    activities: FeedbackActivities, people: People, session_factory
) -> None:
    at = CLOSES - timedelta(days=1)
    fields = {
        "respondent_id": people.delegates[0],
        "rating_matchmaking": 5,
        "rating_visits": 4,
        "rating_organisation": 5,
        "met_partners": True,
        "testimonial": "  Three partners met.  ",
        "consent_to_publish": True,
    }
    first = await activities.record_feedback(record(people, at, **fields))
    retried = await activities.record_feedback(record(people, at, **fields))
    repeat = await activities.record_feedback(record(people, at + timedelta(hours=1), **fields))
    amended = await activities.record_feedback(
        record(people, at + timedelta(hours=2), **{**fields, "consent_to_publish": False})
    )

    assert (first.created, first.changed, first.late) == (True, True, False)
    assert (retried.created, retried.changed) == (True, True)
    assert (repeat.created, repeat.changed) == (False, False)
    assert (amended.created, amended.changed) == (False, True)
    (row,) = await feedback_rows(session_factory)
    assert row.testimonial == "Three partners met." and row.consent_to_publish is False
    assert row.respondent_kind == "delegate" and row.met_partners is True
    assert row.submitted_at == at and row.updated_at == at + timedelta(hours=2)


async def test_feedback_first_given_after_closing_is_late_and_stays_late(
    activities: FeedbackActivities, people: People, session_factory
) -> None:
    on_time = await activities.record_feedback(
        record(people, CLOSES, respondent_id=people.delegates[0], rating_organisation=3)
    )
    late = await activities.record_feedback(
        record(
            people,
            CLOSES + timedelta(seconds=1),
            respondent_id=people.host,
            respondent_kind="host",
            rating_matchmaking=2,
        )
    )
    amended_later = await activities.record_feedback(
        record(
            people,
            CLOSES + timedelta(days=2),
            respondent_id=people.delegates[0],
            rating_organisation=4,
        )
    )

    assert not on_time.late and late.late and not amended_later.late
    rows = {row.respondent_id: row for row in await feedback_rows(session_factory)}
    assert rows[people.host].late and rows[people.host].respondent_kind == "host"
    assert not rows[people.delegates[0]].late and rows[people.delegates[0]].rating_organisation == 4


@pytest.mark.parametrize(
    ("who", "kind"),
    [
        ("waitlisted", "delegate"),
        ("foreign_host", "host"),
        ("host", "delegate"),  # a host's id given as a delegate's
        ("delegate", "host"),  # and the other way round
        ("stranger", "delegate"),
    ],
)
async def test_only_confirmed_delegates_and_this_missions_hosts_answer(
    activities: FeedbackActivities, people: People, session_factory, who: str, kind: str
) -> None:
    ids = {
        "waitlisted": people.waitlisted,
        "foreign_host": people.foreign_host,
        "host": people.host,
        "delegate": people.delegates[0],
        "stranger": uuid.uuid4(),
    }
    with pytest.raises(ApplicationError) as refused:
        await activities.record_feedback(
            record(people, CLOSES, respondent_id=ids[who], respondent_kind=kind, rating_visits=5)
        )

    assert refused.value.type == NOT_FOUND and refused.value.non_retryable
    assert await feedback_rows(session_factory) == []


async def test_follow_up_answers_are_upserted_per_survey(
    activities: FeedbackActivities, people: People, session_factory
) -> None:
    at = datetime.now(UTC)
    first = await activities.record_follow_up(survey_record(people, at, agreements=1, mous=1))
    again = await activities.record_follow_up(
        survey_record(people, at + timedelta(minutes=1), agreements=1, mous=1)
    )
    amended = await activities.record_follow_up(
        survey_record(
            people,
            at + timedelta(minutes=2),
            agreements=2,
            mous=1,
            expected_revenue_eur=250_000,
            comments="  A distributor in Ohio. ",
        )
    )
    second = await activities.record_follow_up(
        survey_record(people, at + timedelta(minutes=3), survey=2, revisits=1)
    )

    assert (first.created, first.changed) == (True, True)
    assert (again.created, again.changed) == (False, False)
    assert (amended.created, amended.changed) == (False, True)
    assert (second.created, second.changed) == (True, True)
    async with session_factory() as session:
        rows = (
            await session.exec(select(FollowUpAnswer).order_by(col(FollowUpAnswer.survey)))
        ).all()
    assert [(r.survey, r.agreements, r.mous, r.revisits) for r in rows] == [
        (1, 2, 1, 0),
        (2, 0, 0, 1),
    ]
    assert rows[0].expected_revenue_eur == 250_000 and rows[0].comments == "A distributor in Ohio."


async def test_follow_up_answers_come_from_delegates_of_surveys_that_exist(
    activities: FeedbackActivities, people: People
) -> None:
    at = datetime.now(UTC)
    for answer, kind in (
        ({"application_id": people.waitlisted}, NOT_FOUND),
        ({"application_id": people.host}, NOT_FOUND),
        ({"survey": 3}, INVALID),
    ):
        with pytest.raises(ApplicationError) as refused:
            await activities.record_follow_up(survey_record(people, at, **answer))
        assert refused.value.type == kind and refused.value.non_retryable
