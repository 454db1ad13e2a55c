"""The scheduler against every schedule there is, on tiny events: the most value, then, with each
participant's number of meetings as placed, the fewest breaks within the break-difference bound
(or the smallest difference when none meets it), then the fewest idle slots; fixed meetings taken
from an optimal schedule cost nothing.

The oracle enumerates every valid schedule (each meeting unplaced or in one slot it may take)
and measures breaks by its own reading of the definition in `breaks.py`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scheduling_support import event, scheduled_apart, slot_list

from missionflow.domain.matchmaking.checks import problems, validate
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.result import Assignment, Schedule, figures
from missionflow.domain.matchmaking.scheduling import schedule


@dataclass(frozen=True)
class Found:
    """One valid schedule: the slot position (time order) of each meeting, None when left out,
    and its measures."""

    slot_of: tuple[int | None, ...]
    value: int
    counts: tuple[int, ...]  # meetings per participant, in the instance's order
    breaks: tuple[int, ...]  # per participant
    idle: int

    @property
    def total_breaks(self) -> int:
        return sum(self.breaks)

    @property
    def difference(self) -> int:
        counted = [b for b, n in zip(self.breaks, self.counts, strict=True) if n]
        return max(counted) - min(counted) if counted else 0


def in_order(instance: Instance) -> list[str]:
    return [s.id for s in sorted(instance.slots, key=lambda s: (s.start, s.end))]


def session_of(instance: Instance) -> list[int]:
    """A new session wherever a slot does not start when the one before it ends."""
    order = sorted(instance.slots, key=lambda s: (s.start, s.end))
    found = [0]
    for before, slot in pairwise(order):
        found.append(found[-1] + (slot.start != before.end))
    return found


def waits(mask: int, sessions: list[int]) -> tuple[int, int]:
    """(breaks, idle slots) of someone meeting in the slot positions of `mask`: a gap between
    two consecutive meetings in one session is a break; its slots are idle."""
    taken = [s for s in range(len(sessions)) if mask >> s & 1]
    breaks = idle = 0
    for before, after in pairwise(taken):
        if sessions[before] == sessions[after] and after - before > 1:
            breaks += 1
            idle += after - before - 1
    return breaks, idle


def every_schedule(instance: Instance) -> list[Found]:
    """Every valid schedule: tables per slot, nobody twice in a slot, availability, maxima,
    time windows, fixed meetings in their slot."""
    slots = sorted(instance.slots, key=lambda s: (s.start, s.end))
    position = {s.id: i for i, s in enumerate(slots)}
    sessions = session_of(instance)
    person = {p.id: i for i, p in enumerate(instance.participants)}
    caps = [p.max_meetings for p in instance.participants]
    fixed = {f.meeting: position[f.slot] for f in instance.fixed}
    ends = [(person[m.a], person[m.b]) for m in instance.meetings]
    priority = [m.priority for m in instance.meetings]
    options: list[list[int | None]] = []
    for meeting in instance.meetings:
        if meeting.id in fixed:
            options.append([fixed[meeting.id]])
            continue
        away = {
            position[s]
            for p in instance.participants
            if p.id in (meeting.a, meeting.b)
            for s in p.unavailable
        }
        options.append(
            [
                i
                for i, slot in enumerate(slots)
                if i not in away
                and (meeting.not_before is None or slot.start >= meeting.not_before)
                and (meeting.not_after is None or slot.end <= meeting.not_after)
            ]
            + [None]
        )
    busy = [0] * len(caps)
    load = [0] * len(caps)
    used = [0] * len(slots)
    slot_of: list[int | None] = [None] * len(ends)
    measured: dict[int, tuple[int, int]] = {}
    found: list[Found] = []

    def measure(mask: int) -> tuple[int, int]:
        if mask not in measured:
            measured[mask] = waits(mask, sessions)
        return measured[mask]

    def search(meeting: int, value: int) -> None:
        if meeting == len(ends):
            each = [measure(mask) for mask in busy]
            found.append(
                Found(
                    tuple(slot_of),
                    value,
                    tuple(load),
                    tuple(b for b, _ in each),
                    sum(i for _, i in each),
                )
            )
            return
        a, b = ends[meeting]
        for slot in options[meeting]:
            if slot is None:
                search(meeting + 1, value)
                continue
            bit = 1 << slot
            if (
                used[slot] < instance.tables
                and not (busy[a] | busy[b]) & bit
                and load[a] < caps[a]
                and load[b] < caps[b]
            ):
                busy[a] |= bit
                busy[b] |= bit
                load[a] += 1
                load[b] += 1
                used[slot] += 1
                slot_of[meeting] = slot
                search(meeting + 1, value + priority[meeting])
                busy[a] ^= bit
                busy[b] ^= bit
                load[a] -= 1
                load[b] -= 1
                used[slot] -= 1
                slot_of[meeting] = None

    search(0, 0)
    return found


def as_found(instance: Instance, assignments: Sequence[Assignment]) -> Found:
    """The scheduler's schedule measured as the oracle measures."""
    order = in_order(instance)
    where = {a.meeting: order.index(a.slot) for a in assignments}
    person = {p.id: i for i, p in enumerate(instance.participants)}
    masks = [0] * len(person)
    for meeting in instance.meetings:
        if meeting.id in where:
            for who in (meeting.a, meeting.b):
                masks[person[who]] |= 1 << where[meeting.id]
    each = [waits(mask, session_of(instance)) for mask in masks]
    return Found(
        tuple(where.get(m.id) for m in instance.meetings),
        sum(m.priority for m in instance.meetings if m.id in where),
        tuple(mask.bit_count() for mask in masks),
        tuple(b for b, _ in each),
        sum(i for _, i in each),
    )


# --- tiny events -----------------------------------------------------------------------------


def tiny(rng: random.Random) -> Instance:
    """3 to 5 participants, 3 to 6 meetings between anyone (a pair may meet twice), 4 to 6
    slots in two sessions (a lunch between), 1 or 2 tables, maxima, absences, time windows (on
    slot boundaries or not) and a break-difference bound of 0 to 2."""
    people = [f"{'d' if i % 2 else 'h'}{i}" for i in range(rng.randint(3, 5))]
    pairs = [(a, b) for i, a in enumerate(people) for b in people[i + 1 :]]
    chosen = [rng.choice(pairs) for _ in range(rng.randint(3, 6))]
    count = rng.randint(4, 6)
    lunch_after = rng.randint(1, count - 1)
    slots = slot_list(count, lunch_after=lunch_after)
    starts = [datetime.fromisoformat(s["start"]) for s in slots]
    ends = [datetime.fromisoformat(s["end"]) for s in slots]
    windows: dict[str, tuple[datetime | None, datetime | None]] = {}
    for index in range(len(chosen)):
        if rng.random() < 0.25:
            first = rng.randrange(count)
            last = rng.randint(first, count - 1)
            kind = rng.choice(["from", "until", "between"])
            # off the slot boundaries at times: 5 minutes wider, or narrower (a slot fewer)
            slack = timedelta(minutes=rng.choice([-5, 0, 0, 5]))
            windows[f"m{index + 1}"] = (
                starts[first] - slack if kind != "until" else None,
                ends[last] + slack if kind != "from" else None,
            )
    return event(
        [(a, b, rng.randint(1, 3)) for a, b in chosen],
        slots=count,
        lunch_after=lunch_after,
        tables=rng.randint(1, 2),
        caps={p: rng.randint(1, 4) for p in people},
        away={p: [s for s in range(1, count + 1) if rng.random() < 0.25] for p in people},
        windows=windows,
        max_break_difference=rng.randint(0, 2),
    )


def corpus(
    count: int, seed: int, keep: Callable[[Instance, list[Found]], bool] = lambda *_: True
) -> Iterator[tuple[Instance, list[Found]]]:
    """`count` tiny events that `keep` keeps, each with every valid schedule."""
    rng = random.Random(seed)
    while count:
        instance = tiny(rng)
        found = every_schedule(instance)
        if keep(instance, found):
            count -= 1
            yield instance, found


def forced(instance: Instance, found: list[Found]) -> bool:
    """Every schedule of the most value has a break, or none meets the difference bound."""
    best = max(f.value for f in found)
    return all(
        f.total_breaks > 0 or f.difference > instance.max_break_difference
        for f in found
        if f.value == best
    )


def shortfalls(instance: Instance, result: Schedule, found: list[Found]) -> list[str]:
    """Where the schedule falls short of the exhaustive optimum, or its stats misreport it."""
    wrong = validate(instance, result)
    mine = as_found(instance, result.assignments)
    stats = result.stats
    said = (stats.value, stats.breaks, stats.idle_slots, stats.break_difference)
    measured = (mine.value, mine.total_breaks, mine.idle, mine.difference)
    if said != measured:
        wrong.append(f"stats say (value, breaks, idle, difference) {said}, measured {measured}")
    best = max(f.value for f in found)
    if (stats.value, stats.value_bound) != (best, best):
        wrong.append(f"value {stats.value}, bound {stats.value_bound}; the optimum is {best}")
        return wrong
    # stage 2 keeps each participant's number of meetings as placed, and the value
    same = [f for f in found if f.value == best and f.counts == mine.counts]
    least = min(f.difference for f in same)
    allowed = max(instance.max_break_difference, least)
    within = [f for f in same if f.difference <= allowed]
    fewest = min(f.total_breaks for f in within)
    idle = min(f.idle for f in within if f.total_breaks == fewest)
    if stats.break_difference > allowed:
        wrong.append(f"break difference {stats.break_difference}, {allowed} is possible")
    if (stats.breaks, stats.breaks_bound) != (fewest, fewest):
        wrong.append(f"breaks {stats.breaks}, bound {stats.breaks_bound}; the fewest are {fewest}")
    elif stats.idle_slots != idle:
        wrong.append(f"idle slots {stats.idle_slots}; the fewest are {idle}")
    if least > instance.max_break_difference and stats.break_difference_bound != least:
        wrong.append(
            f"difference bound {stats.break_difference_bound}; the smallest possible is {least}"
        )
    if best and stats.method != "exact":
        wrong.append(f"method {stats.method}")
    return wrong


def with_fixed(instance: Instance, fixed: list[tuple[str, str]]) -> Instance:
    """The instance with (meeting, slot) fixed, each at the next table of its slot."""
    tables: Counter[str] = Counter()
    listed = []
    for meeting, slot in fixed:
        tables[slot] += 1
        listed.append({"meeting": meeting, "slot": slot, "table": tables[slot]})
    return Instance.model_validate({**instance.model_dump(), "fixed": listed})


def test_the_schedule_is_the_exhaustive_optimum() -> None:
    """300 tiny events: the most value, then the fewest breaks with everyone's number of
    meetings kept and within the difference bound, then the fewest idle slots, each proven."""
    failures = {}
    for index, (instance, found) in enumerate(corpus(300, seed=2022)):
        if wrong := shortfalls(instance, schedule(instance, workers=1), found):
            failures[index] = (wrong, instance.model_dump_json())
    assert failures == {}


def test_the_exhaustive_optimum_where_breaks_are_forced() -> None:
    """80 tiny events where every schedule of the most value has a break or misses the
    difference bound, on two workers (the parallel search), in a process of their own."""
    events = list(corpus(80, seed=74, keep=forced))
    results = scheduled_apart([instance for instance, _ in events], workers=2)
    failures = {}
    for index, ((instance, found), result) in enumerate(zip(events, results, strict=True)):
        if wrong := shortfalls(instance, result, found):
            failures[index] = (wrong, instance.model_dump_json())
    assert failures == {}


@settings(deadline=None, max_examples=80)
@given(st.integers(0, 2**32), st.data())
def test_fixed_meetings_never_cost_a_meeting_that_fits(seed: int, data: st.DataObject) -> None:
    """Some meetings of an optimal schedule are fixed where that schedule has them: the
    scheduler still reaches the optimum value."""
    instance = tiny(random.Random(seed))
    found = every_schedule(instance)
    best = max(f.value for f in found)
    assume(best > 0)
    optimal = data.draw(st.sampled_from([f for f in found if f.value == best]))
    order = in_order(instance)
    placed = [
        (meeting.id, order[slot])
        for meeting, slot in zip(instance.meetings, optimal.slot_of, strict=True)
        if slot is not None
    ]
    keep = data.draw(st.lists(st.sampled_from(placed), min_size=1, unique=True))
    pinned = with_fixed(instance, keep)
    assert problems(pinned) == []
    result = schedule(pinned, workers=1)
    assert validate(pinned, result) == []
    assert {(a.meeting, a.slot) for a in result.assignments} >= set(keep)
    assert result.stats.value == best == max(f.value for f in every_schedule(pinned))
    assert result.stats.value_bound == best


def test_the_oracle_measures_as_figures_does() -> None:
    """An unavailable slot inside a break is idle; the lunch between sessions is no break."""
    instance = event(
        [("d1", "h1", 1), ("d1", "h2", 1), ("d1", "h3", 1), ("d1", "h4", 1)],
        slots=6,
        lunch_after=3,
        away={"d1": [2]},
    )
    assignments = [
        Assignment(meeting=m, slot=s, table=1)
        for m, s in (("m1", "s1"), ("m2", "s3"), ("m3", "s4"), ("m4", "s6"))
    ]
    mine = as_found(instance, assignments)
    assert figures(instance, assignments) == {
        "value": mine.value,
        "breaks": mine.total_breaks,
        "idle_slots": mine.idle,
        "break_difference": mine.difference,
    }
    # d1: s1 . s3 | lunch | s4 . s6 -> two breaks, two idle slots; hosts one meeting each
    assert (mine.total_breaks, mine.idle, mine.difference) == (2, 2, 2)
