"""How many meetings any valid schedule can place at most: the scheduler's upper bound.

The bound is the smallest of four numbers, each of which no valid schedule can exceed:

1. the meetings that could take place at all (both participants take meetings and share an
   available slot);
2. slots x tables;
3. the maximum b-matching: meetings chosen so that each participant is in at most
   min(max_meetings, slots in which they and at least one of their partners are available) of
   them. A maximum flow; exact when the meetings form a bipartite graph (delegates meet hosts),
   and otherwise the fractional maximum rounded down, which is never less;
4. the sum over slots of min(tables, the largest number of meetings that could all take place
   in that slot), a maximum matching among the participants available then.

Fixed assignments are left out: a bound without them is still a bound with them. Maximum flows
are computed in pure Python (Dinic's algorithm): the graphs have a few thousand nodes and tens of
thousands of unit-capacity arcs, which takes well under a second, so no solver library is needed.
"""

from __future__ import annotations

from collections.abc import Sequence


def meeting_bound(
    *,
    slots: int,
    tables: int,
    caps: Sequence[int],
    available: Sequence[int],
    pairs: Sequence[tuple[int, int]],
) -> int:
    """The upper bound described above. `available[p]`: participant p's available slots as a
    mask (bit s: slot s); `pairs`: the two participants of each meeting that could take place."""
    people = len(caps)
    sides = two_sides(people, pairs)
    useful = [0] * people  # slots in which a participant could meet one of their partners
    for a, b in pairs:
        shared = available[a] & available[b]
        useful[a] |= shared
        useful[b] |= shared
    capacity = [min(cap, mask.bit_count()) for cap, mask in zip(caps, useful, strict=True)]
    bound = min(len(pairs), slots * tables, b_matching(capacity, pairs, sides))
    per_slot = 0
    seen: dict[bytes, int] = {}  # slots where the same participants are available match alike
    for slot in range(slots):
        here = bytes(mask >> slot & 1 for mask in available)
        if here not in seen:
            meetings = [(a, b) for a, b in pairs if here[a] and here[b]]
            seen[here] = min(tables, _matching_size(people, meetings, sides, tables))
        per_slot += seen[here]
        if per_slot >= bound:
            return bound
    return per_slot


def _matching_size(
    people: int, pairs: list[tuple[int, int]], sides: list[int] | None, enough: int
) -> int:
    """The largest number of these meetings that could share one slot (or an upper bound on
    it), or any number >= `enough` once a greedy choice shows that many can."""
    taken: set[int] = set()
    greedy = 0
    for a, b in pairs:
        if a not in taken and b not in taken:
            taken.update((a, b))
            greedy += 1
            if greedy >= enough:
                return greedy
    return b_matching([1] * people, pairs, sides)


class Network:
    """A flow network on nodes 0..size-1. Arcs are stored in pairs: arc `i ^ 1` is the residual
    of arc `i`."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.arcs_of: list[list[int]] = [[] for _ in range(size)]
        self.head: list[int] = []
        self.room: list[int] = []

    def add(self, tail: int, head: int, capacity: int) -> None:
        self.arcs_of[tail].append(len(self.head))
        self.head.append(head)
        self.room.append(capacity)
        self.arcs_of[head].append(len(self.head))
        self.head.append(tail)
        self.room.append(0)

    def max_flow(self, source: int, sink: int) -> int:
        """The value of a maximum flow from source to sink (Dinic: shortest augmenting paths,
        a blocking flow per level graph)."""
        flow = 0
        arcs_of, head, room = self.arcs_of, self.head, self.room
        while True:
            level = [-1] * self.size
            level[source] = 0
            queue = [source]
            for node in queue:
                for arc in arcs_of[node]:
                    if room[arc] > 0 and level[head[arc]] < 0:
                        level[head[arc]] = level[node] + 1
                        queue.append(head[arc])
            if level[sink] < 0:
                return flow
            flow += self._blocking_flow(source, sink, level)

    def _blocking_flow(self, source: int, sink: int, level: list[int]) -> int:
        arcs_of, head, room = self.arcs_of, self.head, self.room
        next_arc = [0] * self.size
        pushed = 0
        path: list[int] = []
        node = source
        while True:
            if node == sink:
                amount = min(room[arc] for arc in path)
                for arc in path:
                    room[arc] -= amount
                    room[arc ^ 1] += amount
                pushed += amount
                path.clear()
                node = source
                continue
            arcs = arcs_of[node]
            while next_arc[node] < len(arcs):
                arc = arcs[next_arc[node]]
                if room[arc] > 0 and level[head[arc]] == level[node] + 1:
                    break
                next_arc[node] += 1
            else:
                if node == source:
                    return pushed
                level[node] = -1  # a dead end for the rest of this phase
                node = head[path.pop() ^ 1]
                next_arc[node] += 1
                continue
            path.append(arc)
            node = head[arc]


def b_matching(
    capacity: Sequence[int], pairs: Sequence[tuple[int, int]], sides: Sequence[int] | None
) -> int:
    """The largest number of pairs that can be chosen with node `n` in at most `capacity[n]` of
    them, or an upper bound on it.

    With `sides` (0 or 1 per node, every pair joining the two sides: a bipartite graph) it is
    the exact maximum, a maximum flow. Without, it is the largest *fractional* choice rounded
    down, half the maximum flow in the bipartite double cover (each node on both sides): never
    less than the true maximum, and equal to it whenever the graph is bipartite.
    """
    count = len(capacity)
    source, sink = 2 * count, 2 * count + 1
    network = Network(2 * count + 2)
    if sides is not None:
        for node, limit in enumerate(capacity):
            if limit > 0:
                if sides[node] == 0:
                    network.add(source, node, limit)
                else:
                    network.add(node, sink, limit)
        for first, second in pairs:
            left, right = (first, second) if sides[first] == 0 else (second, first)
            network.add(left, right, 1)
        return network.max_flow(source, sink)
    for node, limit in enumerate(capacity):
        if limit > 0:
            network.add(source, node, limit)
            network.add(count + node, sink, limit)
    for first, second in pairs:
        network.add(first, count + second, 1)
        network.add(second, count + first, 1)
    return network.max_flow(source, sink) // 2


def two_sides(size: int, pairs: Sequence[tuple[int, int]]) -> list[int] | None:
    """A side (0 or 1) per node such that every pair joins the two sides; None when the graph
    has an odd cycle. Decided from the pairs alone, not from what participants call themselves."""
    neighbours: list[list[int]] = [[] for _ in range(size)]
    for first, second in pairs:
        neighbours[first].append(second)
        neighbours[second].append(first)
    side = [-1] * size
    for start in range(size):
        if side[start] >= 0:
            continue
        side[start] = 0
        stack = [start]
        while stack:
            node = stack.pop()
            for other in neighbours[node]:
                if side[other] < 0:
                    side[other] = 1 - side[node]
                    stack.append(other)
                elif side[other] == side[node]:
                    return None
    return side
