"""Waiting in a participant's day, as the B2B meeting-scheduling literature counts it (Bofill et
al., JAIR 74, 2022), so figures compare with published ones.

A session is a run of back-to-back slots (each starts when the one before ends); lunch or a
night between sessions is no wait. A break is a maximal run of slots without a meeting between
two consecutive meetings of a participant in one session; its idle slots are the slots of that
run. A slot the participant is unavailable for counts like any other: they wait through it all
the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


class Timed(Protocol):
    @property
    def start(self) -> datetime: ...

    @property
    def end(self) -> datetime: ...


def sessions(slots: Sequence[Timed]) -> list[int]:
    """The session of each slot, slots in time order: a new session starts wherever a slot does
    not start at the end of the one before."""
    found: list[int] = []
    for i, slot in enumerate(slots):
        found.append(0 if i == 0 else found[-1] + (slot.start != slots[i - 1].end))
    return found


@dataclass(frozen=True)
class Waits:
    breaks: int
    idle: int  # slots inside those breaks


def waits(taken: Iterable[int], session_of: Sequence[int]) -> Waits:
    """The breaks and idle slots of someone meeting in the slots at positions `taken` (slots in
    time order, `session_of` from `sessions`)."""
    breaks = idle = 0
    previous: int | None = None
    for slot in sorted(set(taken)):
        if (
            previous is not None
            and session_of[previous] == session_of[slot]
            and slot > previous + 1
        ):
            breaks += 1
            idle += slot - previous - 1
        previous = slot
    return Waits(breaks, idle)


def break_difference(breaks: Iterable[int]) -> int:
    """The most breaks of a participant minus the fewest, among those given (participants with
    at least one meeting; someone with none has no day to wait in)."""
    counted = list(breaks)
    return max(counted) - min(counted) if counted else 0


def standing(breaks: int, bound: int | None) -> str:
    """The breaks against their proven lower bound, in words."""
    if bound is None:
        return "no lower bound proven"
    return "proven optimal" if breaks == bound else f"gap {breaks - bound}"
