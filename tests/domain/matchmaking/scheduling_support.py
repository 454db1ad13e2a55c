"""Matchmaking instances for the scheduler tests: `event` makes one from (a, b, priority)
triples, `checked` schedules it and validates the schedule, `scheduled_apart` schedules
instances in a process of their own, `bipartite` and `anything` draw instances for hypothesis.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from missionflow.domain.matchmaking.checks import validate
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.result import Schedule
from missionflow.domain.matchmaking.scheduling import schedule

EXAMPLE = Path(__file__).parents[3] / "examples" / "matchmaking.json"
JST = timezone(timedelta(hours=9))
OSAKA = datetime(2016, 10, 18, 9, 30, tzinfo=JST)


def slot_list(
    count: int, *, per_day: int | None = None, lunch_after: int | None = None
) -> list[dict[str, str]]:
    """`count` back-to-back 20-minute slots from 09:30, `per_day` of them a day; with
    `lunch_after`, an hour's lunch after that many slots of each day (two sessions a day)."""
    made = []
    for index in range(count):
        day, position = divmod(index, per_day or count or 1)
        lunch = 60 if lunch_after is not None and position >= lunch_after else 0
        start = OSAKA + timedelta(days=day, minutes=20 * position + lunch)
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
    lunch_after: int | None = None,
    windows: dict[str, tuple[datetime | None, datetime | None]] | None = None,
    **settings: Any,
) -> Instance:
    """An instance from (a, b, priority) triples; ids starting with "d" are delegates, others
    hosts; `away` lists 1-based slot numbers; `fixed` is (meeting id, slot number, table);
    `windows` gives meeting ids their (not_before, not_after); `settings` are further fields
    of the instance (max_break_difference, time_limit)."""
    people = sorted({p for a, b, _ in meetings for p in (a, b)} | set(caps or {}))
    return Instance.model_validate(
        {
            **settings,
            "slots": slot_list(slots, per_day=per_day, lunch_after=lunch_after),
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
                | dict(zip(("not_before", "not_after"), window, strict=True))
                for i, (a, b, priority) in enumerate(meetings)
                for window in [(windows or {}).get(f"m{i + 1}", (None, None))]
            ],
            "fixed": [{"meeting": m, "slot": f"s{n}", "table": t} for m, n, t in fixed],
        }
    )


def where(result: Schedule) -> dict[str, tuple[str, int]]:
    return {a.meeting: (a.slot, a.table) for a in result.assignments}


def reasons(result: Schedule) -> dict[str, str]:
    return {u.meeting: u.reason for u in result.unscheduled}


def checked(instance: Instance) -> Schedule:
    result = schedule(instance)
    assert validate(instance, result) == []
    return result


SCHEDULE_EACH_LINE = """
import sys
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.scheduling import schedule
for line in sys.stdin:
    instance = Instance.model_validate_json(line)
    print(schedule(instance, workers=int(sys.argv[1])).model_dump_json(), flush=True)
"""


def scheduled_apart(instances: Sequence[Instance], *, workers: int) -> list[Schedule]:
    """The instances scheduled in a process of their own: a failed check in CP-SAT aborts the
    process it runs in, which must not be pytest's."""
    done = subprocess.run(
        [sys.executable, "-c", SCHEDULE_EACH_LINE, str(workers)],
        input="".join(f"{instance.model_dump_json()}\n" for instance in instances),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    results = [Schedule.model_validate_json(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0, (
        f"the scheduler's process ended with {done.returncode} on instance {len(results)}: "
        f"{instances[len(results)].model_dump_json()}\n{done.stderr[-1500:]}"
    )
    return results


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
