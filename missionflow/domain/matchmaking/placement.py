"""How the scheduler places meetings (the method; `scheduling.py` is the contract).

1. The fixed meetings are put where they were fixed.
2. The other meetings are placed one at a time: highest priority first, and among equal
   priorities round-robin, everyone's first request before anyone's second. A meeting goes into
   a slot where both participants are free and available and a table is left, next to their
   other meetings when possible. When there is none, a Kempe chain swaps two slots along a path
   of meetings to free one (see `timetable.py`: for a bipartite set of meetings this
   always succeeds while both have fewer meetings than there are slots, König's edge-colouring
   theorem), and a full slot gets a table back by moving a meeting, or a chain, to a slot with
   room.
3. Repair: each meeting left out is tried again in each slot its two participants share, by
   taking out what is in its way there (their meetings in that slot; for a participant at their
   maximum, their least wanted meeting; in a full slot, the meeting whose participants are best
   off), then placing what was taken out elsewhere, or instead other requests of whoever lost a
   meeting (an augmenting path). The change is kept when the value (the sum of priorities) rises,
   or stays and fairness improves: the lowest share placed / wanted among those affected rises
   (then the next lowest: leximin). Otherwise it is undone.
4. Fewer breaks: a local search of Kempe swaps (`polish.py`) moves the placed meetings between
   slots, breaks first, then idle slots, everyone's meetings kept.

Every bound on the work (chains tried per meeting, component sizes, moves) is a count, never a
clock, so the same instance always gives the same schedule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from missionflow.domain.matchmaking.attendees import attendees
from missionflow.domain.matchmaking.breaks import sessions
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.polish import polish
from missionflow.domain.matchmaking.seating import remote_meetings, required_tables, table_turns
from missionflow.domain.matchmaking.timetable import FREE, Timetable, bits

MOVES_PER_MEETING = 1_000
MOST_MOVES = 1_500_000


class Numbered:
    """The instance with everything numbered: slots in time order, participants and meetings in
    the instance's order."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.tables = instance.tables
        self.slots = sorted(instance.slots, key=lambda s: (s.start, s.end, s.id))
        self.slot_index = {s.id: i for i, s in enumerate(self.slots)}
        self.people = instance.participants
        person_index = {p.id: i for i, p in enumerate(self.people)}
        self.meetings = instance.meetings
        self.meeting_index = {m.id: i for i, m in enumerate(self.meetings)}
        self.ends = [(person_index[m.a], person_index[m.b]) for m in self.meetings]
        self.attendees = [tuple(person_index[p] for p in attendees(m)) for m in self.meetings]
        """Everyone booked by each meeting: its two ends, then the colleagues who come too."""
        self.priority = [m.priority for m in self.meetings]
        self.caps = [max(p.max_meetings, 0) for p in self.people]
        everything = (1 << len(self.slots)) - 1
        self.available = [
            everything & ~sum(1 << self.slot_index[s] for s in set(p.unavailable))
            for p in self.people
        ]
        self.session_of = sessions(self.slots)
        self.window = [
            sum(
                1 << i
                for i, slot in enumerate(self.slots)
                if (m.not_before is None or slot.start >= m.not_before)
                and (m.not_after is None or slot.end <= m.not_after)
            )
            for m in self.meetings
        ]
        self.remote = remote_meetings(instance)
        self.table_of = required_tables(instance)
        self.allowed = table_turns(
            instance,
            self.slot_index,
            self.ends,
            [
                self._everyone(self.available, people) & window
                for people, window in zip(self.attendees, self.window, strict=True)
            ],
            self.caps,
        )
        """The slots each meeting may take: both available, within its time window, in its
        host's turns at a shared fixed table (`seating.py`)."""
        self.possible = [
            all(self.caps[p] > 0 for p in people) and bool(allowed)
            for people, allowed in zip(self.attendees, self.allowed, strict=True)
        ]
        """Whether each meeting could take place at all: everyone in it takes meetings and it
        has a slot."""

    @staticmethod
    def _everyone(masks: list[int], people: tuple[int, ...]) -> int:
        """The slots in every one of the people's masks."""
        mask = -1
        for person in people:
            mask &= masks[person]
        return mask

    def timetable(self) -> Timetable:
        return Timetable(
            tables=self.tables,
            caps=self.caps,
            available=self.available,
            session_of=self.session_of,
            ends=self.ends,
            colleagues=[people[2:] for people in self.attendees],
            allowed=self.allowed,
            fixed=[self.meeting_index[f.meeting] for f in self.instance.fixed],
            weight=[0 if remote else 1 for remote in self.remote],
        )


Progress = Callable[[], None]


def polish_moves(numbered: Numbered) -> int:
    """The moves step 4 tries: enough for the benchmark's events to reach their fewest breaks
    found, bounded so 20,000 meetings take seconds, not minutes."""
    movable = len(numbered.meetings) - len(numbered.instance.fixed)
    return min(MOVES_PER_MEETING * movable, MOST_MOVES)


def place(numbered: Numbered, step: Progress) -> Timetable:
    """The timetable: fixed meetings, then steps 2 to 4 above. `step()` is called once per
    meeting placed, once per meeting retried and every `polish.STEP` moves of step 4."""
    timetable = numbered.timetable()
    for fixed in numbered.instance.fixed:
        timetable.put(numbered.meeting_index[fixed.meeting], numbered.slot_index[fixed.slot])
    order = [m for m in _order(numbered) if timetable.slot_of[m] == FREE]
    for meeting in order:
        if numbered.possible[meeting]:
            timetable.insert(meeting)
            timetable.commit()
        step()
    repair = _Repair(timetable, numbered, order)
    for meeting in order:
        if timetable.slot_of[meeting] == FREE and numbered.possible[meeting]:
            repair.retry(meeting)
            timetable.commit()
        step()
    polish(
        timetable,
        polish_moves(numbered),
        most=numbered.instance.max_break_difference,
        step=step,
    )
    return timetable


def _order(numbered: Numbered) -> list[int]:
    """Highest priority first; among equal priorities round-robin: a meeting comes when both of
    its participants have had as many of their requests considered as everyone else."""
    priority = numbered.priority
    mine: list[list[int]] = [[] for _ in numbered.people]
    for meeting, (a, b) in enumerate(numbered.ends):
        mine[a].append(meeting)
        mine[b].append(meeting)
    turn = [[0, 0] for _ in numbered.meetings]
    for person, requested in enumerate(mine):
        requested.sort(key=lambda m: (-priority[m], m))
        for position, meeting in enumerate(requested):
            turn[meeting][numbered.ends[meeting].index(person)] = position
    return sorted(range(len(priority)), key=lambda m: (-priority[m], max(turn[m]), min(turn[m]), m))


class _Repair:
    """Step 3: meetings left out, tried again."""

    CHAINS = 16  # Kempe chains tried per re-insertion: enough in practice, bounded on big events
    MOVES = 16  # and moves of the meetings in the way
    EVICTABLE = 4  # meetings looked at per full slot to make way

    def __init__(self, timetable: Timetable, numbered: Numbered, order: list[int]) -> None:
        self.timetable = timetable
        self.numbered = numbered
        self.priority = numbered.priority
        self.rank = {m: i for i, m in enumerate(order)}
        self.requests: list[list[int]] = [[] for _ in numbered.people]  # in the order
        for meeting in order:
            for person in numbered.attendees[meeting]:
                self.requests[person].append(meeting)
        requested = Counter(
            p for m, people in enumerate(numbered.attendees) if numbered.possible[m] for p in people
        )
        self.wanted = [max(1, min(requested[p], cap)) for p, cap in enumerate(numbered.caps)]
        # in each slot, the meetings to make way first: least wanted, best-off participants
        # (ranked once: a stale ranking only changes which meetings are tried, never validity)
        self.evictable = [
            sorted(
                members,
                key=lambda m: (self.priority[m], -self._lower_share(m), -self.rank.get(m, -1)),
            )
            for members in timetable.members
        ]

    def _share(self, person: int, extra: int = 0) -> float:
        return (self.timetable.load[person] + extra) / self.wanted[person]

    def _lower_share(self, meeting: int) -> float:
        return min(self._share(p) for p in self.numbered.attendees[meeting])

    def fairer(self, added: list[int], removed: list[int], *, done: bool) -> bool:
        """Whether adding and removing these meetings raises the lowest share among the
        participants concerned, then the next lowest, and so on (leximin). `done`: the
        timetable already shows the change."""
        changes: Counter[int] = Counter()
        for m in added:
            changes.update(self.numbered.attendees[m])
        for m in removed:
            changes.subtract(self.numbered.attendees[m])
        before = sorted(self._share(p, -n if done else 0) for p, n in changes.items())
        after = sorted(self._share(p, 0 if done else n) for p, n in changes.items())
        return after > before

    def _worth_trying(self, meeting: int, out: list[int]) -> bool:
        """With every table taken the count cannot grow, so one of `out` is lost for good: worth
        a try only if losing one of the least wanted of them for this meeting adds value, or
        keeps it and is fairer."""
        lowest = min(self.priority[m] for m in out)
        if lowest != self.priority[meeting]:
            return lowest < self.priority[meeting]
        return any(
            self.fairer([meeting], [m], done=False) for m in out if self.priority[m] == lowest
        )

    def retry(self, meeting: int) -> bool:
        timetable = self.timetable
        options = []
        for slot in bits(timetable.allowed[meeting]):
            out = self._in_the_way(meeting, slot)
            if out is not None:
                options.append((sum(self.priority[m] for m in out), len(out), slot, out))
        options.sort(key=lambda option: option[:3])
        for _, _, slot, out in options:
            full = timetable.weight[meeting] and timetable.placed >= timetable.capacity
            if full and out and not self._worth_trying(meeting, out):
                continue
            mark = timetable.mark()
            for m in out:
                timetable.take(m)
            if not timetable.room_for(meeting) >> slot & 1 and not timetable.make_room(slot):
                evicted = self._evictee(meeting, slot)
                if evicted is None or (full and not self._worth_trying(meeting, [*out, evicted])):
                    timetable.undo(mark)
                    continue
                timetable.take(evicted)
                out.append(evicted)
            timetable.put(meeting, slot)
            if self._better(meeting, out):
                return True
            timetable.undo(mark)
        return False

    def _better(self, meeting: int, out: list[int]) -> bool:
        """With the meeting placed and `out` taken out: place `out` again where possible, then
        other requests of whoever lost a meeting; whether the result beats the start."""
        timetable = self.timetable
        lost = [m for m in out if not timetable.insert(m, chains=self.CHAINS, moves=self.MOVES)]
        everyone = self.numbered.attendees
        freed = {p for m in lost for p in everyone[m]} - set(everyone[meeting])
        candidates = {
            m
            for p in freed
            for m in self.requests[p]
            if timetable.slot_of[m] == FREE and m not in out and self.numbered.possible[m]
        }
        gained = [
            m
            for m in sorted(candidates, key=self.rank.__getitem__)
            if timetable.insert(m, chains=self.CHAINS, moves=self.MOVES)
        ]
        value = sum(self.priority[m] for m in (meeting, *gained)) - sum(
            self.priority[m] for m in lost
        )
        return value > 0 or (value == 0 and self.fairer([meeting, *gained], lost, done=True))

    def _in_the_way(self, meeting: int, slot: int) -> list[int] | None:
        """What must leave so the meeting's participants are free in the slot and below their
        maximum; None when that includes a fixed meeting."""
        timetable = self.timetable
        out: list[int] = []
        for person in self.numbered.attendees[meeting]:
            there = timetable.at[person][slot]
            if there == FREE and timetable.load[person] >= timetable.cap[person]:
                # the last one placed in the order of requests: the least wanted
                there = next(
                    (m for m in reversed(self.requests[person]) if timetable.slot_of[m] != FREE),
                    FREE,
                )
                if there == FREE:
                    return None
            if there != FREE and there not in out:  # colleagues in one meeting in the way
                out.append(there)
        return None if any(timetable.fixed[m] for m in out) else out

    def _evictee(self, meeting: int, slot: int) -> int | None:
        """A meeting in the full slot that may make way: not fixed, not more wanted."""
        looked = 0
        for other in self.evictable[slot]:
            if self.timetable.slot_of[other] != slot or self.timetable.fixed[other]:
                continue
            if not self.timetable.weight[other]:
                continue  # a remote meeting frees no table
            if self.priority[other] > self.priority[meeting]:
                return None
            looked += 1
            if (
                self.fairer([meeting], [other], done=False)
                or self.priority[other] < self.priority[meeting]
            ):
                return other
            if looked >= self.EVICTABLE:
                return None
        return None


def seat(timetable: Timetable, numbered: Numbered) -> dict[int, int | None]:
    """A table for each meeting placed, slot by slot: kept and fixed tables first (none for a
    remote meeting), then the busier participant of each meeting keeps the table they had last
    when it is free, else the lowest free table, so hosts mostly stay put."""
    fixed: dict[int, int | None] = {
        numbered.meeting_index[f.meeting]: f.table for f in numbered.instance.fixed
    }
    for meeting, table in enumerate(numbered.table_of):
        if table is not None or numbered.remote[meeting]:
            fixed.setdefault(meeting, table)
    last_table: dict[int, int] = {}
    tables: dict[int, int | None] = {}
    for members in timetable.members:
        here = sorted(members)
        taken = {fixed[m] for m in here if m in fixed}
        for meeting in here:
            a, b = numbered.ends[meeting]
            anchor = b if timetable.load[b] > timetable.load[a] else a
            if meeting in fixed:
                table = fixed[meeting]
            else:
                table = last_table.get(anchor, 0)
                if table == 0 or table in taken:
                    table = next(t for t in range(1, numbered.tables + 1) if t not in taken)
                taken.add(table)
            tables[meeting] = table
        for meeting in here:
            a, b = numbered.ends[meeting]
            if (table := tables[meeting]) is not None:
                last_table[b if timetable.load[b] > timetable.load[a] else a] = table
    return tables


def reason(timetable: Timetable, numbered: Numbered, meeting: int) -> str:
    """Why the meeting is not in the schedule, as the schedule stands at the end."""
    a, b = numbered.ends[meeting]
    names = {p: numbered.people[p].id for p in (a, b)}
    within = (
        ""
        if numbered.window[meeting] == (1 << len(numbered.slots)) - 1
        else " within the time window"
    )
    for person in (a, b):
        if numbered.caps[person] == 0:
            return f"{names[person]} takes no meetings (max_meetings is 0)"
    if not timetable.available[a] & timetable.available[b]:
        return f"{names[a]} and {names[b]} are never available in the same slot"
    if not timetable.allowed[meeting] and numbered.table_of[meeting] is not None:
        table = numbered.table_of[meeting]
        return f"no slot where both are available in their turns at the shared table {table}"
    if not timetable.allowed[meeting]:
        return (
            f"no slot within the meeting's time window where both {names[a]} and {names[b]} "
            "are available"
        )
    if full := [p for p in (a, b) if timetable.load[p] >= numbered.caps[p]]:
        return " and ".join(
            f"{names[p]} has reached its maximum of {numbered.caps[p]} meetings" for p in full
        )
    if booked := [p for p in (a, b) if not timetable.free(p)]:
        return " and ".join(
            f"{names[p]} is busy in every slot they are available for" for p in booked
        )
    if timetable.weight[meeting] and timetable.placed >= timetable.capacity:
        return f"all {timetable.tables} tables are taken in every slot"
    if not timetable.free(a) & timetable.free(b) & timetable.allowed[meeting]:
        return f"no slot where both {names[a]} and {names[b]} are free{within}"
    return f"no slot where both {names[a]} and {names[b]} are free and a table is left{within}"
