"""What the scheduler returns: the assignments, the meetings left out with their reasons, and
the figures that say how good the schedule is (`figures` measures any schedule the same way, the
benchmark's baselines included).
"""

from __future__ import annotations

from collections.abc import Sequence

from missionflow.domain.matchmaking.attendees import attendees
from missionflow.domain.matchmaking.breaks import (
    Waits,
    break_difference,
    sessions,
    standing,
    waits,
)
from missionflow.domain.matchmaking.instance import Instance, Strict


class Assignment(Strict):
    meeting: str
    slot: str
    table: int | None  # None: a remote meeting, which takes no table


class Unscheduled(Strict):
    meeting: str
    reason: str


class Stats(Strict):
    requested: int
    scheduled: int
    upper_bound: int  # no valid schedule places more meetings (see `upper_bound`)
    value: int  # the sum of the priorities placed
    value_bound: int | None = None  # no valid schedule has more value; None: not proven
    breaks: int  # summed over participants (`breaks.py`)
    breaks_bound: int | None = None  # none with this value and fairness has fewer; None: unknown
    idle_slots: int
    break_difference: int  # the most and fewest breaks of two participants with meetings
    max_break_difference: int  # what the instance asked for
    break_difference_bound: int | None = None  # when not met: no schedule does better than this
    method: str  # "fast", or "exact" when the exact phase ran (see `exact.py`)
    solve_seconds: float


class Schedule(Strict):
    assignments: list[Assignment]
    unscheduled: list[Unscheduled]
    stats: Stats


def summary(result: Schedule) -> str:
    """The schedule in one line, as the CLI prints it and the worker logs it."""
    stats = result.stats
    share = f"{stats.scheduled / stats.upper_bound:.1%}" if stats.upper_bound else "-"
    bound = standing(stats.breaks, stats.breaks_bound)
    if stats.breaks_bound is not None:
        bound = f"lower bound {stats.breaks_bound}, {bound}"
    difference = f"break difference {stats.break_difference} (at most {stats.max_break_difference}"
    if stats.break_difference > stats.max_break_difference:
        difference += ": not met"
        if stats.break_difference_bound is not None:
            difference += f", no schedule does better than {stats.break_difference_bound}"
    return (
        f"scheduled {stats.scheduled} of {stats.requested} meetings "
        f"({share} of the upper bound {stats.upper_bound}), {len(result.unscheduled)} "
        f"unscheduled; {stats.breaks} breaks ({bound}), {difference}); {stats.method}, in "
        f"{stats.solve_seconds:.2f} s"
    )


def waits_of(instance: Instance, assignments: Sequence[Assignment]) -> dict[str, Waits]:
    """The breaks and idle slots of every participant with a meeting in `assignments`."""
    order = sorted(instance.slots, key=lambda s: (s.start, s.end, s.id))
    position = {s.id: i for i, s in enumerate(order)}
    session_of = sessions(order)
    ends = {m.id: attendees(m) for m in instance.meetings}
    taken: dict[str, list[int]] = {}
    for item in assignments:
        for who in ends[item.meeting]:
            taken.setdefault(who, []).append(position[item.slot])
    return {who: waits(slots, session_of) for who, slots in taken.items()}


def figures(instance: Instance, assignments: Sequence[Assignment]) -> dict[str, int]:
    """What `Stats` says of any schedule's assignments (the benchmark measures its baseline
    with it): value, breaks, idle slots and the largest break difference."""
    priority = {m.id: m.priority for m in instance.meetings}
    found = waits_of(instance, assignments).values()
    return {
        "value": sum(priority[a.meeting] for a in assignments),
        "breaks": sum(w.breaks for w in found),
        "idle_slots": sum(w.idle for w in found),
        "break_difference": break_difference(w.breaks for w in found),
    }
