"""The scheduler's rules, checked: `problems` lists what makes an instance invalid, `validate`
what a schedule breaks (the tests and the benchmark run it on every schedule, any scheduler's).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from missionflow.domain.matchmaking.attendees import attendees, colleague_problems
from missionflow.domain.matchmaking.instance import Instance, Participant, Slot
from missionflow.domain.matchmaking.result import Schedule
from missionflow.domain.matchmaking.seating import table_breaches, table_problems

PRIORITIES = (1, 2, 3)
MAX_TIME_LIMIT = 600  # seconds: longer than an activity should hold a worker's core


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
    found += colleague_problems(instance)
    return found + _fixed_problems(instance, slots, people) + table_problems(instance)


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
        if fixed.table is not None and not 1 <= fixed.table <= instance.tables:
            found.append(
                f"meeting {fixed.meeting!r} is fixed at table {fixed.table}, outside "
                f"1..{instance.tables}"
            )
        if fixed.meeting in seen_meetings:
            found.append(f"meeting {fixed.meeting!r} is fixed more than once")
            continue
        seen_meetings.add(fixed.meeting)
        if fixed.table is not None and (fixed.slot, fixed.table) in seen_tables:
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
        for who in dict.fromkeys(attendees(meeting)):
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
        if item.table is not None and not 1 <= item.table <= instance.tables:
            found.append(
                f"meeting {item.meeting!r} is at table {item.table}, outside 1..{instance.tables}"
            )
        if item.table is not None and (item.slot, item.table) in tables:
            found.append(
                f"meetings {tables[item.slot, item.table]!r} and {item.meeting!r} share table "
                f"{item.table} in slot {item.slot!r}"
            )
        tables.setdefault((item.slot, item.table), item.meeting)
        for who in dict.fromkeys(attendees(meeting)):  # colleagues who come too are booked
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
    found += table_breaches(instance, result)
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
