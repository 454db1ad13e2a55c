"""What the matchmaking scheduler is given: the slots, tables, participants and the meetings
they accepted, and any assignments that must stay. `scheduling` checks and schedules it;
`placement` places its numbered form.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

Id = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    """Unknown keys are refused: a misspelt `unavailable` must not silently drop a constraint."""

    model_config = ConfigDict(extra="forbid")


class Slot(Strict):
    id: Id
    start: AwareDatetime  # ISO 8601 with an offset; the day of `start` in that offset groups slots
    end: AwareDatetime


class Participant(Strict):
    id: Id
    side: str  # free text ("delegate", "host"); the scheduler reads sides from the meetings
    max_meetings: int
    unavailable: list[str] = []  # slot ids
    table: int | None = None  # 1..tables: every in-person meeting of theirs is at this table
    remote: bool = False  # meets by video: their meetings take no table


class Meeting(Strict):
    id: Id
    a: str  # participant ids; a pair may meet more than once, each meeting with its own id
    b: str
    priority: int  # 1, 2 or 3; 3 is the most wanted
    colleagues: list[str] = []  # participant ids who come too (several people of an
    # organisation, one meeting): each is booked in its slot like a and b
    not_before: AwareDatetime | None = None  # the meeting starts at or after this instant
    not_after: AwareDatetime | None = None  # and ends at or before this one ("the morning")


class Fixed(Strict):
    """An assignment that must stay (rescheduling after a change)."""

    meeting: str
    slot: str
    table: int | None  # 1..tables; None for a remote meeting


class Instance(Strict):
    slots: list[Slot]
    tables: int  # meetings at most per slot
    participants: list[Participant]
    meetings: list[Meeting]
    fixed: list[Fixed] = []
    max_break_difference: int = 2  # the most and fewest breaks of two participants, at most
    time_limit: float = 10.0  # seconds for the exact phase; 0 keeps the fast method alone
