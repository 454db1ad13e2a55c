"""Per-meeting outcome ratings, as b2match's two stages ask them: right after the event each
side says what came of each of its meetings (stage 1, on the feedback form), and months later a
delegate says what became of it (stage 2, on the follow-up survey).

The outcomes are fixed lists, so the report counts them rather than reading free text; the
comment beside an outcome is the rater's own words (personal data, cleared at erasure, never in
the report). A rater gives at most one outcome per meeting and stage: a form sends its whole
list of ratings again, and it replaces the stored one.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

EVENT, FOLLOW_UP = 1, 2
"""The two stages: the feedback after the event, then the follow-up surveys."""

EVENT_OUTCOMES = {
    "agreement_reached": "Agreement reached",
    "follow_up_planned": "Follow-up meeting planned",
    "cooperation_possible": "Cooperation possible",
    "no_interest": "No interest",
    "did_not_take_place": "Did not take place",
}
"""Stage 1's outcomes, best first, with the report's (English) labels; the forms say them in
the reader's language (api/templates/meeting_ratings.html)."""

FOLLOW_UP_OUTCOMES = {
    "agreement_signed": "Agreement signed",
    "cooperation_started": "Cooperation started",
    "in_negotiation": "In negotiation",
    "no_result": "No result",
}
"""Stage 2's outcomes: what became of the meeting months later."""

HOPEFUL = ("agreement_reached", "follow_up_planned", "cooperation_possible")
"""Stage 1's outcomes that leave something to follow up: the article counts them."""

OUTCOMES = {EVENT: EVENT_OUTCOMES, FOLLOW_UP: FOLLOW_UP_OUTCOMES}
COMMENT_LENGTH = 1000

EventOutcome = Literal[
    "agreement_reached", "follow_up_planned", "cooperation_possible", "no_interest",
    "did_not_take_place",
]  # fmt: skip
FollowUpOutcome = Literal["agreement_signed", "cooperation_started", "in_negotiation", "no_result"]
Comment = Annotated[str, Field(max_length=COMMENT_LENGTH)] | None


class EventRating(BaseModel):
    """One meeting's outcome as a side saw it after the event."""

    model_config = ConfigDict(extra="forbid")

    meeting_id: uuid.UUID
    outcome: EventOutcome
    comment: Comment = None


class FollowUpRating(BaseModel):
    """One meeting's outcome as a delegate sees it at a follow-up survey."""

    model_config = ConfigDict(extra="forbid")

    meeting_id: uuid.UUID
    outcome: FollowUpOutcome
    comment: Comment = None


Rating = TypeVar("Rating", EventRating, FollowUpRating)


def one_per_meeting(ratings: list[Rating] | None) -> list[Rating] | None:
    """A list naming a meeting twice is refused: which of the two would count?"""
    if ratings is not None:
        seen: set[uuid.UUID] = set()
        for rating in ratings:
            if rating.meeting_id in seen:
                raise ValueError(f"meeting {rating.meeting_id} is rated twice")
            seen.add(rating.meeting_id)
    return ratings


EventRatings = Annotated[list[EventRating] | None, AfterValidator(one_per_meeting)]
FollowUpRatings = Annotated[list[FollowUpRating] | None, AfterValidator(one_per_meeting)]
"""A whole list of a rater's ratings at one stage; None (absent) leaves the stored ones."""


def rateable(status: str, starts_at: datetime | None, attendance: str | None) -> bool:
    """A meeting is rated once it was placed and was not marked a no-show: held, or placed where
    attendance is not recorded."""
    return status == "accepted" and starts_at is not None and attendance != "no_show"


@dataclass(frozen=True)
class RatingFacts:
    meeting_id: uuid.UUID
    stage: int
    rater_kind: str
    """delegate or host"""
    outcome: str


def rating_figures(ratings: Iterable[RatingFacts]) -> list[dict[str, Any]]:
    """Per stage: how many ratings, each outcome's count (in the list's order, zeros kept, so
    the counts add up to the ratings), and how many meetings one side or both sides rated."""
    by_stage: dict[int, list[RatingFacts]] = defaultdict(list)
    for rating in ratings:
        by_stage[rating.stage].append(rating)
    stages = []
    for stage, outcomes in OUTCOMES.items():
        given = by_stage.get(stage, [])
        counts = Counter(r.outcome for r in given)
        sides: dict[uuid.UUID, set[str]] = defaultdict(set)
        for rating in given:
            sides[rating.meeting_id].add(rating.rater_kind)
        stages.append(
            {
                "stage": stage,
                "ratings": len(given),
                "outcomes": [
                    {"key": key, "label": label, "count": counts[key]}
                    for key, label in outcomes.items()
                ],
                "meetings_rated": len(sides),
                "by_one_side": sum(len(kinds) == 1 for kinds in sides.values()),
                "by_both_sides": sum(len(kinds) == 2 for kinds in sides.values()),
            }
        )
    return stages
