"""Meeting outcome ratings written by the feedback and follow-up activities, against SQLite and
PostgreSQL: each side rates its own placed meetings, a list replaces the stored one, a meeting
not theirs is refused with nothing written, stage 1 closes with the feedback, stage 2 is kept
apart; the report counts exactly the rows; erasure clears the comments and keeps the outcomes."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from feedback_people import People, seed
from pydantic import ValidationError
from rating_meetings import add_meeting
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.exceptions import ApplicationError

from activities import report
from activities.feedback import FeedbackActivities
from missionflow.domain.refusals import CONFLICT, NOT_FOUND
from missionflow.domain.reporting.figures import figures
from missionflow.domain.reporting.messages import (
    AnswerRecord,
    FeedbackInput,
    FollowUpInput,
    ReportingNotice,
)
from missionflow.domain.reporting.report_csv import csv_document
from missionflow.runtime.erasure import erase_application
from missionflow.runtime.meeting_ratings import MeetingRating
from missionflow.runtime.settings import Settings

CLOSES = datetime(2034, 5, 22, 21, 0, tzinfo=UTC)
BEFORE = CLOSES - timedelta(days=1)


@pytest.fixture
async def people(session_factory: async_sessionmaker[AsyncSession]) -> People:
    return await seed(session_factory)


@pytest.fixture
def activities(engine: AsyncEngine, settings: Settings) -> FeedbackActivities:
    return FeedbackActivities(engine, settings)


async def meeting(
    factory: async_sessionmaker[AsyncSession], people: People, delegate: uuid.UUID, **kind: Any
) -> uuid.UUID:
    return await add_meeting(factory, people, delegate, BEFORE - timedelta(days=3), **kind)


def feedback(
    people: People, at: datetime, who: uuid.UUID, kind: str, ratings: list[dict] | None
) -> AnswerRecord:
    return AnswerRecord(
        mission_id=people.mission.id,
        at=at,
        closes_at=CLOSES,
        feedback=FeedbackInput(
            respondent_id=who, respondent_kind=kind, rating_organisation=4, meeting_ratings=ratings
        ),
    )


def follow_up(people: People, at: datetime, ratings: list[dict] | None) -> AnswerRecord:
    return AnswerRecord(
        mission_id=people.mission.id,
        at=at,
        follow_up=FollowUpInput(
            application_id=people.delegates[0], survey=1, meeting_ratings=ratings
        ),
    )


async def ratings(factory: async_sessionmaker[AsyncSession]) -> list[MeetingRating]:
    async with factory() as session:
        return list((await session.exec(select(MeetingRating))).all())


async def test_both_sides_rate_their_meetings_and_the_report_counts_the_rows(
    activities: FeedbackActivities, people: People, session_factory
) -> None:
    alpha, beta = people.delegates
    first = await meeting(session_factory, people, alpha)
    second = await meeting(session_factory, people, beta, attendance="held")

    by_alpha = await activities.record_feedback(
        feedback(people, BEFORE, alpha, "delegate", [
            {"meeting_id": first, "outcome": "follow_up_planned", "comment": "  Samples next  "},
        ])
    )  # fmt: skip
    by_host = await activities.record_feedback(
        feedback(people, BEFORE, people.host, "host", [
            {"meeting_id": first, "outcome": "cooperation_possible"},
            {"meeting_id": second, "outcome": "no_interest"},
        ])
    )  # fmt: skip
    again = await activities.record_feedback(
        feedback(people, BEFORE + timedelta(hours=1), people.host, "host", [
            {"meeting_id": first, "outcome": "cooperation_possible"},
            {"meeting_id": second, "outcome": "no_interest"},
        ])
    )  # fmt: skip
    untouched = await activities.record_feedback(
        feedback(people, BEFORE + timedelta(hours=2), people.host, "host", None)
    )
    later = await activities.record_feedback(
        feedback(people, BEFORE + timedelta(hours=3), alpha, "delegate", [
            {"meeting_id": first, "outcome": "agreement_reached", "comment": "Samples next"},
        ])
    )  # fmt: skip
    stage_two = await activities.record_follow_up(
        follow_up(people, CLOSES + timedelta(days=90), [
            {"meeting_id": first, "outcome": "in_negotiation", "comment": "Price talks"},
        ])
    )  # fmt: skip

    assert by_alpha.changed and by_host.changed and stage_two.changed
    assert (again.changed, untouched.changed, later.changed) == (False, False, True)
    rows = await ratings(session_factory)
    given = {(r.rater_id, r.meeting_id, r.stage): (r.outcome, r.comment) for r in rows}
    assert given == {
        (alpha, first, 1): ("agreement_reached", "Samples next"),
        (people.host, first, 1): ("cooperation_possible", None),
        (people.host, second, 1): ("no_interest", None),
        (alpha, first, 2): ("in_negotiation", "Price talks"),
    }
    async with session_factory() as session:
        notice = ReportingNotice(mission_id=people.mission.id, at=CLOSES, version=1)
        data = await report.read(session, people.mission, notice)
    stages = {s["stage"]: s for s in figures(data)["meeting_ratings"]}
    for stage, counted in stages.items():  # each outcome's count is the rows', summing to all
        mine = [r for r in rows if r.stage == stage]
        expected = Counter(r.outcome for r in mine)
        assert {o["key"]: o["count"] for o in counted["outcomes"]} == {
            o["key"]: expected[o["key"]] for o in counted["outcomes"]
        }
        assert sum(o["count"] for o in counted["outcomes"]) == counted["ratings"] == len(mine)
        sides = Counter(r.meeting_id for r in mine)
        assert counted["by_both_sides"] == sum(n == 2 for n in sides.values())
        assert counted["by_one_side"] == sum(n == 1 for n in sides.values())
    assert (stages[1]["ratings"], stages[1]["by_both_sides"], stages[1]["by_one_side"]) == (3, 1, 1)
    assert (stages[2]["ratings"], stages[2]["by_both_sides"], stages[2]["by_one_side"]) == (1, 0, 1)
    assert "meeting_outcomes_1,agreement_reached,Agreement reached,count,1" in csv_document(
        figures(data)
    )

    emptied = await activities.record_feedback(
        feedback(people, BEFORE + timedelta(hours=4), people.host, "host", [])
    )
    assert emptied.changed
    assert {(r.rater_id, r.stage) for r in await ratings(session_factory)} == {
        (alpha, 1),
        (alpha, 2),
    }


@pytest.mark.parametrize(
    "which", ["another_delegates", "no_show", "unplaced", "pending", "unknown"]
)
async def test_a_meeting_not_theirs_to_rate_is_refused_and_nothing_is_written(
    activities: FeedbackActivities, people: People, session_factory, which: str
) -> None:
    alpha, beta = people.delegates
    mine = await meeting(session_factory, people, alpha, placed=False)  # alpha's, unplaced
    target = {
        "another_delegates": lambda: meeting(session_factory, people, beta),
        "no_show": lambda: meeting(session_factory, people, beta, attendance="no_show"),
        "unplaced": lambda: _given(mine),
        "pending": lambda: meeting(session_factory, people, beta, status="pending"),
        "unknown": lambda: _given(uuid.uuid4()),
    }[which]
    meeting_id = await target()
    who = beta if which in ("no_show", "pending") else alpha

    with pytest.raises(ApplicationError) as refused:
        await activities.record_feedback(
            feedback(people, BEFORE, who, "delegate", [
                {"meeting_id": meeting_id, "outcome": "no_interest"},
            ])
        )  # fmt: skip

    assert refused.value.type == NOT_FOUND and refused.value.details == ("meeting_ratings",)
    assert await ratings(session_factory) == []


async def test_stage_one_ratings_close_with_the_feedback_and_stage_two_stays_apart(
    activities: FeedbackActivities, people: People, session_factory
) -> None:
    alpha = people.delegates[0]
    first = await meeting(session_factory, people, alpha)
    rated = [{"meeting_id": first, "outcome": "follow_up_planned"}]
    await activities.record_feedback(feedback(people, BEFORE, alpha, "delegate", rated))

    same = await activities.record_feedback(
        feedback(people, CLOSES + timedelta(days=1), alpha, "delegate", rated)
    )
    with pytest.raises(ApplicationError) as closed:
        await activities.record_feedback(
            feedback(people, CLOSES + timedelta(days=1), alpha, "delegate", [
                {"meeting_id": first, "outcome": "no_interest"},
            ])
        )  # fmt: skip
    with pytest.raises(ValidationError) as wrong_stage:  # stage 1's outcomes are not stage 2's
        follow_up(people, CLOSES, [{"meeting_id": first, "outcome": "follow_up_planned"}])

    assert same.changed is False and closed.value.type == CONFLICT
    assert [e["loc"] for e in wrong_stage.value.errors()] == [("meeting_ratings", 0, "outcome")]
    (row,) = await ratings(session_factory)
    assert (row.stage, row.outcome) == (1, "follow_up_planned")


async def test_erasing_a_delegate_clears_the_comments_on_their_meetings_and_keeps_outcomes(
    activities: FeedbackActivities, people: People, session_factory
) -> None:
    alpha = people.delegates[0]
    first = await meeting(session_factory, people, alpha)
    comment = [{"meeting_id": first, "outcome": "follow_up_planned", "comment": "Met Dr Ana"}]
    await activities.record_feedback(feedback(people, BEFORE, alpha, "delegate", comment))
    await activities.record_feedback(feedback(people, BEFORE, people.host, "host", comment))

    async with session_factory() as session, session.begin():
        await erase_application(session, people.mission.id, alpha, by="test", reason="asked")

    rows = await ratings(session_factory)
    assert [(r.outcome, r.comment) for r in rows] == [("follow_up_planned", None)] * 2


async def _given(meeting_id: uuid.UUID) -> uuid.UUID:
    return meeting_id
