"""Preference lists, as Grip and Swapcard offer them: each participant marks others of the
other side "must_meet", "would_like" or "no_thanks", and the marks turn into meetings in one
batch at the mission file's `preferences_deadline`.

Why one batch at a deadline, not as the marks are made: turning a wish into a request the
moment it is made would tell its recipient, at once, who wished what, and a wish made early
would beat one made late for the same slots. One batch reads every list as it stands when the
lists close, the same way for everyone and in a deterministic order, and it comes before the
request deadline so that the requests it makes are answered (and reminded of) like any other
before the meetings are placed.

What a pair's two marks become (A and B of opposite sides):

- both wish (must_meet or would_like): an accepted meeting, of the higher priority of the two
  (must_meet 3 > would_like 2); a pending request between them is accepted;
- one wishes, the other made no mark: a pending request from the one who wished, which the other
  answers (emailed, reminded of, as a request made by hand);
- one wishes, the other said no_thanks: a pending request too, so that the one who wished sees
  what any unanswered wish shows and never learns of the no_thanks; but the one who said it is
  not emailed or reminded about it, and it is placed only if they accept it on their page. A
  request made by hand is not filtered: it is a message its recipient answers.
- a pair that already has a meeting (requested by hand, declined or cancelled) keeps it, but for
  a mutual wish accepting a pending one.

A no_thanks is read by nobody but the participant who made it (and the coordinators).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from missionflow.domain.instants import describe
from missionflow.domain.mission.event_sections import Matchmaking

MUST_MEET, WOULD_LIKE, NO_THANKS = "must_meet", "would_like", "no_thanks"
MARKS = (MUST_MEET, WOULD_LIKE, NO_THANKS)
Mark = Literal["must_meet", "would_like", "no_thanks"]
PRIORITY = {MUST_MEET: 3, WOULD_LIKE: 2}
"""A wish's priority as a meeting request's (3 a top priority, 2 a priority)."""


class PreferenceMarkInput(BaseModel):
    """A participant's mark on someone of the other side; `mark` None clears it."""

    participant_id: uuid.UUID
    other_id: uuid.UUID
    mark: Mark | None


class PreferenceMarkRecord(BaseModel):
    mission_id: str
    at: AwareDatetime
    mark: PreferenceMarkInput


class PreferenceReceipt(BaseModel):
    mark: Mark | None
    changed: bool


class PreferencesConverted(BaseModel):
    accepted: int = Field(description="Meetings accepted from mutual wishes.")
    requested: int = Field(description="Requests made from one-sided wishes.")


def preferences_refusal(event: Matchmaking, now: datetime) -> str | None:
    """Why a mark cannot be set now: lists are kept from the opening of requests to their own
    deadline (to the second, shown in the venue's zone)."""
    if event.preferences_deadline is None:
        return "This matchmaking event has no preference lists."
    if now < event.requests_open_at:
        return f"Preference lists open on {describe(event.requests_open_at, event.timezone)}."
    if now >= event.preferences_deadline:
        return f"Preference lists closed on {describe(event.preferences_deadline, event.timezone)}."
    return None


@dataclass(frozen=True)
class MarkRow:
    by: uuid.UUID
    on: uuid.UUID
    mark: str
    at: datetime


@dataclass(frozen=True)
class Wish:
    """What a pair's marks make: `accept` a meeting (new, or the pair's pending one), or a
    pending request from `requester`; `quiet` when the invitee said no_thanks."""

    requester: uuid.UUID
    invitee: uuid.UUID
    priority: int
    accept: bool
    quiet: bool = False


def wishes(marks: list[MarkRow], settled: set[frozenset[uuid.UUID]]) -> list[Wish]:
    """The meetings and requests the lists make, in a deterministic order (the earlier mark of
    the pair first); `settled` are the pairs that already have a meeting other than a pending
    one, which the lists leave alone."""
    by_pair: dict[frozenset[uuid.UUID], dict[uuid.UUID, MarkRow]] = {}
    for row in sorted(marks, key=lambda row: (row.at, row.by.hex, row.on.hex)):
        by_pair.setdefault(frozenset((row.by, row.on)), {})[row.by] = row
    made = []
    for pair, sides in by_pair.items():  # in the order of each pair's first mark
        wishing = [row for row in sides.values() if row.mark in PRIORITY]
        if pair in settled or not wishing:
            continue
        first = wishing[0]
        made.append(
            Wish(
                requester=first.by,
                invitee=first.on,
                priority=max(PRIORITY[row.mark] for row in wishing),
                accept=len(wishing) == 2,
                quiet=first.on in sides and sides[first.on].mark == NO_THANKS,
            )
        )
    return made
