"""The generated events of `benchmarks.matchmaking`, the same for the same seed.

- b2b-1 … b2b-8: the shape of the published B2B meeting-scheduling benchmark (Bofill et al.,
  JAIR 74, 2022): 40 to 80 participants, half of them hosts; 120 to 310 meetings; one day of 8
  to 22 twenty-minute slots, a morning and an afternoon session with a lunch gap between; 0 to
  12% of the participant×slot pairs forbidden; 2 to 5 pairs meeting twice (each meeting its own
  id); about 70% of the meetings wished in the morning or the afternoon (`not_before` and
  `not_after` the session's first start and last end); 5 to 10% of the meetings fixed, taken
  from a valid placement (`greedy` in a random order); tables for 0.6 to 0.9 × half the
  participants, and for at least 1.1 × the meetings per slot; nobody capped below the slots.
- osaka: the Osaka size (60 European delegates, 97 Japanese hosts, 288 meetings, two days).
- König (500, 1000 and 2000 participants): no table or availability limit binds and nobody's
  cap is below their requests, but the busiest participants have exactly as many meetings as
  there are slots. A bipartite edge colouring then places every meeting (König's theorem).
- constrained (osaka-1-day, 500, 1000 and 2000 participants): tables for about 85% of the
  requests, a fifth of the hosts and a tenth of the delegates away for a session or a day, and
  caps below what popular hosts are asked for.

Delegates request hosts, popular hosts more often; priorities are 1 to 3.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from missionflow.domain.matchmaking.instance import Fixed, Instance, Meeting, Slot
from missionflow.domain.matchmaking.result import Assignment

JST = timezone(timedelta(hours=9))
CET = timezone(timedelta(hours=1))
# Osaka's day: 09:30-12:30 and 14:00-17:30 in 20-minute slots (9 + 10 slots)
SESSIONS = (((9, 30), (12, 30)), ((14, 0), (17, 30)))
SLOT = timedelta(minutes=20)
B2B_DAY = datetime(2022, 3, 15, tzinfo=CET)
B2B_STARTS = ((9, 0), (14, 30))  # morning, afternoon (the lunch gap between)


@dataclass(frozen=True)
class Event:
    name: str
    delegates: int
    hosts: int
    meetings: int
    days: int
    kind: str  # "osaka", "könig" or "constrained"
    time_limit: float  # seconds for the scheduler's exact phase


@dataclass(frozen=True)
class B2B:
    name: str
    participants: int
    meetings: int
    morning: int  # slots
    afternoon: int
    forbidden: float  # share of participant×slot pairs
    time_limit: float = 30.0


EVENTS: tuple[Event | B2B, ...] = (
    B2B("b2b-1", 40, 120, 5, 5, 0.00),
    B2B("b2b-2", 60, 130, 4, 4, 0.04),
    B2B("b2b-3", 48, 160, 7, 7, 0.08),
    B2B("b2b-4", 56, 200, 9, 7, 0.12),
    B2B("b2b-5", 64, 230, 9, 9, 0.06),
    B2B("b2b-6", 70, 260, 10, 10, 0.10),
    B2B("b2b-7", 80, 310, 12, 10, 0.12),
    B2B("b2b-8", 76, 280, 6, 6, 0.02),
    Event("osaka", 60, 97, 288, 2, "osaka", 10),
    Event("osaka-1-day", 60, 97, 288, 1, "constrained", 10),
    Event("500-könig", 150, 350, 2_500, 1, "könig", 30),
    Event("500-constrained", 150, 350, 2_500, 1, "constrained", 30),
    Event("1000-könig", 300, 700, 8_000, 2, "könig", 30),
    Event("1000-constrained", 300, 700, 8_000, 2, "constrained", 30),
    Event("2000-könig", 600, 1_400, 20_000, 2, "könig", 60),
    Event("2000-constrained", 600, 1_400, 20_000, 2, "constrained", 60),
)


def generate(event: Event | B2B, seed: int, time_limit: float | None = None) -> Instance:
    """The event's instance, the same for the same seed; `time_limit` (seconds for the exact
    phase) overrides the event's own."""
    instance = b2b(event, seed) if isinstance(event, B2B) else osaka_like(event, seed)
    limit = event.time_limit if time_limit is None else time_limit
    return instance.model_copy(update={"time_limit": limit})


def within(meeting: Meeting, slot: Slot) -> bool:
    """Whether the slot lies inside the meeting's time window."""
    return (meeting.not_before is None or slot.start >= meeting.not_before) and (
        meeting.not_after is None or slot.end <= meeting.not_after
    )


def greedy(
    instance: Instance, meetings: Iterable[Meeting], slots: Sequence[Slot]
) -> tuple[list[Assignment], list[str]]:
    """The fixed assignments, then each of `meetings` into the first of `slots` inside its
    window where both are available and free, a table is left and neither has reached their
    maximum, at the lowest free table. Returns the assignments and the meetings left out."""
    people = {p.id: p for p in instance.participants}
    busy = {p.id: set(p.unavailable) for p in instance.participants}
    load = dict.fromkeys(people, 0)
    taken: dict[str, set[int]] = {s.id: set() for s in instance.slots}
    ends = {m.id: (m.a, m.b) for m in instance.meetings}
    assignments: list[Assignment] = []

    def put(meeting: str, slot: str, table: int) -> None:
        taken[slot].add(table)
        for who in ends[meeting]:
            busy[who].add(slot)
            load[who] += 1
        assignments.append(Assignment(meeting=meeting, slot=slot, table=table))

    for fixed in instance.fixed:
        put(fixed.meeting, fixed.slot, fixed.table)
    fixed_ids = {f.meeting for f in instance.fixed}
    left_out = []
    for meeting in meetings:
        if meeting.id in fixed_ids:
            continue
        a, b = meeting.a, meeting.b
        slot = None
        if load[a] < people[a].max_meetings and load[b] < people[b].max_meetings:
            slot = next(
                (
                    s.id
                    for s in slots
                    if len(taken[s.id]) < instance.tables
                    and s.id not in busy[a]
                    and s.id not in busy[b]
                    and within(meeting, s)
                ),
                None,
            )
        if slot is None:
            left_out.append(meeting.id)
        else:
            table = min(set(range(1, instance.tables + 1)) - taken[slot])
            put(meeting.id, slot, table)
    return assignments, left_out


# --- b2b-* -------------------------------------------------------------------------------------


def b2b_slots(morning: int, afternoon: int) -> list[list[dict[str, str]]]:
    """The slots of the morning session and of the afternoon session."""
    made = []
    for name, count, (hour, minute) in zip(
        ("am", "pm"), (morning, afternoon), B2B_STARTS, strict=True
    ):
        start = B2B_DAY.replace(hour=hour, minute=minute)
        made.append(
            [
                {
                    "id": f"{name}-{i + 1:02}",
                    "start": (start + i * SLOT).isoformat(),
                    "end": (start + (i + 1) * SLOT).isoformat(),
                }
                for i in range(count)
            ]
        )
    return made


def b2b(event: B2B, seed: int) -> Instance:
    rng = random.Random(f"{seed}-{event.name}")
    sessions = b2b_slots(event.morning, event.afternoon)
    slot_list = [s for session in sessions for s in session]
    slot_count = len(slot_list)
    hosts = [f"host-{i + 1:02}" for i in range(event.participants // 2)]
    delegates = [f"dlg-{i + 1:02}" for i in range(event.participants - len(hosts))]
    everyone = delegates + hosts
    cells = rng.sample(
        range(len(everyone) * slot_count), round(event.forbidden * len(everyone) * slot_count)
    )
    unavailable: dict[str, list[str]] = {p: [] for p in everyone}
    for cell in sorted(cells):
        unavailable[everyone[cell // slot_count]].append(slot_list[cell % slot_count]["id"])
    # room[p][s]: the slots of session s that p is available for
    room = {
        p: [sum(s["id"] not in unavailable[p] for s in session) for session in sessions]
        for p in everyone
    }
    popularity = [1 / (rank + 3) ** 0.6 for rank in range(len(hosts))]
    activity = [rng.uniform(0.5, 1.5) for _ in delegates]
    degree = dict.fromkeys(everyone, 0)

    def fits(*people: str) -> bool:
        return all(degree[p] < sum(room[p]) for p in people)

    repeats = rng.randint(2, 5)
    pairs: list[tuple[str, str]] = []
    for _ in range(1_000_000):
        if len(pairs) == event.meetings - repeats:
            break
        delegate, host = rng.choices(delegates, activity)[0], rng.choices(hosts, popularity)[0]
        if (delegate, host) not in pairs and fits(delegate, host):
            pairs.append((delegate, host))
            degree[delegate] += 1
            degree[host] += 1
    else:
        raise RuntimeError(f"{event.name}: too many meetings for the participants' slots")
    for delegate, host in rng.sample([p for p in pairs if fits(*p)], repeats):
        pairs.append((delegate, host))
        degree[delegate] += 1
        degree[host] += 1
    wished = {p: [0, 0] for p in everyone}
    meetings = []
    for number, (delegate, host) in enumerate(pairs, start=1):
        meeting: dict[str, object] = {
            "id": f"m{number:03}",
            "a": delegate,
            "b": host,
            "priority": rng.choices((1, 2, 3), (3, 4, 3))[0],
        }
        open_ = [s for s in (0, 1) if all(wished[p][s] < room[p][s] for p in (delegate, host))]
        if open_ and rng.random() < 0.7:
            session = rng.choice(open_)
            meeting["not_before"] = sessions[session][0]["start"]
            meeting["not_after"] = sessions[session][-1]["end"]
            wished[delegate][session] += 1
            wished[host][session] += 1
        meetings.append(meeting)
    half = event.participants / 2
    tables = max(round(rng.uniform(0.6, 0.9) * half), math.ceil(1.1 * event.meetings / slot_count))
    instance = Instance.model_validate(
        {
            "slots": slot_list,
            "tables": tables,
            "participants": [
                {
                    "id": p,
                    "side": "host" if p in hosts else "delegate",
                    "max_meetings": slot_count,
                    "unavailable": unavailable[p],
                }
                for p in everyone
            ],
            "meetings": meetings,
        }
    )
    order = list(instance.meetings)
    rng.shuffle(order)
    slots = list(instance.slots)
    rng.shuffle(slots)
    placed, _ = greedy(instance, order, slots)
    share = rng.uniform(0.05, 0.10)
    chosen = rng.sample(placed, min(len(placed), round(share * event.meetings)))
    fixed = [Fixed(meeting=a.meeting, slot=a.slot, table=a.table) for a in chosen]
    return instance.model_copy(update={"fixed": fixed})


# --- osaka, König and constrained ---------------------------------------------------------------


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


def osaka_like(event: Event, seed: int) -> Instance:
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
