"""The matchmaking scheduler: at the request deadline, accepted meetings are placed into
(slot, table) pairs.

Pure: no I/O, no randomness, no clock except to report how long it took. The same instance
always gives the same assignments and reasons; only `stats.solve_seconds` varies.

The rules, which every schedule keeps (`validate` checks them): at most `tables` meetings per
slot, each at its own table 1..tables; nobody in two meetings in one slot; nobody in a slot they
are unavailable for; nobody in more than their `max_meetings`; fixed assignments exactly as
given.

The objective, in this order:
    1. value: the sum of the priorities of the meetings placed. Priority is 1, 2 or 3, 3 the
       most wanted: one priority-3 meeting is worth three priority-1 meetings;
    2. fairness: nobody left far below what they asked for when another arrangement avoids it.
       A participant's share is placed / min(requested, max_meetings); the lowest share is
       raised first, then the next lowest (leximin);
    3. compact agendas: few idle slots between a participant's meetings on the same day (the
       day of a slot's start, in its own offset; slots they are unavailable for are not idle).

The instance is modelled in `instance.py`, the method is in `placement.py` and `timetable.py`,
the upper bound in `bounds.py`.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Sequence

from missionflow.domain.matchmaking.bounds import meeting_bound
from missionflow.domain.matchmaking.breaks import Waits, break_difference, sessions, waits
from missionflow.domain.matchmaking.exact import improve
from missionflow.domain.matchmaking.instance import Instance, Participant, Slot, Strict
from missionflow.domain.matchmaking.placement import Numbered, place, polish_moves, reason, seat
from missionflow.domain.matchmaking.polish import STEP
from missionflow.domain.matchmaking.timetable import FREE

PRIORITIES = (1, 2, 3)
MAX_TIME_LIMIT = 600  # seconds: longer than an activity should hold a worker's core
PROGRESS_EVERY = 200


class Assignment(Strict):
    meeting: str
    slot: str
    table: int


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


class InvalidInstance(ValueError):
    """The instance breaks its own rules; `problems` says how."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# --- checking an instance --------------------------------------------------------------------


def problems(instance: Instance) -> list[str]:
    """Every reason the instance cannot be scheduled, in words; empty when it is valid."""
    found: list[str] = []
    for kind, ids in (
        ("slot", [s.id for s in instance.slots]),
        ("participant", [p.id for p in instance.participants]),
        ("meeting", [m.id for m in instance.meetings]),
    ):
        found += [
            f"the {kind} id {id_!r} is used {n} times" for id_, n in Counter(ids).items() if n > 1
        ]
    if instance.tables < 1:
        found.append(f"tables is {instance.tables}: there must be at least one table")
    slots = {s.id: s for s in instance.slots}
    found += [
        f"slot {s.id!r} does not end after it starts" for s in instance.slots if s.end <= s.start
    ]
    found += _overlaps(instance.slots)
    people = {p.id: p for p in instance.participants}
    for person in instance.participants:
        if person.max_meetings < 0:
            found.append(f"participant {person.id!r} has a negative max_meetings")
        found += [
            f"participant {person.id!r} is unavailable in slot {slot!r}, which does not exist"
            for slot in dict.fromkeys(person.unavailable)
            if slot not in slots
        ]
    for meeting in instance.meetings:
        found += [
            f"meeting {meeting.id!r} names participant {who!r}, who does not exist"
            for who in dict.fromkeys((meeting.a, meeting.b))
            if who not in people
        ]
        if meeting.a == meeting.b:
            found.append(f"meeting {meeting.id!r} is between {meeting.a!r} and themselves")
        if meeting.priority not in PRIORITIES:
            found.append(
                f"meeting {meeting.id!r} has priority {meeting.priority}: it must be 1, 2 or 3"
            )
        if meeting.not_before and meeting.not_after and meeting.not_after <= meeting.not_before:
            found.append(
                f"meeting {meeting.id!r} has not_after {meeting.not_after.isoformat()}, not after "
                f"its not_before {meeting.not_before.isoformat()}"
            )
    if instance.max_break_difference < 0:
        found.append(
            f"max_break_difference is {instance.max_break_difference}: it must be 0 or more"
        )
    if not 0 <= instance.time_limit <= MAX_TIME_LIMIT:
        found.append(
            f"time_limit is {instance.time_limit}: it must be between 0 and {MAX_TIME_LIMIT} "
            "seconds"
        )
    return found + _fixed_problems(instance, slots, people)


def _overlaps(slots: Sequence[Slot]) -> list[str]:
    """Slots must not overlap: someone in both would be in two meetings at once."""
    found = []
    latest: Slot | None = None
    for slot in sorted(slots, key=lambda s: (s.start, s.end, s.id)):
        if latest is not None and slot.start < latest.end and slot.end > slot.start:
            found.append(f"slots {latest.id!r} and {slot.id!r} overlap")
        if latest is None or slot.end > latest.end:
            latest = slot
    return found


def _fixed_problems(
    instance: Instance, slots: dict[str, Slot], people: dict[str, Participant]
) -> list[str]:
    found = []
    meetings = {m.id: m for m in instance.meetings}
    seen_meetings: set[str] = set()
    seen_tables: dict[tuple[str, int], str] = {}
    seen_people: dict[tuple[str, str], str] = {}
    per_person: Counter[str] = Counter()
    for fixed in instance.fixed:
        meeting = meetings.get(fixed.meeting)
        if meeting is None:
            found.append(
                f"a fixed assignment names meeting {fixed.meeting!r}, which does not exist"
            )
        if fixed.slot not in slots:
            found.append(
                f"meeting {fixed.meeting!r} is fixed in slot {fixed.slot!r}, which does not exist"
            )
        if not 1 <= fixed.table <= instance.tables:
            found.append(
                f"meeting {fixed.meeting!r} is fixed at table {fixed.table}, outside "
                f"1..{instance.tables}"
            )
        if fixed.meeting in seen_meetings:
            found.append(f"meeting {fixed.meeting!r} is fixed more than once")
            continue
        seen_meetings.add(fixed.meeting)
        if (fixed.slot, fixed.table) in seen_tables:
            found.append(
                f"meetings {seen_tables[fixed.slot, fixed.table]!r} and {fixed.meeting!r} are both "
                f"fixed at table {fixed.table} in slot {fixed.slot!r}"
            )
        seen_tables.setdefault((fixed.slot, fixed.table), fixed.meeting)
        if meeting is None or fixed.slot not in slots:
            continue
        slot = slots[fixed.slot]
        if (meeting.not_before and slot.start < meeting.not_before) or (
            meeting.not_after and slot.end > meeting.not_after
        ):
            found.append(
                f"meeting {fixed.meeting!r} is fixed in slot {fixed.slot!r}, outside its time "
                "window (not_before, not_after)"
            )
        for who in (meeting.a, meeting.b):
            if who not in people or meeting.a == meeting.b:
                continue
            per_person[who] += 1
            if (who, fixed.slot) in seen_people:
                found.append(
                    f"{who!r} is in two fixed meetings in slot {fixed.slot!r}: "
                    f"{seen_people[who, fixed.slot]!r} and {fixed.meeting!r}"
                )
            seen_people.setdefault((who, fixed.slot), fixed.meeting)
            if fixed.slot in people[who].unavailable:
                found.append(
                    f"meeting {fixed.meeting!r} is fixed in slot {fixed.slot!r}, for which {who!r} "
                    "is unavailable"
                )
    found += [
        f"{who!r} has {n} fixed meetings, more than their maximum of {people[who].max_meetings}"
        for who, n in per_person.items()
        if n > people[who].max_meetings
    ]
    return found


# --- the upper bound and the schedule --------------------------------------------------------


def upper_bound(instance: Instance) -> int:
    """A number of meetings no valid schedule of this instance can exceed: the smallest of four
    simple bounds, described in `bounds.py`. Raises `InvalidInstance` when
    `problems(instance)` finds any."""
    _refuse_invalid(instance)
    return _upper_bound(Numbered(instance))


def _upper_bound(numbered: Numbered) -> int:
    possible = [ends for ends, ok in zip(numbered.ends, numbered.possible, strict=True) if ok]
    return meeting_bound(
        slots=len(numbered.slots),
        tables=numbered.tables,
        caps=numbered.caps,
        available=numbered.available,
        pairs=possible,
    )


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
            progress(done, total)

    timetable = place(numbered, step)
    method, value_bound, breaks_bound, difference_bound = "fast", None, None, None
    if instance.time_limit > 0 and any(numbered.possible):
        if progress is not None:
            progress(total - 1, total)
        outcome = improve(
            numbered,
            timetable.slot_of,
            time_limit=instance.time_limit,
            workers=workers or os.cpu_count() or 1,
        )
        if outcome is not None:
            timetable = numbered.timetable()
            for meeting, slot in enumerate(outcome.slot_of):
                if slot != FREE:
                    timetable.put(meeting, slot)
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


def summary(result: Schedule) -> str:
    """The schedule in one line, as the CLI prints it and the worker logs it."""
    stats = result.stats
    share = f"{stats.scheduled / stats.upper_bound:.1%}" if stats.upper_bound else "-"
    if stats.breaks_bound is None:
        bound = "no lower bound proven"
    elif stats.breaks_bound == stats.breaks:
        bound = f"lower bound {stats.breaks_bound}, proven optimal"
    else:
        bound = f"lower bound {stats.breaks_bound}, gap {stats.breaks - stats.breaks_bound}"
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


# --- measuring and checking a schedule -------------------------------------------------------


def waits_of(instance: Instance, assignments: Sequence[Assignment]) -> dict[str, Waits]:
    """The breaks and idle slots of every participant with a meeting in `assignments`."""
    order = sorted(instance.slots, key=lambda s: (s.start, s.end, s.id))
    position = {s.id: i for i, s in enumerate(order)}
    session_of = sessions(order)
    ends = {m.id: (m.a, m.b) for m in instance.meetings}
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


def validate(instance: Instance, result: Schedule) -> list[str]:
    """Every rule the schedule breaks, in words; empty when it is a valid schedule of the
    instance (used by the tests and the benchmark, on any scheduler's output)."""
    found: list[str] = []
    slots = {s.id: s for s in instance.slots}
    meetings = {m.id: m for m in instance.meetings}
    people = {p.id: p for p in instance.participants}
    placed: Counter[str] = Counter()
    tables: dict[tuple[str, int], str] = {}
    busy: dict[tuple[str, str], str] = {}
    load: Counter[str] = Counter()
    for item in result.assignments:
        meeting = meetings.get(item.meeting)
        if meeting is None:
            found.append(f"meeting {item.meeting!r} is assigned but does not exist")
            continue
        placed[item.meeting] += 1
        if placed[item.meeting] == 2:
            found.append(f"meeting {item.meeting!r} is assigned more than once")
        if item.slot not in slots:
            found.append(f"meeting {item.meeting!r} is in slot {item.slot!r}, which does not exist")
        if not 1 <= item.table <= instance.tables:
            found.append(
                f"meeting {item.meeting!r} is at table {item.table}, outside 1..{instance.tables}"
            )
        if (item.slot, item.table) in tables:
            found.append(
                f"meetings {tables[item.slot, item.table]!r} and {item.meeting!r} share table "
                f"{item.table} in slot {item.slot!r}"
            )
        tables.setdefault((item.slot, item.table), item.meeting)
        for who in (meeting.a, meeting.b):
            load[who] += 1
            if (who, item.slot) in busy:
                found.append(
                    f"{who!r} is in two meetings in slot {item.slot!r}: "
                    f"{busy[who, item.slot]!r} and {item.meeting!r}"
                )
            busy.setdefault((who, item.slot), item.meeting)
            if who in people and item.slot in people[who].unavailable:
                found.append(f"{who!r} meets in slot {item.slot!r}, for which they are unavailable")
        slot = slots.get(item.slot)
        if slot is not None and (
            (meeting.not_before and slot.start < meeting.not_before)
            or (meeting.not_after and slot.end > meeting.not_after)
        ):
            found.append(
                f"meeting {item.meeting!r} is in slot {item.slot!r}, outside its time window"
            )
    found += [
        f"{who!r} has {n} meetings, more than their maximum of {people[who].max_meetings}"
        for who, n in load.items()
        if who in people and n > people[who].max_meetings
    ]
    assigned = {(a.meeting, a.slot, a.table) for a in result.assignments}
    found += [
        f"fixed meeting {f.meeting!r} is not at table {f.table} in slot {f.slot!r}"
        for f in instance.fixed
        if (f.meeting, f.slot, f.table) not in assigned
    ]
    left_out = Counter(u.meeting for u in result.unscheduled)
    for id_ in meetings:
        if placed[id_] + left_out[id_] == 0:
            found.append(f"meeting {id_!r} is neither assigned nor listed as unscheduled")
        elif placed[id_] and left_out[id_]:
            found.append(f"meeting {id_!r} is both assigned and listed as unscheduled")
        elif left_out[id_] > 1:
            found.append(f"meeting {id_!r} is listed as unscheduled more than once")
    found += [
        f"unscheduled meeting {id_!r} does not exist" for id_ in left_out if id_ not in meetings
    ]
    found += [
        f"unscheduled meeting {u.meeting!r} has no reason"
        for u in result.unscheduled
        if not u.reason
    ]
    stats = result.stats
    if stats.requested != len(instance.meetings):
        found.append(f"stats.requested is {stats.requested}, not {len(instance.meetings)}")
    if stats.scheduled != len(result.assignments):
        found.append(f"stats.scheduled is {stats.scheduled}, not {len(result.assignments)}")
    if stats.scheduled > stats.upper_bound:
        found.append(
            f"{stats.scheduled} meetings are scheduled, above the upper bound {stats.upper_bound}"
        )
    return found
