"""Tables in the schedule: remote meetings, which take none, and fixed tables.

A meeting is remote when either participant is (`Participant.remote`): it takes no table, so
it never counts against a slot's `tables`, and its assignment's table is None. An in-person
meeting of a participant with a `table` is at that table in every slot.

Two participants at the same fixed table cannot both meet there in one slot. The scheduler's
engines (the fast placement, its repair and search for fewer breaks, and the exact phase) all
place meetings within each meeting's allowed slots, so hosts sharing a table take turns: before
placing, `table_turns` gives each slot of a shared table to one of them, in runs, in proportion
to the meetings each could have. The turns are a choice made up front: an arrangement that
interleaves the hosts differently is not searched. A slot where a kept assignment (a meeting
placed in an earlier round) already sits at the table is nobody's turn.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.result import Schedule


def remote_meetings(instance: Instance) -> list[bool]:
    """Whether each meeting, in the instance's order, is remote."""
    remote = {p.id for p in instance.participants if p.remote}
    return [m.a in remote or m.b in remote for m in instance.meetings]


def required_tables(instance: Instance) -> list[int | None]:
    """The fixed table of each meeting (its participants'), None when it may take any or is
    remote. Two different fixed tables in one meeting are a problem (`table_problems`); the
    first participant's is given here."""
    table = {p.id: p.table for p in instance.participants}
    return [
        None if remote else (table.get(m.a) or table.get(m.b))
        for m, remote in zip(instance.meetings, remote_meetings(instance), strict=True)
    ]


def table_turns(
    instance: Instance,
    slot_index: dict[str, int],
    ends: Sequence[tuple[int, int]],
    allowed: Sequence[int],
    caps: Sequence[int],
) -> list[int]:
    """Each meeting's allowed slots (masks, bit s: slot s in time order) with the fixed
    tables' turns taken out: unchanged for a meeting without a fixed table."""
    required = required_tables(instance)
    index = {m.id: i for i, m in enumerate(instance.meetings)}
    holders: dict[int, set[int]] = defaultdict(set)  # table -> participants (numbered)
    for meeting, table in enumerate(required):
        if table is not None:
            a, b = ends[meeting]
            person = a if instance.participants[a].table == table else b
            holders[table].add(person)
    if not holders:
        return list(allowed)
    taken: dict[int, int] = defaultdict(int)  # table -> slots a kept assignment holds there
    given: dict[tuple[int, int], int] = defaultdict(int)  # (table, person) -> their turns
    for fixed in instance.fixed:
        meeting = index[fixed.meeting]
        if fixed.table is None or fixed.slot not in slot_index:
            continue
        bit = 1 << slot_index[fixed.slot]
        if required[meeting] == fixed.table:
            a, b = ends[meeting]
            person = a if instance.participants[a].table == fixed.table else b
            given[fixed.table, person] |= bit
        taken[fixed.table] |= bit
    turns: dict[tuple[int, int], int] = {}
    for table, people in holders.items():
        if len(people) == 1:
            (person,) = people
            turns[table, person] = ~(taken[table] & ~given[table, person])
            continue
        turns.update(_share(table, sorted(people), required, ends, allowed, caps, taken, given))
    result = list(allowed)
    for meeting, table in enumerate(required):
        if table is not None:
            a, b = ends[meeting]
            person = a if instance.participants[a].table == table else b
            result[meeting] &= turns[table, person]
    return result


def _share(
    table: int,
    people: list[int],
    required: Sequence[int | None],
    ends: Sequence[tuple[int, int]],
    allowed: Sequence[int],
    caps: Sequence[int],
    taken: dict[int, int],
    given: dict[tuple[int, int], int],
) -> dict[tuple[int, int], int]:
    """The slots of a shared table, each to one of `people`: slots in time order, each to the
    holder of the previous one while they are below their share, else to whoever is furthest
    below theirs (ties: the first). A share is the slots in proportion to the meetings they
    could have (at most their maximum)."""
    could: dict[int, int] = defaultdict(int)  # slots someone could meet in, at the table
    wanted: dict[int, int] = defaultdict(int)
    for meeting, here in enumerate(required):
        if here == table:
            for person in ends[meeting]:
                if person in people:
                    could[person] |= allowed[meeting]
                    wanted[person] += 1
    demand = {p: min(wanted[p], caps[p]) or 1 for p in people}
    everyone = 0
    for p in people:
        everyone |= could[p]
    free = everyone & ~taken[table]
    share = {p: demand[p] * free.bit_count() / sum(demand.values()) for p in people}
    mine = {p: given[table, p] for p in people}
    count = {p: 0 for p in people}
    holder: int | None = None
    slot = 0
    while free >> slot:
        if free >> slot & 1:
            candidates = [p for p in people if could[p] >> slot & 1]
            if holder not in candidates or count[holder] >= share[holder]:
                holder = max(candidates, key=lambda p: (share[p] - count[p], -p))
            mine[holder] |= 1 << slot
            count[holder] += 1
        slot += 1
    return {(table, p): mine[p] for p in people}


def table_problems(instance: Instance) -> list[str]:
    """What makes the instance's tables invalid, in words."""
    found: list[str] = []
    for person in instance.participants:
        if person.table is not None and not 1 <= person.table <= instance.tables:
            found.append(
                f"participant {person.id!r} is at table {person.table}, outside "
                f"1..{instance.tables}"
            )
        if person.table is not None and person.remote:
            found.append(f"participant {person.id!r} is remote and cannot have a table")
    table = {p.id: p.table for p in instance.participants}
    for meeting in instance.meetings:
        one, two = table.get(meeting.a), table.get(meeting.b)
        if one is not None and two is not None and one != two:
            found.append(
                f"meeting {meeting.id!r} is between participants at tables {one} and {two}"
            )
    found += _breaches(instance, [(f.meeting, f.table) for f in instance.fixed], "fixed")
    return found


def table_breaches(instance: Instance, result: Schedule) -> list[str]:
    """The rules of remote meetings and fixed tables that a schedule breaks, in words."""
    return _breaches(instance, [(a.meeting, a.table) for a in result.assignments], "placed")


def _breaches(instance: Instance, placed: list[tuple[str, int | None]], how: str) -> list[str]:
    index = {m.id: i for i, m in enumerate(instance.meetings)}
    remote, required = remote_meetings(instance), required_tables(instance)
    found = []
    for meeting, table in placed:
        if meeting not in index:
            continue  # the other checks name it
        i = index[meeting]
        if remote[i] and table is not None:
            found.append(f"remote meeting {meeting!r} is {how} at table {table}")
        elif not remote[i] and table is None:
            found.append(f"meeting {meeting!r} is in person but {how} at no table")
        elif required[i] is not None and table != required[i]:
            found.append(
                f"meeting {meeting!r} is {how} at table {table}, not at its fixed table "
                f"{required[i]}"
            )
    return found
