"""Meeting outcome ratings (migration 0016): one row per rater, meeting and stage, written with
the feedback (stage 1) or a follow-up answer (stage 2) it came with, and replaced by the next.

The rules (which outcomes, which meetings, what the report counts) are in
`missionflow.domain.reporting.meeting_ratings`; this module reads and writes the rows. A comment
is the rater's words about a meeting with someone, so erasing either side of the meeting clears
it (`runtime.erasure`); the outcome stays, counted in the report.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.reporting.feedback import clean_text
from missionflow.domain.reporting.meeting_ratings import (
    EventRating,
    FollowUpRating,
    RatingFacts,
    rateable,
)
from missionflow.runtime.meeting_rating_table import MeetingRating
from missionflow.runtime.models import Meeting


async def rateable_meetings(
    session: AsyncSession, mission_id: str, person_id: uuid.UUID, kind: str
) -> list[tuple[uuid.UUID, uuid.UUID, datetime]]:
    """The meetings this delegate or host may rate, by start: (meeting, the other side, start)."""
    rows = (
        await session.exec(
            select(Meeting)
            .where(Meeting.mission_id == mission_id)
            .where(
                or_(
                    (col(Meeting.requester_id) == person_id)
                    & (col(Meeting.requester_kind) == kind),
                    (col(Meeting.invitee_id) == person_id) & (col(Meeting.invitee_kind) == kind),
                )
            )
            .order_by(col(Meeting.starts_at), col(Meeting.id))
        )
    ).all()
    mine = []
    for m in rows:
        if not rateable(m.status, m.starts_at, m.attendance):
            continue
        other = m.invitee_id if m.requester_id == person_id else m.requester_id
        assert m.starts_at is not None
        mine.append((m.id, other, m.starts_at))
    return mine


async def ratings_by(
    session: AsyncSession, mission_id: str, rater_id: uuid.UUID, stage: int
) -> dict[uuid.UUID, MeetingRating]:
    rows = await session.exec(
        select(MeetingRating).where(
            MeetingRating.mission_id == mission_id,
            MeetingRating.rater_id == rater_id,
            MeetingRating.stage == stage,
        )
    )
    return {row.meeting_id: row for row in rows.all()}


async def replace_ratings(
    session: AsyncSession,
    mission_id: str,
    rater_id: uuid.UUID,
    rater_kind: str,
    stage: int,
    ratings: Sequence[EventRating | FollowUpRating],
    at: datetime,
) -> bool:
    """The rater's whole list of ratings at `stage` replaces the stored one; whether anything
    changed (the same list again changes nothing, unless it is the same write retried).

    Raises:
        LookupError: a meeting that is not one this rater may rate.
    """
    allowed = {m[0] for m in await rateable_meetings(session, mission_id, rater_id, rater_kind)}
    for rating in ratings:
        if rating.meeting_id not in allowed:
            raise LookupError(f"No meeting {rating.meeting_id} of yours to rate.")
    stored = await ratings_by(session, mission_id, rater_id, stage)
    changed = False
    for rating in ratings:
        comment = clean_text(rating.comment)
        row = stored.pop(rating.meeting_id, None)
        if row is None:
            session.add(
                MeetingRating(
                    mission_id=mission_id,
                    meeting_id=rating.meeting_id,
                    stage=stage,
                    rater_kind=rater_kind,
                    rater_id=rater_id,
                    outcome=rating.outcome,
                    comment=comment,
                    created_at=at,
                    updated_at=at,
                )
            )
            changed = True
        elif (row.outcome, row.comment) != (rating.outcome, comment):
            row.outcome, row.comment, row.updated_at = rating.outcome, comment, at
            session.add(row)
            changed = True
        else:
            changed = changed or row.updated_at == at
    for row in stored.values():  # rated before, left out now: no rating any more
        await session.delete(row)
        changed = True
    return changed


async def every_rating(session: AsyncSession, mission_id: str) -> list[MeetingRating]:
    """The mission's ratings by stage, then meeting, delegates' first."""
    rows = await session.exec(
        select(MeetingRating)
        .where(MeetingRating.mission_id == mission_id)
        .order_by(
            col(MeetingRating.stage), col(MeetingRating.meeting_id), col(MeetingRating.rater_kind)
        )
    )
    return list(rows.all())


async def facts(session: AsyncSession, mission_id: str) -> list[RatingFacts]:
    return [
        RatingFacts(r.meeting_id, r.stage, r.rater_kind, r.outcome)
        for r in await every_rating(session, mission_id)
    ]


async def clear_comments(session: AsyncSession, mission_id: str, person_id: uuid.UUID) -> int:
    """Erase the comments on every meeting this person had, theirs and the other side's (both
    may speak of them); the outcomes stay. How many."""
    theirs = select(Meeting.id).where(
        Meeting.mission_id == mission_id,
        or_(col(Meeting.requester_id) == person_id, col(Meeting.invitee_id) == person_id),
    )
    cleared = await session.exec(  # type: ignore[call-overload]
        update(MeetingRating)
        .where(col(MeetingRating.mission_id) == mission_id)
        .where(
            or_(col(MeetingRating.rater_id) == person_id, col(MeetingRating.meeting_id).in_(theirs))
        )
        .where(col(MeetingRating.comment).is_not(None))
        .values(comment=None)
    )
    return cleared.rowcount or 0
