# Longer than ~400 lines: one class, whose moves all share its journal and bit masks.
"""The timetable being built: which meeting sits in which slot, and the moves that rearrange it
without ever breaking a rule.

Everything is numbered: participants, slots (in time order) and meetings are indices, and a
participant's slots are bits of an integer (bit s: slot s), so the questions asked millions of
times ("where are both free?") are a few integer operations. The timetable is always valid:
every participant in at most one meeting per slot and only in slots they are available for, at
most `tables` meetings per slot, at most `cap` meetings per participant, fixed meetings never
moved. Each change is journaled, so a trial can be undone exactly. A remote meeting (weight 0)
takes no table: it counts for its participants, never for its slot's tables.

The main move is the Kempe chain of edge colouring. Slots are colours, meetings are edges
between two participants. To place a meeting u–v when u is free in slot a but v is busy there,
and v is free in slot b: follow the path that starts at v with its slot-a meeting, continues
with the next participant's slot-b meeting, then slot a again, and so on; swap a and b along the
whole path. Everyone on it keeps one meeting in each of the two slots, so nobody is double
booked, and v is now free in slot a. When the meetings form a bipartite graph (delegates meet
hosts), the path can never reach u (König's argument), so with as many slots as the busiest
participant's meetings every meeting finds a slot. The same swap on a path with one more meeting
in slot a than in slot b moves one meeting's worth of load from a to b: that is how a full slot
gets a table back.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

FREE = -1


def bits(mask: int) -> Iterator[int]:
    """The slots of a mask, in time order."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


class Timetable:
    def __init__(
        self,
        *,
        tables: int,
        caps: Sequence[int],
        available: Sequence[int],
        session_of: Sequence[int],
        ends: Sequence[tuple[int, int]],
        allowed: Sequence[int],
        fixed: Iterable[int] = (),
        weight: Sequence[int] | None = None,
        colleagues: Sequence[tuple[int, ...]] | None = None,
    ) -> None:
        """`available[p]`: the slots participant p is available for, as a mask (bit s: slot
        s); `session_of[s]`: the session of slot s, slots in time order (placing next to a
        participant's meetings stays within a session); `ends[m]`: the two participants of
        meeting m; `allowed[m]`: the slots meeting m may take (both available, within its time
        window); `weight[m]`: the tables meeting m takes, 1, or 0 for a remote meeting (default:
        all 1); `colleagues[m]`: the participants who come too, booked like its ends (default:
        none; `attendees.py`)."""
        self.slots = len(session_of)
        self.tables = tables
        self.capacity = self.slots * tables
        self.cap = list(caps)
        self.available = list(available)
        self.session_masks = [
            sum(1 << s for s, k in enumerate(session_of) if k == session)
            for session in sorted(set(session_of))
        ]
        self.follows = sum(
            1 << s for s in range(1, self.slots) if session_of[s] == session_of[s - 1]
        )
        self.precedes = self.follows >> 1  # slot s is followed by s + 1 in the same session
        self.allowed = list(allowed)
        self.weight = list(weight) if weight is not None else [1] * len(ends)
        self.first = [a for a, _ in ends]
        self.second = [b for _, b in ends]
        self.attendees = [
            (a, b, *more) for (a, b), more in zip(ends, colleagues or [()] * len(ends), strict=True)
        ]
        """Everyone each meeting books: its two ends, then its colleagues."""
        self.joint = bytearray(len(people) > 2 for people in self.attendees)
        """Meetings with colleagues, which a Kempe chain (two-person paths) never moves."""
        self.fixed = bytearray(len(ends))
        for meeting in fixed:
            self.fixed[meeting] = 1
        people = len(self.cap)
        self.at = [[FREE] * self.slots for _ in range(people)]
        self.busy = [0] * people
        self.load = [0] * people
        self.slot_of = [FREE] * len(ends)
        self.members: list[dict[int, None]] = [{} for _ in range(self.slots)]
        self.count = [0] * self.slots
        self.everywhere = (1 << self.slots) - 1
        self.room = self.everywhere if tables > 0 else 0  # slots with a table left
        self.placed = 0  # tables taken, all slots together
        self.journal: list[tuple[int, int]] = []  # (meeting, slot it had before the change)
        self._moves = 0  # what is left of the current search's budget

    # --- elementary changes, journaled --------------------------------------------------------

    def put(self, meeting: int, slot: int) -> None:
        self.journal.append((meeting, self.slot_of[meeting]))
        self._set(meeting, slot)

    def take(self, meeting: int) -> None:
        self.put(meeting, FREE)

    def mark(self) -> int:
        return len(self.journal)

    def commit(self) -> None:
        """Forget the journal: what is done can no longer be undone. Called between trials so
        the journal does not grow for the whole run (long-lived garbage makes Python's cyclic
        collector walk everything, the instance included, again and again)."""
        self.journal.clear()

    def undo(self, mark: int) -> None:
        """Back to the state when `mark()` returned `mark`."""
        while len(self.journal) > mark:
            meeting, slot = self.journal.pop()
            self._set(meeting, slot)

    def _set(self, meeting: int, slot: int) -> None:
        old = self.slot_of[meeting]
        if old == slot:
            return
        people = self.attendees[meeting]
        if old != FREE:
            for person in people:
                self.at[person][old] = FREE
                self.busy[person] ^= 1 << old
                self.load[person] -= 1
            del self.members[old][meeting]
            self.count[old] -= self.weight[meeting]
            if self.count[old] < self.tables:
                self.room |= 1 << old
            self.placed -= self.weight[meeting]
        self.slot_of[meeting] = slot
        if slot != FREE:
            for person in people:
                self.at[person][slot] = meeting
                self.busy[person] |= 1 << slot
                self.load[person] += 1
            self.members[slot][meeting] = None
            self.count[slot] += self.weight[meeting]
            if self.count[slot] >= self.tables:
                self.room &= ~(1 << slot)
            self.placed += self.weight[meeting]

    # --- questions ----------------------------------------------------------------------------

    def room_for(self, meeting: int) -> int:
        """The slots with a table for the meeting: every slot for a remote one."""
        return self.room if self.weight[meeting] else self.everywhere

    def net(self, path: Sequence[int]) -> int:
        """The tables a chain's swap moves from the slot of `path[0]` to the other slot."""
        return sum(self.weight[m] for m in path[::2]) - sum(self.weight[m] for m in path[1::2])

    def free(self, person: int) -> int:
        """The slots the participant is available for and not yet busy in, as a mask."""
        return self.available[person] & ~self.busy[person]

    def free_all(self, meeting: int) -> int:
        """The slots where everyone in the meeting is available and not yet busy."""
        mask = self.everywhere
        for person in self.attendees[meeting]:
            mask &= self.available[person] & ~self.busy[person]
        return mask

    def _near(self, person: int) -> int:
        """Slots right next to one of the participant's meetings, in the same session."""
        busy = self.busy[person]
        return ((busy << 1) & self.follows) | ((busy >> 1) & self.precedes)

    def _ranked(self, mask: int, a: int, b: int) -> Iterator[int]:
        """The slots of the mask, those next to both participants' other meetings first, then
        next to one of them, then the rest; each group in time order (compact agendas)."""
        near_a, near_b = self._near(a), self._near(b)
        both = mask & near_a & near_b
        one = mask & (near_a | near_b) & ~both
        yield from bits(both)
        yield from bits(one)
        yield from bits(mask & ~near_a & ~near_b)

    # --- placing a meeting --------------------------------------------------------------------

    def insert(self, meeting: int, *, chains: int = 64, moves: int = 48) -> bool:
        """Place the meeting, rearranging others by Kempe chains, else by moving the meetings
        in its way (two levels deep) if need be; False when no slot was found (the timetable
        is then as it was). `chains` and `moves` bound the chains and moves tried, so the work
        per meeting stays bounded on events where many cannot be placed."""
        a, b = self.first[meeting], self.second[meeting]
        if any(self.load[p] >= self.cap[p] for p in self.attendees[meeting]):
            return False
        if self.weight[meeting] and self.placed >= self.capacity:
            return False
        free_a, free_b = self.free(a), self.free(b)
        if not free_a or not free_b:
            return False
        both = self.free_all(meeting) & self.allowed[meeting]
        if both & self.room_for(meeting):
            self.put(meeting, next(self._ranked(both & self.room_for(meeting), a, b)))
            return True
        for slot in self._ranked(both, a, b):
            if self.make_room(slot):
                self.put(meeting, slot)
                return True
        return self._by_chain(meeting, free_a, free_b, chains) or (
            moves > 0 and self._move_around(meeting, moves)
        )

    def _by_chain(self, meeting: int, free_a: int, free_b: int, chains: int) -> bool:
        """Where a is free but b is busy, free b by a Kempe chain from b (and vice versa), then
        put the meeting there (its colleagues must be free there already)."""
        a, b = self.first[meeting], self.second[meeting]
        colleagues = self.everywhere
        for person in self.attendees[meeting][2:]:
            colleagues &= self.free(person)
        for person, other, mine, theirs in ((b, a, free_b, free_a), (a, b, free_a, free_b)):
            targets = theirs & colleagues & self.allowed[meeting] & self.busy[person]
            for group in (targets & self.room, targets & ~self.room):
                for target in self._ranked(group, a, b):
                    for spare in (*bits(mine & self.room), *bits(mine & ~self.room)):
                        if chains <= 0:
                            return False
                        chains -= 1
                        if self._chain_and_put(meeting, person, other, target, spare):
                            return True
        return False

    def _move_around(self, meeting: int, moves: int) -> bool:
        """Put the meeting into a slot both share by moving what is in its way there (their
        meetings in that slot, or a meeting of the slot when all its tables are taken) to other
        slots, where that may in turn move what is in its way: an ejection chain two levels
        deep, which reaches rotations over three slots that no two-slot chain does."""
        a, b = self.first[meeting], self.second[meeting]
        self._moves = moves
        for slot in self._ranked(self.allowed[meeting], a, b):
            mark = self.mark()
            people = self.attendees[meeting]
            if self._make_way(slot, people, 2, 1 << slot, self.weight[meeting]):
                self.put(meeting, slot)
                return True
            self.undo(mark)
            if self._moves <= 0:
                break
        return False

    def _make_way(
        self, slot: int, people: tuple[int, ...], depth: int, banned: int, tables: int
    ) -> bool:
        """Make all of `people` free in the slot, with a table left when `tables` (1; 0 for a remote
        meeting), by moving meetings out of it, never into a `banned` slot (those being cleared
        up the chain)."""
        for person in people:
            meeting = self.at[person][slot]
            if meeting != FREE and not self._move_away(meeting, depth, banned):
                return False
        if not tables or self.room >> slot & 1:
            return True
        for meeting in list(self.members[slot]):
            if self._moves <= 0:
                return False
            if self.weight[meeting] and self._move_away(meeting, depth, banned):
                return True
        return False

    def _move_away(self, meeting: int, depth: int, banned: int) -> bool:
        if depth == 0 or self.fixed[meeting]:
            return False
        people = self.attendees[meeting]
        home = self.slot_of[meeting]
        self.take(meeting)
        for target in bits(self.allowed[meeting] & ~banned):
            if self._moves <= 0:
                break
            self._moves -= 1
            mark = self.mark()
            if self._make_way(
                target, people, depth - 1, banned | 1 << target, self.weight[meeting]
            ):
                self.put(meeting, target)
                return True
            self.undo(mark)
        self.put(meeting, home)
        return False

    def _chain_and_put(
        self, meeting: int, person: int, other: int, target: int, spare: int
    ) -> bool:
        """Swap slots `target` and `spare` along the chain starting at `person`'s meeting in
        `target` (`person` is free in `spare`), then put the meeting in `target`. A chain with
        one more table's worth of meetings in `target` than in `spare` needs a table in `spare`:
        one is made first when it is full."""
        path = self._chain(person, target, spare, avoid=other)
        if path is None:
            return False
        if self.count[target] - self.net(path) > self.tables:
            return False  # remote meetings out of `target`, in-person ones in: no table there
        mark = self.mark()
        if self.count[spare] + self.net(path) > self.tables:
            if self.net(path) > 1 or not self.make_room(spare):
                return False
            path = self._chain(person, target, spare, avoid=other)  # the move may change it
            if (
                path is None
                or self.count[spare] + self.net(path) > self.tables
                or self.count[target] - self.net(path) > self.tables
            ):
                self.undo(mark)
                return False
        self.flip(path, target, spare)
        free = all(self.at[p][target] == FREE for p in self.attendees[meeting])
        if free and (self.room_for(meeting) >> target & 1 or self.make_room(target)):
            self.put(meeting, target)
            return True
        self.undo(mark)  # making room in `spare` can have moved `other` into `target`
        return False

    def _chain(self, start: int, first: int, second: int, avoid: int = FREE) -> list[int] | None:
        """The meetings on the path that starts at `start` (free in slot `second`) with its
        meeting in slot `first`, alternating between the two slots; None when one of them may
        not move to the other slot (fixed, with colleagues, someone unavailable, outside its
        window) or the path reaches `avoid`."""
        path: list[int] = []
        node, colour, other = start, first, second
        while (meeting := self.at[node][colour]) != FREE:
            a, b = self.first[meeting], self.second[meeting]
            if self.fixed[meeting] or self.joint[meeting] or not self.allowed[meeting] >> other & 1:
                return None
            path.append(meeting)
            node = b if a == node else a
            if node == avoid:
                return None
            colour, other = other, colour
        return path

    def flip(self, meetings: Sequence[int], one: int, two: int) -> None:
        """Swap slots `one` and `two` for the meetings (a whole chain or component)."""
        targets = [two if self.slot_of[m] == one else one for m in meetings]
        for m in meetings:
            self.take(m)
        for m, slot in zip(meetings, targets, strict=True):
            self.put(m, slot)

    def make_room(self, slot: int, *, chains: int = 32) -> bool:
        """Free a table in a full slot by moving one meeting's worth of load to a slot that has
        room: a meeting that can simply move, else a chain with one more meeting here than
        there. Nobody who is free in `slot` becomes busy in it."""
        if not self.room:
            return False
        for meeting in self.members[slot]:
            if self.fixed[meeting] or not self.weight[meeting]:
                continue
            if where := self.free_all(meeting) & self.allowed[meeting] & self.room:
                self.put(meeting, next(bits(where)))
                return True
        for target in bits(self.room):
            for meeting in self.members[slot]:
                for end in (self.first[meeting], self.second[meeting]):
                    if self.busy[end] >> target & 1:
                        continue
                    if chains <= 0:
                        return False
                    chains -= 1
                    path = self._chain(end, slot, target)
                    if path is not None and 0 < self.net(path) <= self.tables - self.count[target]:
                        self.flip(path, slot, target)
                        return True
        return False

    # --- moves for fewer breaks (`polish.py`) --------------------------------------------------

    def component(self, meeting: int, one: int, two: int, *, limit: int) -> list[int] | None:
        """The meetings in slots `one` and `two` linked to the meeting through shared
        participants (swapping the two slots for all of them keeps everyone single-booked), or
        None when there are more than `limit`."""
        found = {meeting: None}
        stack = list(self.attendees[meeting])
        while stack:
            person = stack.pop()
            for slot in (one, two):
                linked = self.at[person][slot]
                if linked != FREE and linked not in found:
                    if len(found) >= limit:
                        return None
                    found[linked] = None
                    stack.extend(self.attendees[linked])
        return list(found)
