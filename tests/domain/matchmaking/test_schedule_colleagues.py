"""Several people per organisation in the scheduler: colleagues who go together are one meeting
(its `colleagues` booked in its slot), colleagues who go apart have meetings of their own; over
random events nobody is ever in two meetings of one slot, whichever engine placed them, and
`validate` refuses a schedule that double-books a colleague."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scheduling_support import checked, event, where

from missionflow.domain.matchmaking.checks import problems, validate
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.result import Assignment, Schedule, Stats
from missionflow.domain.matchmaking.scheduling import InvalidInstance, schedule, upper_bound
from missionflow.domain.matchmaking.timetable import FREE, Timetable


def with_colleagues(instance: Instance, colleagues: dict[str, list[str]]) -> Instance:
    """The instance with colleagues who come too, by meeting id."""
    data = instance.model_dump(mode="json")
    for meeting in data["meetings"]:
        meeting["colleagues"] = colleagues.get(meeting["id"], [])
    return Instance.model_validate(data)


@st.composite
def organisations(draw: st.DrawFn) -> Instance:
    """Delegate organisations of one to three people meet host organisations of one or two:
    each meeting between an organisation pair is either together (one meeting, some of both
    sides' people) or apart (one person each); people have their own maximum and absences."""
    delegations = [
        [f"d{o}{k}" for k in "abc"[: draw(st.integers(1, 3))]]
        for o in range(draw(st.integers(1, 3)))
    ]
    hosts = [
        [f"h{o}{k}" for k in "ab"[: draw(st.integers(1, 2))]]
        for o in range(draw(st.integers(1, 4)))
    ]
    pairs = [(d, h) for d in range(len(delegations)) for h in range(len(hosts))]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=8, unique=True))
    meetings: list[tuple[str, str, int]] = []
    colleagues: dict[str, list[str]] = {}
    for d, h in chosen:
        ours, theirs = delegations[d], hosts[h]
        if draw(st.booleans()):  # together: one meeting, several people
            going = draw(st.lists(st.sampled_from(ours), min_size=1, unique=True))
            meeting = draw(st.lists(st.sampled_from(theirs), min_size=1, unique=True))
            meetings.append((going[0], meeting[0], draw(st.integers(1, 3))))
            colleagues[f"m{len(meetings)}"] = going[1:] + meeting[1:]
        else:  # apart: each chosen colleague meets someone of the host on their own
            for person in draw(st.lists(st.sampled_from(ours), min_size=1, unique=True)):
                meetings.append((person, draw(st.sampled_from(theirs)), draw(st.integers(1, 3))))
    people = [p for group in [*delegations, *hosts] for p in group]
    caps = {p: draw(st.integers(1, 4)) for p in people}
    away = {p: draw(st.lists(st.integers(1, 4), max_size=2, unique=True)) for p in people}
    slots = draw(st.integers(2, 5))
    instance = event(
        meetings,
        slots=slots,
        tables=draw(st.integers(1, 4)),
        caps=caps,
        away={p: [n for n in numbers if n <= slots] for p, numbers in away.items()},
        time_limit=draw(st.sampled_from([0.0, 0.5])),
    )
    return with_colleagues(instance, colleagues)


def bookings(instance: Instance, assignments: list[Assignment]) -> Counter[tuple[str, str]]:
    """How many meetings each person is in, per slot, counted here from the meetings."""
    meetings = {m.id: m for m in instance.meetings}
    return Counter(
        (who, item.slot)
        for item in assignments
        for m in [meetings[item.meeting]]
        for who in (m.a, m.b, *m.colleagues)
    )


@settings(deadline=None, max_examples=150)
@given(organisations())
def test_colleagues_are_never_double_booked(instance: Instance) -> None:
    result = checked(instance)  # validate: the schedule keeps every rule
    booked = bookings(instance, result.assignments)
    assert max(booked.values(), default=0) <= 1
    load = Counter(who for who, _ in booked.elements())
    people = {p.id: p for p in instance.participants}
    assert all(n <= people[who].max_meetings for who, n in load.items())
    assert all(slot not in people[who].unavailable for who, slot in booked)
    assert result.stats.scheduled <= result.stats.upper_bound == upper_bound(instance)


@pytest.mark.parametrize("time_limit", [0.0, 2.0])
def test_colleagues_apart_meet_in_parallel_and_together_once(time_limit: float) -> None:
    """da and db of one delegation go apart to h1 and h2 (one slot: side by side), then
    together to h3: one meeting, in the other slot, which both have."""
    instance = with_colleagues(
        event(
            [("da", "h1", 1), ("db", "h2", 1), ("da", "h3", 3)],
            slots=2,
            tables=2,
            away={"h1": [2], "h2": [2]},
            time_limit=time_limit,
        ),
        {"m3": ["db"]},
    )
    placed = where(checked(instance))
    assert placed["m1"][0] == placed["m2"][0] == "s1"
    assert placed["m3"][0] == "s2"


def test_a_joint_meeting_waits_for_the_colleague() -> None:
    """db is away in slot 1: the meeting db comes to is in slot 2, though da is free in 1."""
    instance = with_colleagues(
        event([("da", "h1", 2)], slots=2, caps={"db": 2}, away={"db": [1]}), {"m1": ["db"]}
    )
    assert where(checked(instance))["m1"][0] == "s2"


def test_a_colleague_at_their_maximum_keeps_the_joint_meeting_out() -> None:
    instance = with_colleagues(
        event([("db", "h2", 3), ("da", "h1", 1)], slots=3, caps={"db": 1}), {"m2": ["db"]}
    )
    result = checked(instance)
    assert [a.meeting for a in result.assignments] == ["m1"]
    assert [u.meeting for u in result.unscheduled] == ["m2"]


def test_validate_refuses_a_colleague_in_two_meetings_of_a_slot() -> None:
    instance = with_colleagues(event([("da", "h1", 1), ("db", "h2", 1)]), {"m1": ["db"]})
    both = [
        Assignment(meeting="m1", slot="s1", table=1),
        Assignment(meeting="m2", slot="s1", table=2),
    ]
    stats = schedule(instance).stats.model_dump()
    stats.update(scheduled=2)
    found = validate(instance, Schedule(assignments=both, unscheduled=[], stats=Stats(**stats)))
    assert "'db' is in two meetings in slot 's1': 'm1' and 'm2'" in found


def test_colleagues_who_are_not_participants_are_refused() -> None:
    instance = with_colleagues(event([("da", "h1", 1)]), {"m1": ["dz", "da", "h1", "h1"]})
    assert problems(instance) == [
        "meeting 'm1' names colleague 'dz', who does not exist",
        "meeting 'm1' names 'da' as their own colleague",
        "meeting 'm1' names 'h1' as their own colleague",
        "meeting 'm1' names colleague 'h1' 2 times",
    ]
    with pytest.raises(InvalidInstance):
        schedule(instance)


def test_a_kempe_chain_never_moves_a_joint_meeting() -> None:
    """x (with colleague c) meets h1 in slot 0, c meets h2 in slot 1, y meets h3 in slot 1
    (fixed). Placing x–y needs a chain: the one from y is blocked by the fixed meeting, the one
    from x would move the joint meeting into slot 1, where c already is."""
    x, h1, c, h2, y, h3 = range(6)
    timetable = Timetable(
        tables=9,
        caps=[9] * 6,
        available=[0b11] * 6,
        session_of=[0, 0],
        ends=[(x, h1), (c, h2), (y, h3), (x, y)],
        allowed=[0b11] * 4,
        fixed=[2],
        colleagues=[(c,), (), (), ()],
    )
    for meeting, slot in ((0, 0), (1, 1), (2, 1)):
        timetable.put(meeting, slot)
    timetable.insert(3)
    booked = Counter(
        (person, slot)
        for meeting, slot in enumerate(timetable.slot_of)
        if slot != FREE
        for person in timetable.attendees[meeting]
    )
    assert max(booked.values()) == 1
