"""The meeting scheduler: valid and deterministic schedules, König's theorem, the exact optimum
on small events, a true upper bound, reasons in words, and refused instances."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.scheduling import (
    InvalidInstance,
    Schedule,
    idle_slots,
    problems,
    schedule,
    upper_bound,
    validate,
)

EXAMPLE = Path(__file__).parents[3] / "examples" / "matchmaking.json"
JST = timezone(timedelta(hours=9))
OSAKA = datetime(2016, 10, 18, 9, 30, tzinfo=JST)


def slot_list(count: int, *, per_day: int | None = None) -> list[dict[str, str]]:
    """`count` back-to-back 20-minute slots from 09:30, `per_day` of them a day."""
    made = []
    for index in range(count):
        day, position = divmod(index, per_day or count or 1)
        start = OSAKA + timedelta(days=day, minutes=20 * position)
        made.append(
            {
                "id": f"s{index + 1}",
                "start": start.isoformat(),
                "end": (start + timedelta(minutes=20)).isoformat(),
            }
        )
    return made


def event(
    meetings: list[tuple[str, str, int]],
    *,
    slots: int = 3,
    per_day: int | None = None,
    tables: int = 99,
    caps: dict[str, int] | None = None,
    away: dict[str, list[int]] | None = None,
    fixed: Sequence[tuple[str, int, int]] = (),
) -> Instance:
    """An instance from (a, b, priority) triples; ids starting with "d" are delegates, others
    hosts; `away` lists 1-based slot numbers; `fixed` is (meeting id, slot number, table)."""
    people = sorted({p for a, b, _ in meetings for p in (a, b)} | set(caps or {}))
    return Instance.model_validate(
        {
            "slots": slot_list(slots, per_day=per_day),
            "tables": tables,
            "participants": [
                {
                    "id": p,
                    "side": "delegate" if p.startswith("d") else "host",
                    "max_meetings": (caps or {}).get(p, 99),
                    "unavailable": [f"s{n}" for n in (away or {}).get(p, [])],
                }
                for p in people
            ],
            "meetings": [
                {"id": f"m{i + 1}", "a": a, "b": b, "priority": priority}
                for i, (a, b, priority) in enumerate(meetings)
            ],
            "fixed": [{"meeting": m, "slot": f"s{n}", "table": t} for m, n, t in fixed],
        }
    )


def optimum(instance: Instance, weight: Callable[[int], int] = lambda priority: priority) -> int:
    """The best total weight of any valid schedule, by exhaustive search: the oracle."""
    slots = [s.id for s in instance.slots]
    cap = {p.id: p.max_meetings for p in instance.participants}
    away = {p.id: set(p.unavailable) for p in instance.participants}
    fixed = {f.meeting: f.slot for f in instance.fixed}
    meetings = sorted(instance.meetings, key=lambda m: (m.id not in fixed, -m.priority))
    rest = [sum(weight(m.priority) for m in meetings[i:]) for i in range(len(meetings) + 1)]
    busy: set[tuple[str, str]] = set()
    load: Counter[str] = Counter()
    used: Counter[str] = Counter()
    best = 0

    def search(index: int, total: int) -> None:
        nonlocal best
        if total + rest[index] <= best and index < len(meetings):
            return
        if index == len(meetings):
            best = max(best, total)
            return
        m = meetings[index]
        for slot in [fixed[m.id]] if m.id in fixed else slots:
            if (
                used[slot] < instance.tables
                and all((p, slot) not in busy and slot not in away[p] for p in (m.a, m.b))
                and load[m.a] < cap[m.a]
                and load[m.b] < cap[m.b]
            ):
                busy.update(((m.a, slot), (m.b, slot)))
                load.update((m.a, m.b))
                used[slot] += 1
                search(index + 1, total + weight(m.priority))
                busy.difference_update(((m.a, slot), (m.b, slot)))
                load.subtract((m.a, m.b))
                used[slot] -= 1
        if m.id not in fixed:
            search(index + 1, total)

    search(0, 0)
    return best


def first_fit(instance: Instance) -> int:
    """How many meetings the greedy baseline places: each, in the given order, into the
    earliest slot where both are free."""
    busy: set[tuple[str, str]] = set()
    placed = 0
    for m in instance.meetings:
        for slot in instance.slots:
            if (m.a, slot.id) not in busy and (m.b, slot.id) not in busy:
                busy.update(((m.a, slot.id), (m.b, slot.id)))
                placed += 1
                break
    return placed


def value(instance: Instance, result: Schedule) -> int:
    priority = {m.id: m.priority for m in instance.meetings}
    return sum(priority[a.meeting] for a in result.assignments)


def where(result: Schedule) -> dict[str, tuple[str, int]]:
    return {a.meeting: (a.slot, a.table) for a in result.assignments}


def reasons(result: Schedule) -> dict[str, str]:
    return {u.meeting: u.reason for u in result.unscheduled}


def checked(instance: Instance) -> Schedule:
    result = schedule(instance)
    assert validate(instance, result) == []
    return result


# --- strategies ------------------------------------------------------------------------------


@st.composite
def bipartite(
    draw: st.DrawFn, *, most: int = 8, extra_slots: int = 1, max_tables: int | None = None
) -> Instance:
    """Delegates meet hosts, nobody away, nobody capped below their requests, at least as many
    slots as the busiest participant's meetings."""
    delegates = draw(st.integers(1, 4))
    hosts = draw(st.integers(1, 4))
    pairs = [(f"d{d}", f"h{h}") for d in range(delegates) for h in range(hosts)]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=most, unique=True))
    degree = Counter(p for pair in chosen for p in pair)
    slots = max(degree.values()) + draw(st.integers(0, extra_slots))
    tables = draw(st.integers(1, max_tables)) if max_tables else delegates + hosts
    priorities = draw(st.lists(st.integers(1, 3), min_size=len(chosen), max_size=len(chosen)))
    return event(
        [(a, b, p) for (a, b), p in zip(chosen, priorities, strict=True)],
        slots=slots,
        tables=tables,
    )


@st.composite
def anything(draw: st.DrawFn, *, most: int = 10) -> Instance:
    """Any valid instance: meetings between anyone, availability, caps, tables, valid fixed
    assignments."""
    people = [f"{'d' if i % 2 else 'h'}{i}" for i in range(draw(st.integers(2, 7)))]
    slots = draw(st.integers(1, 5))
    pairs = [(a, b) for i, a in enumerate(people) for b in people[i + 1 :]]
    chosen = draw(st.lists(st.sampled_from(pairs), max_size=most, unique=True))
    tables = draw(st.integers(1, 3))
    caps = {p: draw(st.integers(0, 4)) for p in people}
    away = {p: draw(st.lists(st.integers(1, slots), max_size=slots, unique=True)) for p in people}
    meetings = [(a, b, draw(st.integers(1, 3))) for a, b in chosen]
    wishes = draw(
        st.lists(
            st.tuples(st.integers(0, max(len(meetings) - 1, 0)), st.integers(1, slots)),
            max_size=3,
        )
    )
    fixed: list[tuple[str, int, int]] = []
    busy: set[tuple[str, int]] = set()
    load: Counter[str] = Counter()
    used: Counter[int] = Counter()
    for index, slot in wishes if meetings else []:
        a, b, _ = meetings[index]
        if (
            f"m{index + 1}" not in {m for m, _, _ in fixed}
            and used[slot] < tables
            and all((p, slot) not in busy and slot not in away[p] for p in (a, b))
            and load[a] < caps[a]
            and load[b] < caps[b]
        ):
            used[slot] += 1
            busy.update(((a, slot), (b, slot)))
            load.update((a, b))
            fixed.append((f"m{index + 1}", slot, used[slot]))
    return event(meetings, slots=slots, tables=tables, caps=caps, away=away, fixed=fixed)


# --- König: bipartite meetings with enough slots all find one --------------------------------


def test_konig_instance_where_first_fit_fails() -> None:
    """Three delegates, two hosts with three meetings each, three slots: first-fit puts both
    hosts' first meetings in the first two slots and is stuck on the last; a proper edge
    colouring with three colours exists (König) and the scheduler finds it."""
    instance = event(
        [
            ("d3", "h2", 2),
            ("d3", "h1", 2),
            ("d2", "h2", 2),
            ("d2", "h1", 2),
            ("d1", "h2", 2),
            ("d1", "h1", 2),
        ],
        slots=3,
    )
    assert first_fit(instance) == 5
    result = checked(instance)
    assert result.stats.scheduled == 6
    assert result.unscheduled == []


def test_konig_generated_event_where_first_fit_fails() -> None:
    """200 delegates and hosts, 900 meetings, the busiest participants with exactly as many
    meetings as there are slots."""
    rng = random.Random(2016)
    delegates, hosts, slots = 80, 120, 12
    degree: Counter[str] = Counter()
    pairs: dict[tuple[str, str], int] = {}
    while len(pairs) < 900:
        a = f"d{rng.randrange(delegates)}"
        b = f"h{rng.randrange(hosts) % rng.randint(1, hosts)}"  # popular hosts first
        if degree[a] < slots and degree[b] < slots and (a, b) not in pairs:
            degree.update((a, b))
            pairs[a, b] = rng.randint(1, 3)
    instance = event([(a, b, p) for (a, b), p in pairs.items()], slots=slots, tables=delegates)
    assert max(degree.values()) == slots
    assert first_fit(instance) < len(pairs)
    result = checked(instance)
    assert result.stats.scheduled == len(pairs) == result.stats.upper_bound


@settings(deadline=None, max_examples=300)
@given(bipartite(most=16))
def test_konig_every_meeting_is_placed(instance: Instance) -> None:
    result = checked(instance)
    assert result.unscheduled == []


# --- the exact optimum on small events -------------------------------------------------------


@settings(deadline=None, max_examples=200)
@given(bipartite(most=8, max_tables=3))
def test_table_limited_events_reach_the_optimum(instance: Instance) -> None:
    """With tables the only binding limit, any slots x tables meetings fit (an equitable edge
    colouring): the scheduler must place the most wanted of them."""
    result = checked(instance)
    capacity = len(instance.slots) * instance.tables
    assert result.stats.scheduled == min(len(instance.meetings), capacity)
    assert value(instance, result) == optimum(instance)


def corpus(count: int, seed: int) -> list[Instance]:
    """Small delegate-host events where availability, tables and caps all bind."""
    rng = random.Random(seed)
    made = []
    while len(made) < count:
        slots = rng.randint(2, 4)
        delegates = [f"d{i}" for i in range(rng.randint(2, 4))]
        hosts = [f"h{i}" for i in range(rng.randint(2, 4))]
        pairs = [(d, h) for d in delegates for h in hosts]
        rng.shuffle(pairs)
        meetings = [(a, b, rng.randint(1, 3)) for a, b in pairs[: rng.randint(3, 9)]]
        made.append(
            event(
                meetings,
                slots=slots,
                tables=rng.randint(1, 3),
                caps={p: rng.randint(1, slots) for p in delegates + hosts},
                away={
                    p: [s for s in range(1, slots + 1) if rng.random() < 0.3]
                    for p in delegates + hosts
                },
            )
        )
    return made


def test_availability_and_table_limited_events_against_the_optimum() -> None:
    """Placing meetings when availability binds is NP-hard in general, so the scheduler is not
    exact everywhere: on 400 random small events it must reach the optimum value on at least
    99% of them and never fall more than 2 priority points short (measured: optimal on 396, the
    other 4 one point short)."""
    shortfalls = []
    for instance in corpus(400, seed=7):
        result = checked(instance)
        shortfalls.append(optimum(instance) - value(instance, result))
    assert min(shortfalls) >= 0
    assert sum(1 for gap in shortfalls if gap > 0) <= 4
    assert max(shortfalls) <= 2


def test_availability_limited_event_needs_rearranging() -> None:
    """d2 can only come in slot 1, where h1's most wanted meeting already is: it moves to slot
    2 (first-fit, earliest slot first, would leave d2 out)."""
    instance = event([("d1", "h1", 3), ("d2", "h1", 1)], slots=2, away={"d2": [2]})
    result = checked(instance)
    assert where(result)["m1"][0] == "s2"
    assert where(result)["m2"][0] == "s1"


def test_caps_make_a_chain_of_swaps_worthwhile() -> None:
    """d1 and h0 each take one meeting. Placing d1–h0 (priority 3) first blocks d1–h1 (3) and
    d0–h0 (2); the optimum gives d1 to h1 and h0 to d0, dropping d0's priority-1 meeting: an
    augmenting path through three participants' maxima."""
    instance = event(
        [
            ("d1", "h0", 3),
            ("d1", "h3", 1),
            ("d0", "h1", 3),
            ("d0", "h2", 1),
            ("d1", "h2", 2),
            ("d1", "h1", 3),
            ("d0", "h3", 1),
            ("d0", "h0", 2),
        ],
        slots=4,
        tables=3,
        caps={"d0": 2, "d1": 1, "h0": 1, "h1": 2, "h2": 4, "h3": 3},
        away={"d1": [1, 2], "h0": [3], "h2": [1, 2], "h3": [1, 3]},
    )
    result = checked(instance)
    assert value(instance, result) == optimum(instance) == 8


# --- the upper bound -------------------------------------------------------------------------


@settings(deadline=None, max_examples=300)
@given(anything(most=8))
def test_upper_bound_is_never_below_the_best_schedule(instance: Instance) -> None:
    assert upper_bound(instance) >= optimum(instance, weight=lambda _: 1)


def test_upper_bound_counts_maxima_availability_and_tables() -> None:
    star = [("d1", f"h{i}", 1) for i in range(5)]
    assert upper_bound(event(star, slots=3)) == 3  # d1 has three slots
    assert upper_bound(event(star, slots=5, caps={"d1": 2})) == 2
    assert upper_bound(event(star, slots=5, away={"d1": [1, 2]})) == 3
    pairs = [(f"d{i}", f"h{i}", 1) for i in range(6)]
    assert upper_bound(event(pairs, slots=2, tables=2)) == 4
    # three of four delegates away in slot 2: it holds one meeting, slot 1 two (tables)
    away = {f"d{i}": [2] for i in range(1, 4)}
    assert upper_bound(event(pairs[:4], slots=2, tables=2, away=away)) == 2 + 1
    # never available together: nothing can take place
    assert upper_bound(event([("d1", "h1", 3)], slots=2, away={"d1": [1], "h1": [2]})) == 0


# --- every schedule valid, the same every time -----------------------------------------------


@settings(deadline=None, max_examples=400)
@given(anything())
def test_every_schedule_is_valid(instance: Instance) -> None:
    result = checked(instance)
    assert result.stats.requested == len(instance.meetings)
    assert result.stats.scheduled <= result.stats.upper_bound == upper_bound(instance)
    assert {a.meeting for a in result.assignments} >= {f.meeting for f in instance.fixed}


def without_time(result: Schedule) -> dict[str, Any]:
    return result.model_dump(exclude={"stats": {"solve_seconds"}})


@settings(deadline=None, max_examples=200)
@given(anything())
def test_same_input_same_schedule(instance: Instance) -> None:
    first = schedule(instance)
    again = schedule(Instance.model_validate_json(instance.model_dump_json()))
    assert without_time(first) == without_time(again)


# --- what the objective prefers --------------------------------------------------------------


def test_higher_priority_first_when_tables_are_short() -> None:
    instance = event([("d1", "h1", 1), ("d2", "h2", 3), ("d3", "h3", 2)], slots=1, tables=2)
    result = checked(instance)
    assert set(where(result)) == {"m2", "m3"}
    assert reasons(result) == {"m1": "all 2 tables are taken in every slot"}


def test_fairness_gives_everyone_a_meeting_before_anyone_a_second() -> None:
    """Two tables-slots for three equal requests: d1 asked for two, d2 for one; d1 keeping both
    would leave d2 with nothing."""
    instance = event([("d1", "h1", 1), ("d1", "h2", 1), ("d2", "h3", 1)], slots=2, tables=1)
    result = checked(instance)
    assert "m3" in where(result)
    assert len(set(where(result)) & {"m1", "m2"}) == 1


def test_value_comes_before_fairness() -> None:
    """The one table goes to the priority-3 meeting although d1 then has two and d2 none."""
    instance = event([("d1", "h1", 3), ("d2", "h2", 1), ("d1", "h3", 3)], slots=2, tables=1)
    result = checked(instance)
    assert set(where(result)) == {"m1", "m3"}


def test_agendas_are_compact() -> None:
    """h1's two most wanted meetings would take the first slots and d3, free only in slot 4,
    would leave h1 idle in slot 3; the meetings move so h1 meets in slots 2 to 4."""
    instance = event(
        [("d1", "h1", 3), ("d2", "h1", 3), ("d3", "h1", 1)],
        slots=5,
        away={"d3": [1, 2, 3, 5]},
    )
    result = checked(instance)
    assert result.unscheduled == []
    assert idle_slots(instance, result) == 0
    assert sorted(slot for slot, _ in where(result).values()) == ["s2", "s3", "s4"]


def test_idle_time_is_counted_within_a_day() -> None:
    """Meetings at the end of one day and the start of the next leave nobody idle."""
    instance = event(
        [("d1", "h1", 3), ("d1", "h2", 3)],
        slots=4,
        per_day=2,
        away={"h1": [1, 3, 4], "h2": [1, 2, 4]},
    )
    result = checked(instance)
    assert where(result)["m1"][0] == "s2"
    assert where(result)["m2"][0] == "s3"
    assert idle_slots(instance, result) == 0


# --- fixed assignments, tables, progress -----------------------------------------------------


def test_the_example_file() -> None:
    instance = Instance.model_validate_json(EXAMPLE.read_text())
    result = checked(instance)
    assert where(result)["m1"] == ("d1-0950", 1)
    assert result.stats.scheduled == result.stats.upper_bound == 5
    assert reasons(result) == {"m4": "lyon-materials is busy in every slot they are available for"}


def test_fixed_assignments_stay_and_others_move_around_them() -> None:
    """The fixed meeting takes d1's and h1's only shared slot's second table."""
    instance = event(
        [("d1", "h1", 1), ("d1", "h2", 3), ("d2", "h1", 3)],
        slots=2,
        tables=2,
        fixed=[("m1", 1, 2)],
    )
    result = checked(instance)
    assert where(result)["m1"] == ("s1", 2)
    assert where(result)["m2"][0] == where(result)["m3"][0] == "s2"


def test_the_busier_participant_keeps_their_table() -> None:
    instance = event([("d1", "h1", 3), ("d2", "h1", 3), ("d3", "h1", 3), ("d4", "h2", 1)])
    result = checked(instance)
    tables = {a.table for a in result.assignments if a.meeting in {"m1", "m2", "m3"}}
    assert len(tables) == 1


def test_progress_is_reported_up_to_the_total() -> None:
    pairs = [(f"d{i % 30}", f"h{i % 37}", 1 + i % 3) for i in range(900)]
    calls: list[tuple[int, int]] = []
    schedule(event(pairs, slots=40), progress=lambda done, total: calls.append((done, total)))
    assert len(calls) > 5
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1][0] == calls[-1][1]


# --- reasons ---------------------------------------------------------------------------------


def test_reasons_in_words() -> None:
    instance = event(
        [
            ("d1", "h1", 3),
            ("d1", "h2", 3),  # d1 takes one meeting
            ("d2", "h3", 1),  # never available together
            ("d3", "h4", 1),  # h4 takes none
            ("d5", "h5", 3),
            ("d5", "h6", 3),  # d5 is away but in slot 1
        ],
        slots=2,
        caps={"d1": 1, "h4": 0},
        away={"d2": [1], "h3": [2], "d5": [2]},
    )
    result = checked(instance)
    assert reasons(result) == {
        "m2": "d1 has reached its maximum of 1 meetings",
        "m3": "d2 and h3 are never available in the same slot",
        "m4": "h4 takes no meetings (max_meetings is 0)",
        "m6": "d5 is busy in every slot they are available for",
    }


# --- refused instances -----------------------------------------------------------------------


def raw(**changes: Any) -> dict[str, Any]:
    document = json.loads(EXAMPLE.read_text())
    for key, change in changes.items():
        document[key] = change(document[key]) if callable(change) else change
    return document


BAD = [
    pytest.param(
        raw(participants=lambda ps: [*ps, ps[0]]),
        "the participant id 'nordic-medtech' is used 2 times",
        id="duplicate-participant",
    ),
    pytest.param(
        raw(slots=lambda ss: [*ss, ss[1]]),
        "the slot id 'd1-0950' is used 2 times",
        id="duplicate-slot",
    ),
    pytest.param(
        raw(meetings=lambda ms: [*ms, {**ms[0], "b": "osaka-sensors"}]),
        "the meeting id 'm1' is used 2 times",
        id="duplicate-meeting",
    ),
    pytest.param(
        raw(
            meetings=lambda ms: [*ms, {"id": "m9", "a": "kobe-foods", "b": "nobody", "priority": 1}]
        ),
        "meeting 'm9' names participant 'nobody', who does not exist",
        id="unknown-participant",
    ),
    pytest.param(
        raw(
            meetings=lambda ms: [
                *ms,
                {"id": "m9", "a": "kobe-foods", "b": "kobe-foods", "priority": 1},
            ]
        ),
        "meeting 'm9' is between 'kobe-foods' and themselves",
        id="self-meeting",
    ),
    pytest.param(
        raw(meetings=lambda ms: [*ms, {**ms[0], "id": "m9", "a": ms[0]["b"], "b": ms[0]["a"]}]),
        "meetings 'm1' and 'm9' are both between 'kyoto-robotics' and 'nordic-medtech'",
        id="same-pair-twice",
    ),
    pytest.param(
        raw(meetings=lambda ms: [{**ms[0], "priority": 4}, *ms[1:]]),
        "meeting 'm1' has priority 4: it must be 1, 2 or 3",
        id="priority",
    ),
    pytest.param(raw(tables=0), "tables is 0: there must be at least one table", id="no-table"),
    pytest.param(
        raw(slots=lambda ss: [{**ss[0], "end": ss[0]["start"]}, *ss[1:]]),
        "slot 'd1-0930' does not end after it starts",
        id="slot-backwards",
    ),
    pytest.param(
        raw(slots=lambda ss: [{**ss[0], "end": "2016-10-18T10:00:00+09:00"}, *ss[1:]]),
        "slots 'd1-0930' and 'd1-0950' overlap",
        id="slots-overlap",
    ),
    pytest.param(
        raw(participants=lambda ps: [{**ps[0], "unavailable": ["d9"]}, *ps[1:]]),
        "participant 'nordic-medtech' is unavailable in slot 'd9', which does not exist",
        id="unknown-unavailable-slot",
    ),
    pytest.param(
        raw(participants=lambda ps: [{**ps[0], "max_meetings": -1}, *ps[1:]]),
        "participant 'nordic-medtech' has a negative max_meetings",
        id="negative-maximum",
    ),
    pytest.param(
        raw(fixed=[{"meeting": "m7", "slot": "d1-0930", "table": 1}]),
        "a fixed assignment names meeting 'm7', which does not exist",
        id="fixed-unknown-meeting",
    ),
    pytest.param(
        raw(fixed=[{"meeting": "m1", "slot": "d2-0930", "table": 1}]),
        "meeting 'm1' is fixed in slot 'd2-0930', which does not exist",
        id="fixed-unknown-slot",
    ),
    pytest.param(
        raw(fixed=[{"meeting": "m1", "slot": "d1-0930", "table": 3}]),
        "meeting 'm1' is fixed at table 3, outside 1..2",
        id="fixed-table",
    ),
    pytest.param(
        raw(fixed=[{"meeting": "m1", "slot": "d1-0930", "table": 1}] * 2),
        "meeting 'm1' is fixed more than once",
        id="fixed-twice",
    ),
    pytest.param(
        raw(fixed=lambda fs: [*fs, {"meeting": "m2", "slot": "d1-0950", "table": 2}]),
        "'nordic-medtech' is in two fixed meetings in slot 'd1-0950': 'm1' and 'm2'",
        id="fixed-double-booking",
    ),
    pytest.param(
        raw(fixed=lambda fs: [*fs, {"meeting": "m6", "slot": "d1-0950", "table": 1}]),
        "meetings 'm1' and 'm6' are both fixed at table 1 in slot 'd1-0950'",
        id="fixed-same-table",
    ),
    pytest.param(
        raw(fixed=[{"meeting": "m4", "slot": "d1-0930", "table": 1}]),
        "meeting 'm4' is fixed in slot 'd1-0930', for which 'lyon-materials' is unavailable",
        id="fixed-unavailable",
    ),
    pytest.param(
        raw(
            participants=lambda ps: [{**ps[0], "max_meetings": 1}, *ps[1:]],
            fixed=lambda fs: [*fs, {"meeting": "m2", "slot": "d1-1010", "table": 1}],
        ),
        "'nordic-medtech' has 2 fixed meetings, more than their maximum of 1",
        id="fixed-above-maximum",
    ),
]


@pytest.mark.parametrize(("document", "problem"), BAD)
def test_bad_instances_are_refused_with_the_reason(document: dict[str, Any], problem: str) -> None:
    instance = Instance.model_validate(document)
    assert problem in problems(instance)
    with pytest.raises(InvalidInstance) as refused:
        schedule(instance)
    assert problem in refused.value.problems
    with pytest.raises(InvalidInstance):
        upper_bound(instance)


def test_a_valid_instance_has_no_problem() -> None:
    assert problems(Instance.model_validate(raw())) == []


def test_validate_finds_broken_rules() -> None:
    instance = Instance.model_validate(raw())
    result = schedule(instance)
    broken = result.model_copy(deep=True)
    broken.assignments[1].slot = broken.assignments[0].slot
    broken.assignments[1].table = broken.assignments[0].table
    broken.assignments.append(broken.assignments[2].model_copy())
    broken.unscheduled = []
    found = validate(instance, broken)
    assert any("share table" in f for f in found)
    assert any("is assigned more than once" in f for f in found)
    assert any("neither assigned nor listed as unscheduled" in f for f in found)
    assert any("fixed meeting 'm1'" in f for f in found)
