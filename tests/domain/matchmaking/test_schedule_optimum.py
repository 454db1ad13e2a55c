"""The meeting scheduler against the best there is: König's theorem (bipartite meetings with
enough slots all find one), the exact optimum on small events, and a true upper bound.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

from hypothesis import given, settings
from scheduling_support import anything, bipartite, checked, event, where

from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.result import Schedule
from missionflow.domain.matchmaking.scheduling import upper_bound


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
