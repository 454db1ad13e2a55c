"""The meeting scheduler on generated matchmaking events, beside its fast method alone and a
greedy first-fit baseline.

Events (`matchmaking_events.py`, generated from the seed): b2b-1 … b2b-8 in the shape of the
published B2B meeting-scheduling benchmark (Bofill et al., JAIR 74, 2022: 40-80 participants,
120-310 meetings, 8-22 slots in a morning and an afternoon session, 0-12% forbidden slots, some
meetings fixed, a few pairs meeting twice, most meetings wished in one session), and the
Osaka-size, 500-, 1000- and 2000-participant events.

Methods, each on the same instance in the same process:

- scheduler: `schedule(instance)`, the fast placement then the exact phase (CP-SAT) within the
  instance's `time_limit`: 30 s for b2b and the 500- and 1000-participant events, 10 s for
  osaka, 60 s for the 2000-participant ones (`--time-limit` sets one for all);
- fast: the same with `time_limit` 0, the method before the exact phase (the baseline);
- first-fit: each meeting, highest priority first, into the earliest slot within its window
  where it fits (fixed meetings kept).

Columns: requests; placed, and `bound` (`upper_bound`: no schedule places more); value (the sum
of the priorities placed) and `v.bound` (the proven largest value, `-` when not proven); breaks
and `b.bound` (the proven fewest breaks with this value and fairness); idle slots; `diff/max`:
the largest break difference between two participants and the most the instance asks for, and
`d.bound` (when that most is not met: the proven smallest difference possible);
`misses`: meetings placed outside their time window; seconds; `proven`: value when value equals
its bound, breaks when breaks equal theirs; `phase`: `stats.method`. `validate()` checks every
schedule; the run exits 1 if any schedule breaks a rule or misses a window.

    .venv/bin/python -m benchmarks.matchmaking [--only NAME ...] [--seed 2016] [--time-limit S]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from benchmarks.matchmaking_events import EVENTS, generate, greedy, within
from missionflow.domain.matchmaking.checks import validate
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.result import Schedule, Stats, Unscheduled, figures
from missionflow.domain.matchmaking.scheduling import schedule, upper_bound


def first_fit(instance: Instance, bound: int) -> Schedule:
    """The baseline: the fixed meetings, then each meeting, highest priority first, into the
    earliest slot within its window where both are free and available, a table is left and
    neither has reached their maximum."""
    started = time.perf_counter()
    order = sorted(instance.meetings, key=lambda m: -m.priority)
    assignments, left_out = greedy(instance, order, sorted(instance.slots, key=lambda s: s.start))
    return Schedule(
        assignments=assignments,
        unscheduled=[Unscheduled(meeting=m, reason="first-fit found no slot") for m in left_out],
        stats=Stats(
            requested=len(instance.meetings),
            scheduled=len(assignments),
            upper_bound=bound,
            max_break_difference=instance.max_break_difference,
            method="first-fit",
            solve_seconds=round(time.perf_counter() - started, 3),
            **figures(instance, assignments),
        ),
    )


def window_misses(instance: Instance, result: Schedule) -> int:
    """Meetings placed in a slot outside their time window (`validate` does not check them)."""
    meetings = {m.id: m for m in instance.meetings}
    slots = {s.id: s for s in instance.slots}
    return sum(not within(meetings[a.meeting], slots[a.slot]) for a in result.assignments)


COLUMNS = (
    ("event", "<16"),
    ("method", "<9"),
    ("requests", ">8"),
    ("placed", ">6"),
    ("bound", ">6"),
    ("value", ">6"),
    ("v.bound", ">7"),
    ("breaks", ">6"),
    ("b.bound", ">7"),
    ("idle", ">5"),
    ("diff/max", ">8"),
    ("d.bound", ">7"),
    ("misses", ">6"),
    ("seconds", ">7"),
    ("proven", "<12"),
    ("phase", "<16"),
)


def line(*cells: object) -> str:
    text = " ".join(f"{cell!s:{align}}" for cell, (_, align) in zip(cells, COLUMNS, strict=True))
    return text.rstrip()


def row(name: str, method: str, result: Schedule, misses: int, seconds: float) -> str:
    stats = result.stats
    proven = [
        what
        for what, got, bound in (
            ("value", stats.value, stats.value_bound),
            ("breaks", stats.breaks, stats.breaks_bound),
        )
        if got == bound
    ]
    return line(
        name,
        method,
        stats.requested,
        stats.scheduled,
        stats.upper_bound,
        stats.value,
        "-" if stats.value_bound is None else stats.value_bound,
        stats.breaks,
        "-" if stats.breaks_bound is None else stats.breaks_bound,
        stats.idle_slots,
        f"{stats.break_difference}/{stats.max_break_difference}",
        "-" if stats.break_difference_bound is None else stats.break_difference_bound,
        misses,
        f"{seconds:.2f}",
        "+".join(proven) or "-",
        stats.method,
    )


def main(names: list[str] | None, seed: int, time_limit: float | None = None) -> int:
    limits = "per event" if time_limit is None else f"{time_limit:g} s"
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, seed {seed}, "
        f"time limit {limits}"
    )
    print(line(*(name for name, _ in COLUMNS)))
    unknown = set(names or ()) - {event.name for event in EVENTS}
    if unknown:
        print(f"no such event: {', '.join(sorted(unknown))}")
        return 2
    failures = 0
    for event in EVENTS:
        if names and event.name not in names:
            continue
        instance = generate(event, seed, time_limit)
        bound = upper_bound(instance)
        fast = instance.model_copy(update={"time_limit": 0.0})
        methods: list[tuple[str, Callable[[], Schedule]]] = [
            ("scheduler", partial(schedule, instance)),
            ("fast", partial(schedule, fast)),
            ("first-fit", partial(first_fit, instance, bound)),
        ]
        for method, solve in methods:
            started = time.perf_counter()
            result = solve()
            seconds = time.perf_counter() - started
            misses = window_misses(instance, result)
            print(row(event.name, method, result, misses, seconds), flush=True)
            for problem in validate(instance, result):
                failures += 1
                print(f"  INVALID: {problem}")
            if misses:
                failures += 1
                print(f"  INVALID: {misses} meetings outside their time window")
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these events")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument(
        "--time-limit",
        type=float,
        metavar="SECONDS",
        help="the scheduler's exact phase, for every event (default: 30 s for b2b, 10 s for "
        "osaka, 60 s for the 2000-participant events, 30 s for the others)",
    )
    arguments = parser.parse_args()
    sys.exit(main(arguments.only, arguments.seed, arguments.time_limit))
