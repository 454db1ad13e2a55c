"""The meeting scheduler on generated matchmaking events, beside a greedy first-fit baseline.

Events are generated from a seed, from the Osaka size (60 European delegates, 97 Japanese
hosts, 288 meetings) up to 2,000 participants and 20,000 requested meetings. Delegates request
hosts, popular hosts more often; priorities are 1 to 3. Two kinds:

- König: no table or availability limit binds and nobody's cap is below their requests, but the
  busiest participants have exactly as many meetings as there are slots. A bipartite edge
  colouring then places every meeting (König's theorem); first-fit usually cannot.
- constrained: tables for about 85% of the requests, a fifth of the hosts and a tenth of the
  delegates away for a session or a day, and caps below what popular hosts are asked for.

For each event, in the same process: meetings placed, the upper bound (`upper_bound`), their
ratio and the seconds, for the scheduler and for first-fit (each meeting, highest priority
first, into the earliest slot where it fits). `validate()` checks every schedule; the run exits
1 if any schedule breaks a rule.

    .venv/bin/python -m benchmarks.matchmaking [--only NAME ...] [--seed 2016] [--cp-sat 60]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.scheduling import (
    Assignment,
    Schedule,
    Stats,
    Unscheduled,
    idle_slots,
    schedule,
    upper_bound,
    validate,
)

JST = timezone(timedelta(hours=9))
# Osaka's day: 09:30-12:30 and 14:00-17:30 in 20-minute slots (9 + 10 slots)
SESSIONS = (((9, 30), (12, 30)), ((14, 0), (17, 30)))
SLOT = timedelta(minutes=20)


@dataclass(frozen=True)
class Event:
    name: str
    delegates: int
    hosts: int
    meetings: int
    days: int
    kind: str  # "osaka", "könig" or "constrained"


EVENTS = (
    Event("osaka", 60, 97, 288, 2, "osaka"),
    Event("osaka-1-day", 60, 97, 288, 1, "constrained"),
    Event("500-könig", 150, 350, 2_500, 1, "könig"),
    Event("500-constrained", 150, 350, 2_500, 1, "constrained"),
    Event("1000-könig", 300, 700, 8_000, 2, "könig"),
    Event("1000-constrained", 300, 700, 8_000, 2, "constrained"),
    Event("2000-könig", 600, 1_400, 20_000, 2, "könig"),
    Event("2000-constrained", 600, 1_400, 20_000, 2, "constrained"),
)


def slots(days: int) -> list[dict[str, str]]:
    made = []
    for day in range(days):
        date = datetime(2016, 10, 18 + day, tzinfo=JST)
        for session, ((h1, m1), (h2, m2)) in enumerate(SESSIONS):
            start, end = date.replace(hour=h1, minute=m1), date.replace(hour=h2, minute=m2)
            index = 0
            while start + SLOT <= end:
                made.append(
                    {
                        "id": f"d{day + 1}s{session + 1}-{index + 1:02}",
                        "start": start.isoformat(),
                        "end": (start + SLOT).isoformat(),
                    }
                )
                start += SLOT
                index += 1
    return made


def generate(event: Event, seed: int) -> Instance:
    """The event's instance, the same for the same seed."""
    rng = random.Random(f"{seed}-{event.name}")
    slot_list = slots(event.days)
    slot_count = len(slot_list)
    delegates = [f"eu-{i + 1:04}" for i in range(event.delegates)]
    hosts = [f"jp-{i + 1:04}" for i in range(event.hosts)]
    popularity = [1 / (rank + 5) ** 0.7 for rank in range(event.hosts)]
    activity = [rng.uniform(0.5, 1.5) for _ in delegates]
    limit = slot_count  # nobody requests more meetings than there are slots
    degree = dict.fromkeys(delegates + hosts, 0)
    pairs: set[tuple[str, str]] = set()
    meetings = []
    while len(meetings) < event.meetings:
        delegate = rng.choices(delegates, activity)[0]
        host = rng.choices(hosts, popularity)[0]
        if (delegate, host) in pairs or degree[delegate] >= limit or degree[host] >= limit:
            continue
        pairs.add((delegate, host))
        degree[delegate] += 1
        degree[host] += 1
        priority = rng.choices((1, 2, 3), (3, 4, 3))[0]
        meetings.append(
            {"id": f"m{len(meetings) + 1:05}", "a": delegate, "b": host, "priority": priority}
        )
    session_ids = sorted({s["id"].split("-")[0] for s in slot_list})
    by_session = {
        name: [s["id"] for s in slot_list if s["id"].startswith(name)] for name in session_ids
    }

    def away(share: float, person: str) -> list[str]:
        if rng.random() >= share:
            return []
        if rng.random() < 0.7:
            return by_session[rng.choice(session_ids)]
        day = rng.randrange(event.days) + 1
        return [s["id"] for s in slot_list if s["id"].startswith(f"d{day}")]

    if event.kind == "könig":
        tables = min(event.delegates, event.hosts)
        people = [
            {"id": p, "side": side, "max_meetings": slot_count, "unavailable": []}
            for side, group in (("delegate", delegates), ("host", hosts))
            for p in group
        ]
    elif event.kind == "osaka":
        tables = 40
        people = [
            {"id": p, "side": "delegate", "max_meetings": 8, "unavailable": []} for p in delegates
        ] + [
            {"id": p, "side": "host", "max_meetings": 8, "unavailable": away(0.24, p)}
            for p in hosts
        ]
    else:
        tables = max(1, round(0.95 * event.meetings / slot_count))
        host_cap = max(4, round(0.7 * slot_count))
        people = [
            {"id": p, "side": "delegate", "max_meetings": slot_count, "unavailable": away(0.15, p)}
            for p in delegates
        ] + [
            {"id": p, "side": "host", "max_meetings": host_cap, "unavailable": away(0.3, p)}
            for p in hosts
        ]
    return Instance.model_validate(
        {"slots": slot_list, "tables": tables, "participants": people, "meetings": meetings}
    )


def first_fit(instance: Instance) -> Schedule:
    """The baseline: each meeting, highest priority first, into the earliest slot where both
    are free and available, a table is left and neither has reached their maximum."""
    started = time.perf_counter()
    order = sorted(instance.slots, key=lambda s: s.start)
    people = {p.id: p for p in instance.participants}
    busy = {p.id: set(p.unavailable) for p in instance.participants}
    load = dict.fromkeys(people, 0)
    used = {s.id: 0 for s in order}
    assignments, unscheduled = [], []
    for meeting in sorted(instance.meetings, key=lambda m: -m.priority):
        a, b = meeting.a, meeting.b
        slot = None
        if load[a] < people[a].max_meetings and load[b] < people[b].max_meetings:
            slot = next(
                (
                    s.id
                    for s in order
                    if used[s.id] < instance.tables and s.id not in busy[a] and s.id not in busy[b]
                ),
                None,
            )
        if slot is None:
            unscheduled.append(Unscheduled(meeting=meeting.id, reason="first-fit found no slot"))
            continue
        used[slot] += 1
        busy[a].add(slot)
        busy[b].add(slot)
        load[a] += 1
        load[b] += 1
        assignments.append(Assignment(meeting=meeting.id, slot=slot, table=used[slot]))
    return Schedule(
        assignments=assignments,
        unscheduled=unscheduled,
        stats=Stats(
            requested=len(instance.meetings),
            scheduled=len(assignments),
            upper_bound=len(instance.meetings),  # not a bound; the run uses `upper_bound`
            solve_seconds=round(time.perf_counter() - started, 3),
        ),
    )


def cp_sat(instance: Instance, seconds: float) -> Schedule:
    """The exact alternative: the same problem as a CP-SAT model (one boolean per meeting and
    slot both are available for; at most one slot per meeting, one meeting per participant per
    slot, `tables` per slot, `max_meetings` per participant; maximise the sum of priorities),
    stopped after `seconds`. OR-Tools is not a dependency of missionflow (it pins protobuf 6.33,
    below the 7.x the project runs on, and brings numpy and pandas): run this from an
    environment that has it."""
    from ortools.sat.python import cp_model

    started = time.perf_counter()
    people = {p.id: p for p in instance.participants}
    fixed = {f.meeting: f for f in instance.fixed}
    model = cp_model.CpModel()
    chosen: dict[tuple[str, str], Any] = {}
    for meeting in instance.meetings:
        away = set(people[meeting.a].unavailable) | set(people[meeting.b].unavailable)
        for slot in instance.slots:
            if slot.id not in away:
                chosen[meeting.id, slot.id] = model.new_bool_var(f"{meeting.id}@{slot.id}")
    groups: dict[tuple[str, ...], list[Any]] = {}
    ends = {m.id: (m.a, m.b) for m in instance.meetings}
    for (meeting, slot), var in chosen.items():
        groups.setdefault(("meeting", meeting), []).append(var)
        groups.setdefault(("slot", slot), []).append(var)
        for person in ends[meeting]:
            groups.setdefault(("busy", person, slot), []).append(var)
            groups.setdefault(("load", person), []).append(var)
    for key, variables in groups.items():
        if key[0] in ("meeting", "busy"):
            model.add_at_most_one(variables)
        elif key[0] == "slot":
            model.add(sum(variables) <= instance.tables)
        else:
            model.add(sum(variables) <= people[key[1]].max_meetings)
    for meeting, assignment in fixed.items():
        model.add(chosen[meeting, assignment.slot] == 1)
    priority = {m.id: m.priority for m in instance.meetings}
    model.maximize(sum(priority[meeting] * var for (meeting, _), var in chosen.items()))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = os.cpu_count() or 1
    status = solver.solve(model)
    placed = (
        [key for key, var in chosen.items() if solver.value(var)]
        if status in (cp_model.OPTIMAL, cp_model.FEASIBLE)
        else []
    )
    taken: dict[str, set[int]] = {}
    assignments = []
    for meeting, slot in placed:
        if meeting in fixed:
            table = fixed[meeting].table
        else:
            table = next(
                t
                for t in range(1, instance.tables + 1)
                if t not in taken.get(slot, set())
                and t not in {f.table for f in instance.fixed if f.slot == slot}
            )
        taken.setdefault(slot, set()).add(table)
        assignments.append(Assignment(meeting=meeting, slot=slot, table=table))
    done = {a.meeting for a in assignments}
    status_name = solver.status_name(status).lower()
    return Schedule(
        assignments=assignments,
        unscheduled=[
            Unscheduled(meeting=m.id, reason=f"CP-SAT ({status_name})")
            for m in instance.meetings
            if m.id not in done
        ],
        stats=Stats(
            requested=len(instance.meetings),
            scheduled=len(assignments),
            upper_bound=len(instance.meetings),
            solve_seconds=round(time.perf_counter() - started, 3),
        ),
    )


def lowest_share(instance: Instance, result: Schedule) -> float:
    """Fairness: the lowest placed / min(requested, max_meetings) among participants who could
    meet anyone (requests between two people who share no available slot are not counted)."""
    people = {p.id: p for p in instance.participants}
    slot_ids = {s.id for s in instance.slots}
    free = {p.id: slot_ids - set(p.unavailable) for p in instance.participants}
    requested: Counter[str] = Counter()
    for m in instance.meetings:
        if free[m.a] & free[m.b]:
            requested.update((m.a, m.b))
    ends = {m.id: (m.a, m.b) for m in instance.meetings}
    placed = Counter(p for a in result.assignments for p in ends[a.meeting])
    return min(
        (
            placed[p] / min(n, people[p].max_meetings)
            for p, n in requested.items()
            if people[p].max_meetings > 0
        ),
        default=1.0,
    )


COLUMNS = (
    ("event", "<17"),
    ("method", "<10"),
    ("requests", ">8"),
    ("placed", ">7"),
    ("bound", ">7"),
    ("ratio", ">7"),
    ("value", ">7"),
    ("lowest", ">6"),
    ("idle", ">5"),
    ("seconds", ">8"),
)


def line(*cells: object) -> str:
    return " ".join(f"{cell!s:{align}}" for cell, (_, align) in zip(cells, COLUMNS, strict=True))


def row(
    name: str, method: str, instance: Instance, result: Schedule, bound: int, seconds: float
) -> str:
    placed = result.stats.scheduled
    priority = {m.id: m.priority for m in instance.meetings}
    return line(
        name,
        method,
        len(instance.meetings),
        placed,
        bound,
        f"{placed / bound:.2%}" if bound else "-",
        sum(priority[a.meeting] for a in result.assignments),
        f"{lowest_share(instance, result):.2f}",
        f"{idle_slots(instance, result) / len(instance.participants):.2f}",
        f"{seconds:.2f}",
    )


def main(names: list[str] | None, seed: int, cp_sat_seconds: float | None = None) -> int:
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, seed {seed}")
    print(line(*(name for name, _ in COLUMNS)))
    failures = 0
    for event in EVENTS:
        if names and event.name not in names:
            continue
        instance = generate(event, seed)
        started = time.perf_counter()
        bound = upper_bound(instance)
        bound_seconds = time.perf_counter() - started
        methods: list[tuple[str, Callable[[Instance], Schedule]]] = [
            ("scheduler", schedule),
            ("first-fit", first_fit),
        ]
        if cp_sat_seconds is not None:
            methods.append(("cp-sat", lambda i: cp_sat(i, cp_sat_seconds)))
        for method, solve in methods:
            started = time.perf_counter()
            result = solve(instance)
            seconds = time.perf_counter() - started
            print(row(event.name, method, instance, result, bound, seconds), flush=True)
            for problem in validate(instance, result):
                failures += 1
                print(f"  INVALID: {problem}")
        print(line(event.name, "bound", "", "", bound, "", "", "", "", f"{bound_seconds:.2f}"))
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these events")
    parser.add_argument("--seed", type=int, default=2016)
    parser.add_argument(
        "--cp-sat",
        type=float,
        metavar="SECONDS",
        help="also solve with OR-Tools CP-SAT, stopped after SECONDS (needs ortools installed)",
    )
    arguments = parser.parse_args()
    sys.exit(main(arguments.only, arguments.seed, arguments.cp_sat))
