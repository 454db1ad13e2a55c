"""Time windows (not_before, not_after) are honoured, a pair may meet more than once, and every
schedule of an event with both passes `validate`.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scheduling_support import OSAKA, event, reasons, slot_list, where

from missionflow.domain.matchmaking.checks import validate
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.result import figures
from missionflow.domain.matchmaking.scheduling import schedule

# slot_list(6, lunch_after=3): s1-s3 09:30-10:30, lunch, s4-s6 11:30-12:30 (JST)
MORNING = (None, OSAKA + timedelta(hours=1))
AFTERNOON = (datetime(2016, 10, 18, 2, 30, tzinfo=UTC), None)  # 11:30 JST


def within(instance: Instance, meeting: str, slot: str) -> bool:
    m = next(m for m in instance.meetings if m.id == meeting)
    s = next(s for s in instance.slots if s.id == slot)
    return (m.not_before is None or s.start >= m.not_before) and (
        m.not_after is None or s.end <= m.not_after
    )


@pytest.mark.parametrize("time_limit", [0, 10], ids=["fast", "exact"])
def test_meetings_are_placed_within_their_windows(time_limit: float) -> None:
    """Morning and afternoon meetings compete for the same people; a window off the slot
    boundaries (09:40 to 10:20) fits s2 alone; d4 is away all morning, so their morning meeting
    has no slot, and the reason says it is the window."""
    instance = event(
        [
            ("d1", "h1", 3),
            ("d1", "h2", 3),
            ("d2", "h1", 2),
            ("d2", "h2", 2),
            ("d3", "h1", 1),
            ("d4", "h4", 3),
            ("d4", "h1", 1),
        ],
        slots=6,
        lunch_after=3,
        tables=2,
        away={"d4": [1, 2, 3]},
        windows={
            "m1": MORNING,
            "m2": AFTERNOON,
            "m3": AFTERNOON,
            "m4": MORNING,
            "m5": (OSAKA + timedelta(minutes=10), OSAKA + timedelta(minutes=50)),
            "m6": MORNING,
        },
        time_limit=time_limit,
    )
    result = schedule(instance, workers=1)
    assert validate(instance, result) == []
    placed = where(result)
    assert all(within(instance, meeting, slot) for meeting, (slot, _) in placed.items())
    assert placed["m1"][0] in {"s1", "s2", "s3"}
    assert placed["m4"][0] in {"s1", "s2", "s3"}
    assert placed["m2"][0] in {"s4", "s5", "s6"}
    assert placed["m3"][0] in {"s4", "s5", "s6"}
    assert placed["m5"][0] == "s2"
    assert set(placed) == {"m1", "m2", "m3", "m4", "m5", "m7"}
    assert "time window" in reasons(result)["m6"]
    assert reasons(result)["m6"] == (
        "no slot within the meeting's time window where both d4 and h4 are available"
    )


def test_validate_finds_a_meeting_outside_its_window() -> None:
    instance = event([("d1", "h1", 3)], slots=6, lunch_after=3, windows={"m1": AFTERNOON})
    result = schedule(instance, workers=1)
    assert where(result)["m1"][0] in {"s4", "s5", "s6"}
    moved = result.model_copy(deep=True)
    moved.assignments[0].slot = "s1"
    assert validate(instance, moved) == ["meeting 'm1' is in slot 's1', outside its time window"]


def test_a_window_taken_by_the_same_pair_leaves_the_second_meeting_out() -> None:
    """Both of d1 and h1's meetings must be in s1: one is placed, the other is left out, the
    reason naming the window."""
    one_slot = (OSAKA, OSAKA + timedelta(minutes=20))
    instance = event(
        [("d1", "h1", 1), ("d1", "h1", 3)],
        slots=3,
        windows={"m1": one_slot, "m2": one_slot},
    )
    result = schedule(instance, workers=1)
    assert validate(instance, result) == []
    assert where(result) == {"m2": ("s1", 1)}
    assert reasons(result) == {"m1": "no slot where both d1 and h1 are free within the time window"}


@pytest.mark.parametrize("time_limit", [0, 10], ids=["fast", "exact"])
def test_the_same_pair_meets_twice(time_limit: float) -> None:
    """Two meetings of d1 and h1 (distinct ids) both take place, in different slots, next to
    each other; a third does not fit in two slots."""
    instance = event(
        [("d1", "h1", 3), ("d2", "h2", 1), ("d1", "h1", 3)],
        slots=4,
        tables=1,
        time_limit=time_limit,
    )
    result = schedule(instance, workers=1)
    assert validate(instance, result) == []
    assert result.unscheduled == []
    slots = sorted(where(result)[m][0] for m in ("m1", "m3"))
    assert slots[0] != slots[1]
    assert figures(instance, result.assignments)["breaks"] == 0

    crowded = event([("d1", "h1", 3), ("d1", "h1", 2), ("d1", "h1", 1)], slots=2)
    result = schedule(crowded, workers=1)
    assert validate(crowded, result) == []
    assert {slot for slot, _ in where(result).values()} == {"s1", "s2"}
    assert set(where(result)) == {"m1", "m2"}
    assert set(reasons(result)) == {"m3"}


def test_the_same_pair_twice_with_one_fixed() -> None:
    instance = event([("d1", "h1", 2), ("d1", "h1", 2)], slots=3, fixed=[("m2", 2, 1)])
    result = schedule(instance, workers=1)
    assert validate(instance, result) == []
    assert where(result)["m2"] == ("s2", 1)
    assert where(result)["m1"][0] in {"s1", "s3"}


# --- every schedule valid --------------------------------------------------------------------


@st.composite
def windowed(draw: st.DrawFn) -> Instance:
    """Up to 8 participants and 16 meetings between anyone (pairs repeated), up to 8 slots in
    one or two sessions a day over one or two days, time windows, maxima, absences, tables, a
    break-difference bound, valid fixed assignments, the fast method alone or the exact phase."""
    people = [f"{'d' if i % 2 else 'h'}{i}" for i in range(draw(st.integers(2, 8)))]
    count = draw(st.integers(2, 8))
    per_day = draw(st.sampled_from([None, max(1, count // 2)]))
    lunch_after = draw(st.none() | st.integers(1, 3))
    slots = slot_list(count, per_day=per_day, lunch_after=lunch_after)
    starts = [datetime.fromisoformat(s["start"]) for s in slots]
    ends = [datetime.fromisoformat(s["end"]) for s in slots]
    pairs = [(a, b) for i, a in enumerate(people) for b in people[i + 1 :]]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=2, max_size=16))
    windows: dict[str, tuple[datetime | None, datetime | None]] = {}
    for index in range(len(chosen)):
        kind = draw(st.sampled_from(["none", "from", "until", "between"]))
        if kind == "none":
            continue
        first = draw(st.integers(0, count - 1))
        last = draw(st.integers(first, count - 1))
        minutes = timedelta(minutes=draw(st.sampled_from([0, 7])))  # off the slot boundaries
        windows[f"m{index + 1}"] = (
            None if kind == "until" else starts[first] + minutes,
            None if kind == "from" else ends[last] - minutes,
        )
    tables = draw(st.integers(1, 3))
    caps = {p: draw(st.integers(1, 6)) for p in people}
    for nobody in draw(st.lists(st.sampled_from(people), max_size=1)):
        caps[nobody] = 0  # takes no meetings
    away = {p: draw(st.lists(st.integers(1, count), max_size=2, unique=True)) for p in people}
    meetings = [(a, b, draw(st.integers(1, 3))) for a, b in chosen]

    def fits(index: int, slot: int) -> bool:
        window = windows.get(f"m{index + 1}", (None, None))
        return (window[0] is None or starts[slot - 1] >= window[0]) and (
            window[1] is None or ends[slot - 1] <= window[1]
        )

    fixed: list[tuple[str, int, int]] = []
    busy: set[tuple[str, int]] = set()
    load: Counter[str] = Counter()
    used: Counter[int] = Counter()
    for index, slot in draw(
        st.lists(st.tuples(st.integers(0, 15), st.integers(1, count)), max_size=4)
    ):
        if index >= len(meetings) or f"m{index + 1}" in {m for m, _, _ in fixed}:
            continue
        a, b, _ = meetings[index]
        if (
            fits(index, slot)
            and used[slot] < tables
            and all((p, slot) not in busy and slot not in away[p] for p in (a, b))
            and load[a] < caps[a]
            and load[b] < caps[b]
        ):
            used[slot] += 1
            busy.update(((a, slot), (b, slot)))
            load.update((a, b))
            fixed.append((f"m{index + 1}", slot, used[slot]))
    return event(
        meetings,
        slots=count,
        per_day=per_day,
        lunch_after=lunch_after,
        tables=tables,
        caps=caps,
        away=away,
        fixed=fixed,
        windows=windows,
        max_break_difference=draw(st.integers(0, 3)),
        time_limit=draw(st.sampled_from([10, 0.2, 0])),
    )


@settings(deadline=None, max_examples=250)
@given(windowed())
def test_every_schedule_with_windows_and_repeated_pairs_is_valid(instance: Instance) -> None:
    result = schedule(instance, workers=1)
    assert validate(instance, result) == []
    assert all(within(instance, a.meeting, a.slot) for a in result.assignments)
    stats = result.stats
    measured = figures(instance, result.assignments)
    assert (stats.value, stats.breaks, stats.idle_slots, stats.break_difference) == (
        measured["value"],
        measured["breaks"],
        measured["idle_slots"],
        measured["break_difference"],
    )
    assert stats.value_bound is None or stats.value <= stats.value_bound
    assert stats.breaks_bound is None or stats.breaks >= stats.breaks_bound
    assert stats.max_break_difference == instance.max_break_difference
    if instance.time_limit == 0:
        assert stats.method == "fast"
