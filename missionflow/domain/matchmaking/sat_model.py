"""The CP-SAT model of a schedule (`exact.py` solves it in stages): a boolean per meeting and
slot it may take, every other placed meeting a constant, the rules as constraints, and the value,
breaks and idle slots as expressions. Each helper variable records how its value follows from
the meetings', so a schedule gives a complete hint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ortools.sat.python import cp_model

from missionflow.domain.matchmaking.breaks import waits
from missionflow.domain.matchmaking.placement import Numbered
from missionflow.domain.matchmaking.timetable import FREE, bits

Bit = int | cp_model.IntVar  # a 0/1 constant or a boolean variable
Value = Callable[[Bit], int]  # a bit's value in the schedule being hinted


class SatModel:
    """The model over `domains` (meeting -> mask of the slots it may take); `slot_of` gives
    where every other meeting is."""

    def __init__(
        self, numbered: Numbered, slot_of: Sequence[int], domains: dict[int, int], *, once: bool
    ) -> None:
        self.numbered = numbered
        self.model = model = cp_model.CpModel()
        slots, people = len(numbered.slots), len(numbered.people)
        self.slot_of = slot_of
        self.busy_constant = [0] * people  # a slot mask per person
        in_slot = [0] * slots
        load = [0] * people
        for meeting, slot in enumerate(slot_of):
            if meeting not in domains and slot != FREE:
                in_slot[slot] += 0 if numbered.remote[meeting] else 1
                for person in numbered.attendees[meeting]:  # colleagues who come too as well
                    self.busy_constant[person] |= 1 << slot
                    load[person] += 1
        self.choices: dict[int, list[tuple[int, cp_model.IntVar]]] = {}
        cells: dict[tuple[int, int], list[cp_model.IntVar]] = {}
        per_slot: list[list[cp_model.IntVar]] = [[] for _ in range(slots)]
        self.mine: list[list[cp_model.IntVar]] = [[] for _ in range(people)]
        for meeting, mask in domains.items():
            people = numbered.attendees[meeting]
            for person in people:
                mask &= ~self.busy_constant[person]
            options = [(s, model.new_bool_var(f"m{meeting}s{s}")) for s in bits(mask)]
            self.choices[meeting] = options
            chosen = [v for _, v in options]
            (model.add_exactly_one if once else model.add_at_most_one)(chosen)
            for slot, var in options:
                if not numbered.remote[meeting]:  # a remote meeting takes no table
                    per_slot[slot].append(var)
                for person in people:
                    cells.setdefault((person, slot), []).append(var)
                    self.mine[person].append(var)
        for slot, chosen in enumerate(per_slot):
            if len(chosen) > numbered.tables - in_slot[slot]:
                model.add(sum(chosen) <= numbered.tables - in_slot[slot])
        for person, chosen in enumerate(self.mine):
            if len(chosen) > numbered.caps[person] - load[person]:
                model.add(sum(chosen) <= numbered.caps[person] - load[person])
        self.load = load
        self.derived: list[tuple[cp_model.IntVar, Callable[[Value], int]]] = []
        """Each helper variable with how its value follows from the others': the hint gives
        every variable a value, so CP-SAT starts from it at once instead of completing it."""
        self.busy: dict[tuple[int, int], Bit] = {}
        for (person, slot), chosen in cells.items():
            if len(chosen) == 1:
                self.busy[person, slot] = chosen[0]
            else:
                model.add_at_most_one(chosen)
                either = model.new_bool_var(f"p{person}s{slot}")
                model.add(either == sum(chosen))
                self._derive(either, lambda value, chosen=chosen: max(map(value, chosen)))
                self.busy[person, slot] = either
        self.value = sum(
            numbered.priority[m] * var for m, options in self.choices.items() for _, var in options
        )

    def bit(self, person: int, slot: int) -> Bit:
        if self.busy_constant[person] >> slot & 1:
            return 1
        return self.busy.get((person, slot), 0)

    def _derive(self, var: cp_model.IntVar, rule: Callable[[Value], int]) -> None:
        self.derived.append((var, rule))

    def hint(self, slot_of: Sequence[int]) -> None:
        """Every variable's value in the schedule `slot_of`."""
        known: dict[int, int] = {}

        def value(item: Bit) -> int:
            return item if isinstance(item, int) else known[item.index]

        for meeting, options in self.choices.items():
            for slot, var in options:
                known[var.index] = int(slot_of[meeting] == slot)
                self.model.add_hint(var, known[var.index])
        for var, rule in self.derived:
            known[var.index] = rule(value)
            self.model.add_hint(var, known[var.index])

    def chosen(self, solver: cp_model.CpSolver) -> list[int]:
        slot_of = list(self.slot_of)
        for meeting, options in self.choices.items():
            slot_of[meeting] = next((s for s, v in options if solver.boolean_value(v)), FREE)
        return slot_of

    # --- the waits, as expressions ------------------------------------------------------------

    def _or(self, items: list[Bit]) -> Bit:
        if any(_is(item, 1) for item in items):
            return 1
        variables = [item for item in items if not isinstance(item, int)]
        if len(variables) <= 1:
            return variables[0] if variables else 0
        result = self.model.new_bool_var("")
        self.model.add_max_equality(result, variables)
        self._derive(result, lambda value: max(map(value, variables)))
        return result

    def _and(self, items: list[Bit], negated: Bit) -> Bit:
        """items[0] and items[1] ... and not `negated`."""
        if _is(negated, 1) or any(_is(item, 0) for item in items):
            return 0
        literals = [item for item in items if not isinstance(item, int)]
        if not isinstance(negated, int):
            literals.append(negated.Not())
        if not literals:
            return 1
        result = self.model.new_bool_var("")
        self.model.add_bool_and(literals).only_enforce_if(result)
        self.model.add_bool_or([lit.Not() for lit in literals]).only_enforce_if(result.Not())
        self._derive(result, lambda value: int(all(map(value, items)) and not value(negated)))
        return result

    def _sessions(self) -> list[list[int]]:
        session_of = self.numbered.session_of
        return [
            [s for s, k in enumerate(session_of) if k == one] for one in sorted(set(session_of))
        ]

    def breaks(self, counted: Sequence[int]) -> list[list[tuple[int, Bit]]]:
        """Each counted participant's breaks, exactly, as (coefficient, bit) terms: in a
        session, the runs of meetings that start, less one when there is any."""
        model = self.model
        found: list[list[tuple[int, Bit]]] = []
        for person in counted:
            terms: list[tuple[int, Bit]] = []
            for session in self._sessions():
                row = [self.bit(person, s) for s in session]
                if all(isinstance(b, int) for b in row):
                    fixed = waits((i for i, b in enumerate(row) if b), [0] * len(row))
                    terms.append((fixed.breaks, 1))
                    continue
                has = model.new_bool_var("")
                model.add(has <= sum(row))
                for bit in row:
                    model.add(has >= bit)
                self._derive(has, lambda value, row=row: max(map(value, row)))
                terms.append((-1, has))
                for i, bit in enumerate(row):
                    before = row[i - 1] if i else 0
                    if _is(bit, 0) or _is(before, 1):
                        continue
                    if _is(bit, 1) and _is(before, 0):
                        terms.append((1, 1))
                        continue
                    start = model.new_bool_var("")
                    model.add(start >= bit - before)
                    model.add(start <= bit)
                    model.add(start <= 1 - before)
                    self._derive(
                        start,
                        lambda value, bit=bit, before=before: int(value(bit) and not value(before)),
                    )
                    terms.append((1, start))
            found.append(terms)
        return found

    def spread(self, breaks: list[list[tuple[int, Bit]]]) -> tuple[object, object]:
        """The most and the fewest breaks among these participants, as variables."""
        limit = len(self.numbered.slots)
        top = self.model.new_int_var(0, limit, "most")
        bottom = self.model.new_int_var(0, limit, "fewest")
        for terms in breaks:
            self.model.add(top >= linear(terms))
            self.model.add(bottom <= linear(terms))

        def each(value: Value) -> list[int]:
            return [sum(c * value(bit) for c, bit in terms) for terms in breaks] or [0]

        self._derive(top, lambda value: max(each(value)))
        self._derive(bottom, lambda value: min(each(value)))
        return top, bottom

    def idle(self, counted: Sequence[int]) -> object:
        """The idle slots of the counted participants, summed: a slot without their meeting
        between two of their meetings in a session."""
        total: list[Bit] = []
        for person in counted:
            for session in self._sessions():
                row = [self.bit(person, s) for s in session]
                if all(isinstance(b, int) for b in row):
                    total.append(waits((i for i, b in enumerate(row) if b), [0] * len(row)).idle)
                    continue
                later: list[Bit] = [0] * len(row)
                earlier: list[Bit] = [0] * len(row)
                for i in range(len(row) - 2, -1, -1):
                    later[i] = self._or([row[i + 1], later[i + 1]])
                for i in range(1, len(row)):
                    earlier[i] = self._or([row[i - 1], earlier[i - 1]])
                total += [self._and([earlier[i], later[i]], row[i]) for i in range(1, len(row) - 1)]
        return sum(total)


def linear(terms: list[tuple[int, Bit]]) -> object:
    return sum(c * bit for c, bit in terms)


def _is(item: Bit, constant: int) -> bool:
    return isinstance(item, int) and item == constant
