"""Fewer breaks by local search: Kempe swaps that keep every meeting placed.

After the placement the meetings stay what they are; only their slots change. A move takes a
meeting and another slot it may take and swaps the two slots for its Kempe component (the
meetings of those two slots linked to it through shared participants), which keeps everyone
single-booked. A move is kept when it lowers the cost of the participants involved (breaks
first, then idle slots), or leaves it equal (moves across plateaus), or, rarely and less so as
the search cools, raises it (simulated annealing), and the best timetable seen is returned.
Participants with breaks are chosen first. A seeded generator and a count of moves, never the
clock, bound it, so the same timetable always gives the same result.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence

from missionflow.domain.matchmaking.timetable import FREE, Timetable

BREAK = 64  # the cost of a break in idle slots: breaks come first
EXCESS = 4 * BREAK  # and each break beyond `most` costs this on top
COMPONENT = 12  # the largest Kempe component moved at once
START_TEMPERATURE = 0.6 * BREAK
STEP = 2_000  # moves between two calls of `step`


def cost(busy: int, sessions: Sequence[int], most: int) -> int:
    """A participant's breaks × BREAK + idle slots, from their busy slots (a mask), with
    EXCESS more for each break beyond `most`."""
    breaks = idle = 0
    for session in sessions:
        mine = busy & session
        if mine:
            breaks += (mine & ~(mine << 1)).bit_count() - 1
            idle += mine.bit_length() - (mine & -mine).bit_length() + 1 - mine.bit_count()
    return breaks * BREAK + idle + max(0, breaks - most) * EXCESS


def polish(
    timetable: Timetable,
    moves: int,
    *,
    most: int,
    step: Callable[[], None],
    seed: int = 0,
    deadline: float | None = None,
) -> None:
    """Lower everyone's breaks, then idle slots, trying `moves` moves; the timetable ends as
    the best seen. `most`: the breaks a participant may have without more cost (the
    instance's max_break_difference: somebody nearly always has none). `step()` is called
    every STEP moves. `deadline` (`time.monotonic()`), when given, caps the search on a machine
    too slow for `moves`: the result then depends on the machine's speed."""
    rng = random.Random(seed)
    sessions = timetable.session_masks
    people = len(timetable.at)
    costs = [cost(timetable.busy[p], sessions, most) for p in range(people)]
    movable = [m for m, slot in enumerate(timetable.slot_of) if slot != FREE]
    movable = [m for m in movable if not timetable.fixed[m]]
    if not movable:
        return
    mine: list[list[int]] = [[] for _ in range(people)]
    for m in movable:
        mine[timetable.first[m]].append(m)
        mine[timetable.second[m]].append(m)
    total = best = sum(costs)
    best_slots = list(timetable.slot_of)
    for done in range(moves):
        if total == 0:
            break  # nobody waits: nothing left to gain
        if done % STEP == STEP - 1:
            step()
            if deadline is not None and time.monotonic() > deadline:
                break
        temperature = START_TEMPERATURE * (1 - done / moves)
        meeting = _pick(rng, costs, mine, movable)
        here = timetable.slot_of[meeting]
        targets = timetable.allowed[meeting] & ~(1 << here)
        if not targets:
            continue
        there = _nth_bit(targets, rng.randrange(targets.bit_count()))
        moved = timetable.component(meeting, here, there, limit=COMPONENT)
        if moved is None:
            continue
        change = _change(timetable, moved, here, there, sessions, most)
        if change is None:
            continue
        delta = sum(after - costs[p] for p, after in change.items())
        if delta > 0 and (temperature <= 0 or rng.random() >= math.exp(-delta / temperature)):
            continue
        timetable.flip(moved, here, there)
        timetable.commit()
        for person, after in change.items():
            costs[person] = after
        total += delta
        if total < best:
            best, best_slots = total, list(timetable.slot_of)
    for meeting, slot in enumerate(best_slots):
        if timetable.slot_of[meeting] != slot:
            timetable.take(meeting)
    for meeting, slot in enumerate(best_slots):
        if timetable.slot_of[meeting] != slot:
            timetable.put(meeting, slot)
    timetable.commit()


def _pick(rng: random.Random, costs: list[int], mine: list[list[int]], movable: list[int]) -> int:
    """A meeting of someone with a break, most of the time; else any movable meeting."""
    if rng.random() < 0.8:
        person = rng.randrange(len(costs))
        for _ in range(8):
            if costs[person] >= BREAK and mine[person]:
                return rng.choice(mine[person])
            person = rng.randrange(len(costs))
    return rng.choice(movable)


def _nth_bit(mask: int, n: int) -> int:
    for _ in range(n):
        mask &= mask - 1
    return (mask & -mask).bit_length() - 1


def _change(
    timetable: Timetable,
    moved: Sequence[int],
    one: int,
    two: int,
    sessions: Sequence[int],
    most: int,
) -> dict[int, int] | None:
    """The new cost of everyone whose slots change when `moved` swap slots `one` and `two`;
    None when the swap breaks a rule."""
    to_two = 0
    people: set[int] = set()
    for m in moved:
        to = two if timetable.slot_of[m] == one else one
        if timetable.fixed[m] or not timetable.allowed[m] >> to & 1:
            return None
        to_two += timetable.weight[m] if to == two else -timetable.weight[m]
        people.update(timetable.attendees[m])
    if timetable.count[two] + to_two > timetable.tables:
        return None
    if timetable.count[one] - to_two > timetable.tables:
        return None
    flip = (1 << one) | (1 << two)
    change = {}
    for person in people:
        busy = timetable.busy[person]
        if (busy >> one ^ busy >> two) & 1:
            change[person] = cost(busy ^ flip, sessions, most)
    return change
