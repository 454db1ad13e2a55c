"""Reviewers' scores of the applications assigned to them (migration 0015): one per reviewer and
application, changed in place until the delegation is approved.

A comment is a reviewer's words about an applicant and may name people, so erasing the
applicant's data clears it (`runtime.erasure`); the score is a number and stays, as the
selection's scores do.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint, func
from sqlmodel import Field, SQLModel, col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.runtime.columns import instant, utc_now
from missionflow.runtime.people import Person

LOWEST, HIGHEST = 1, 5
COMMENT_LENGTH = 2000


class ReviewScore(SQLModel, table=True):
    __tablename__ = "review_score"
    __table_args__ = (UniqueConstraint("application_id", "person_id", name="uq_review_score"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    application_id: uuid.UUID = Field(foreign_key="application.id", index=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    score: int = Field(description=f"{LOWEST} to {HIGHEST}.")
    comment: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = instant(default_factory=utc_now)
    updated_at: datetime = instant(default_factory=utc_now)


@dataclass(frozen=True)
class ScoreSummary:
    mean: float | None
    count: int


NONE = ScoreSummary(mean=None, count=0)


async def summaries(
    session: AsyncSession, mission_id: str, *, by: uuid.UUID | None = None
) -> dict[uuid.UUID, ScoreSummary]:
    """The mean score and the number of scores of each application of the mission that has
    any; with `by`, of that reviewer's scores only (what a reviewer may see)."""
    query = (
        select(ReviewScore.application_id, func.avg(ReviewScore.score), func.count())
        .where(ReviewScore.mission_id == mission_id)
        .group_by(col(ReviewScore.application_id))
    )
    if by is not None:
        query = query.where(ReviewScore.person_id == by)
    rows = (await session.exec(query)).all()
    return {
        application_id: ScoreSummary(mean=float(mean), count=count)
        for application_id, mean, count in rows
    }


async def reviews_of(
    session: AsyncSession, application_id: uuid.UUID, *, by: uuid.UUID | None = None
) -> list[tuple[ReviewScore, Person]]:
    """The application's scores with their reviewers, oldest first; with `by`, that
    reviewer's own."""
    query = (
        select(ReviewScore, Person)
        .join(Person, col(ReviewScore.person_id) == col(Person.id))
        .where(ReviewScore.application_id == application_id)
        .order_by(col(ReviewScore.created_at))
    )
    if by is not None:
        query = query.where(ReviewScore.person_id == by)
    return [(score, person) for score, person in (await session.exec(query)).all()]


async def put_score(
    session: AsyncSession,
    *,
    mission_id: str,
    application_id: uuid.UUID,
    person_id: uuid.UUID,
    score: int,
    comment: str | None,
    at: datetime,
) -> ReviewScore:
    """The reviewer's score of the application, created or replaced, in the caller's
    transaction."""
    row = (
        await session.exec(
            select(ReviewScore).where(
                ReviewScore.application_id == application_id, ReviewScore.person_id == person_id
            )
        )
    ).first()
    if row is None:
        row = ReviewScore(
            mission_id=mission_id,
            application_id=application_id,
            person_id=person_id,
            score=score,
            comment=comment,
            created_at=at,
            updated_at=at,
        )
    else:
        row.score, row.comment, row.updated_at = score, comment, at
    session.add(row)
    await session.flush()
    return row


async def clear_comments(session: AsyncSession, application_id: uuid.UUID) -> int:
    """Erase the reviewers' comments on the application (their scores stay); how many."""
    cleared = await session.exec(  # type: ignore[call-overload]
        update(ReviewScore)
        .where(col(ReviewScore.application_id) == application_id)
        .where(col(ReviewScore.comment).is_not(None))
        .values(comment=None)
    )
    return cleared.rowcount or 0
