"""The meeting ratings the feedback form (stage 1) and the follow-up form (stage 2) ask: one
outcome per meeting the respondent may rate, with an optional comment.

A form lists every such meeting with a choice `outcome-<meeting id>` (empty: not rated) and a
comment `comment-<meeting id>`; what it posts is the respondent's whole list of ratings at that
stage, as a JSON client sends `meeting_ratings`. A form that lists no meeting posts no list, so
the stored ratings stay (the feedback form stops asking once the feedback has closed).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData

from api.reads import organisation_names
from missionflow.runtime import meeting_ratings
from missionflow.runtime.i18n import when
from missionflow.runtime.participants import Participant

OUTCOME, COMMENT = "outcome-", "comment-"


async def rated_meetings(
    session: AsyncSession, mission_id: str, zone: str, person: Participant, language: str
) -> list[dict[str, str]]:
    """The meetings the form lists: each one's id, with whom and when."""
    mine = await meeting_ratings.rateable_meetings(session, mission_id, person.id, person.kind)
    if not mine:
        return []
    names = await organisation_names(session, mission_id)
    return [
        {"id": str(meeting), "partner": names.get(other, ""), "at": when(at, zone, language)}
        for meeting, other, at in mine
    ]


async def stored_values(
    session: AsyncSession, mission_id: str, person_id: uuid.UUID, stage: int
) -> dict[str, str]:
    """The stored ratings as the form's fields, to amend them."""
    values = {}
    for meeting, row in (
        await meeting_ratings.ratings_by(session, mission_id, person_id, stage)
    ).items():
        values[f"{OUTCOME}{meeting}"] = row.outcome
        values[f"{COMMENT}{meeting}"] = row.comment or ""
    return values


def form_ratings(form: FormData) -> list[dict[str, Any]] | None:
    """The ratings a form posts: those given an outcome, with their comment; None when the form
    listed no meeting."""
    listed = [name.removeprefix(OUTCOME) for name in form if name.startswith(OUTCOME)]
    if not listed:
        return None
    return [
        {"meeting_id": meeting, "outcome": outcome, "comment": form.get(COMMENT + meeting) or None}
        for meeting in listed
        if (outcome := form.get(OUTCOME + meeting))
    ]
