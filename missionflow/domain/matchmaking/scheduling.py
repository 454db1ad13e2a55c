"""The matchmaking scheduler: at the request deadline, accepted meetings are placed into
(slot, table) pairs.

Pure: no I/O, no randomness; the clock only reports how long it took and caps the exact phase
on a loaded machine. The same instance and number of workers give the same assignments and
reasons; only `stats.solve_seconds` varies.

The rules, which every schedule keeps (`checks.validate` checks them): at most `tables` meetings
per slot, each at its own table 1..tables; nobody in two meetings in one slot, the colleagues
who come to a meeting too (`attendees.py`); nobody in a slot they are unavailable for; nobody in
more than their `max_meetings`; every meeting within its
time window; fixed assignments exactly as given; a remote meeting at no table, taking none; an
in-person meeting of a participant with a fixed table at that table (`seating.py`).

The objective, in this order:
    1. value: the sum of the priorities of the meetings placed. Priority is 1, 2 or 3, 3 the
       most wanted: one priority-3 meeting is worth three priority-1 meetings;
    2. fairness: nobody left far below what they asked for when another arrangement avoids it.
       A participant's share is placed / min(requested, max_meetings); the lowest share is
       raised first, then the next lowest (leximin);
    3. the fewest breaks (`breaks.py`), the most and the fewest breaks of two participants with
       meetings at most `max_break_difference` apart;
    4. the fewest idle slots.

The instance is modelled in `instance.py`, the schedule in `result.py`, the rules checked in
`checks.py`; the method is in `placement.py`, `timetable.py` and `polish.py`, the exact phase in
`exact.py`, the upper bound in `bounds.py`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence

from missionflow.domain.matchmaking.bounds import meeting_bound
from missionflow.domain.matchmaking.checks import problems
from missionflow.domain.matchmaking.exact import improve
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.placement import Numbered, place, polish_moves, reason, seat
from missionflow.domain.matchmaking.polish import STEP, polish
from missionflow.domain.matchmaking.result import Assignment, Schedule, Stats, Unscheduled, figures
from missionflow.domain.matchmaking.timetable import FREE, Timetable

PROGRESS_EVERY = 200


class InvalidInstance(ValueError):
    """The instance breaks its own rules; `problems` says how."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --- the upper bound and the schedule --------------------------------------------------------


def upper_bound(instance: Instance) -> int:
    """A number of meetings no valid schedule of this instance can exceed: the smallest of four
    simple bounds, described in `bounds.py`. Raises `InvalidInstance` when
    `problems(instance)` finds any."""
    _refuse_invalid(instance)
    return _upper_bound(Numbered(instance))


def _upper_bound(numbered: Numbered) -> int:
    """The bound of the in-person meetings, plus, when some are remote (they take no table),
    the bound of the remote ones with a table for everyone."""

    def bound(remote: bool, tables: int) -> int:
        return meeting_bound(
            slots=len(numbered.slots),
            tables=tables,
            caps=numbered.caps,
            available=numbered.available,
            pairs=[
                ends
                for ends, ok, far in zip(
                    numbered.ends, numbered.possible, numbered.remote, strict=True
                )
                if ok and far == remote
            ],
        )

    in_person = bound(False, numbered.tables)
    if not any(numbered.remote):
        return in_person
    return in_person + bound(True, len(numbered.people))


def _refuse_invalid(instance: Instance) -> None:
    if found := problems(instance):
        raise InvalidInstance(found)


def schedule(
    instance: Instance,
    *,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> Schedule:
    """The meetings placed into (slot, table) pairs, and each meeting left out with its reason:
    the fast placement (`placement.py`), then, within `instance.time_limit`, the exact phase
    (`exact.py`) on `workers` threads (default: every core).

    Raises `InvalidInstance` when `problems(instance)` finds any. `progress(done, total)` is
    called every few hundred steps of the fast placement (a step: a meeting placed, a meeting
    retried, a few thousand moves of the search for fewer breaks), before the exact phase and at
    the end, so an activity can
    heartbeat on large events.
    """
    started = time.perf_counter()
    _refuse_invalid(instance)
    numbered = Numbered(instance)
    total = 2 * (len(numbered.meetings) - len(instance.fixed)) + polish_moves(numbered) // STEP + 1
    done = 0

    def step() -> None:
        nonlocal done
        done += 1
        if progress is not None and done % PROGRESS_EVERY == 0:
            # the exact phase's local search steps on past the fast method's count: it tells
            # that it is alive, never more done than the total
            progress(min(done, total - 1), total)

    timetable = place(numbered, step)
    method, value_bound, breaks_bound, difference_bound = "fast", None, None, None
    if instance.time_limit > 0 and any(numbered.possible):
        if progress is not None:
            progress(total - 1, total)

        def fewer_breaks(
            slot_of: list[int], moves: int | None, deadline: float | None
        ) -> list[int]:
            again = _timetable(numbered, slot_of)
            moves = polish_moves(numbered) if moves is None else moves
            most = instance.max_break_difference
            polish(again, moves, most=most, step=step, deadline=deadline)
            return again.slot_of

        outcome = improve(
            numbered,
            timetable.slot_of,
            time_limit=instance.time_limit,
            workers=workers or os.cpu_count() or 1,
            fewer_breaks=fewer_breaks,
        )
        if outcome is not None:
            timetable = _timetable(numbered, outcome.slot_of)
            method, value_bound = "exact", outcome.value_bound
            breaks_bound, difference_bound = outcome.breaks_bound, outcome.difference_bound
    tables = seat(timetable, numbered)
    assignments = [
        Assignment(
            meeting=numbered.meetings[m].id,
            slot=numbered.slots[slot].id,
            table=tables[m],
        )
        for slot, members in enumerate(timetable.members)
        for m in sorted(members)
    ]
    unscheduled = [
        Unscheduled(meeting=numbered.meetings[m].id, reason=reason(timetable, numbered, m))
        for m, slot in enumerate(timetable.slot_of)
        if slot == FREE
    ]
    found = figures(instance, assignments)
    if all(
        slot != FREE for slot, ok in zip(timetable.slot_of, numbered.possible, strict=True) if ok
    ):
        value_bound = found["value"]  # every meeting that can take place is placed
    if found["breaks"] == 0:
        breaks_bound = 0
    bound = _upper_bound(numbered)
    if progress is not None:
        progress(total, total)
    return Schedule(
        assignments=assignments,
        unscheduled=unscheduled,
        stats=Stats(
            requested=len(numbered.meetings),
            scheduled=len(assignments),
            upper_bound=bound,
            value_bound=value_bound,
            breaks_bound=breaks_bound,
            max_break_difference=instance.max_break_difference,
            break_difference_bound=difference_bound,
            method=method,
            solve_seconds=round(time.perf_counter() - started, 3),
            **found,
        ),
    )


def _timetable(numbered: Numbered, slot_of: Sequence[int]) -> Timetable:
    timetable = numbered.timetable()
    for meeting, slot in enumerate(slot_of):
        if slot != FREE:
            timetable.put(meeting, slot)
    timetable.commit()
    return timetable
