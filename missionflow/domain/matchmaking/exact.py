"""The scheduler's exact phase: CP-SAT (OR-Tools), warm-started with the fast placement.

One model, in which each meeting that may move has a boolean per slot it may take and every
other placed meeting is a constant, serves three stages, each hinted with the schedule so far
and bounded by its share of the instance's `time_limit`:

1. value: the sum of priorities placed, maximised (skipped when every meeting that can take
   place is placed already);
2. breaks: with each participant's number of meetings and the value kept, so value and fairness
   stay as placed, the fewest breaks (`breaks.py`) such that the most and the fewest breaks of
   two participants with meetings differ by at most `max_break_difference`; where no schedule
   can meet that, the smallest difference first;
3. idle slots: breaks kept, the fewest idle slots.

Events too large for one model (above `WHOLE_MODEL_LIMIT` booleans, about 1,000 meetings over
two days) keep the fast placement: measured at 2,000 participants, CP-SAT did not improve on
it within a minute even session by session.

Limits are CP-SAT's deterministic time, and its parallel workers interleave their work
deterministically, so the same instance and worker count give the same schedule; the clock is
only a cap (`_Budget`), which ends the search early on a heavily loaded machine.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ortools.sat.python import cp_model

from missionflow.domain.matchmaking.breaks import break_difference, waits
from missionflow.domain.matchmaking.placement import Numbered
from missionflow.domain.matchmaking.timetable import FREE, bits

WORK_PER_SECOND = 0.4  # CP-SAT's deterministic time per second of `time_limit` (measured)
WHOLE_MODEL_LIMIT = 40_000  # (meeting, slot) booleans; above it, session by session
VALUE_SHARE = 0.4  # of the time limit, for stage 1 when it runs
IDLE_SHARE = 0.15  # of what is left, kept for stage 3
MINIMUM_SECONDS = 0.05  # a stage with less left is not started

FULL_PROBLEM_WORKERS = (
    "core",
    "max_lp",
    "max_lp_sym",
    "no_lp",
    "pseudo_costs",
    "quick_restart",
    "quick_restart_no_lp",
    "reduced_costs",
)

Bit = int | cp_model.IntVar  # a 0/1 constant or a boolean variable
Value = Callable[[Bit], int]  # a bit's value in the schedule being hinted


@dataclass
class Outcome:
    slot_of: list[int]
    value_bound: int | None  # no schedule has more value; None when not computed
    breaks_bound: int | None  # no schedule with this value and these counts has fewer breaks
    difference_bound: int | None  # the smallest break difference any such schedule can have


class _Model:
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
                in_slot[slot] += 1
                for person in numbered.ends[meeting]:
                    self.busy_constant[person] |= 1 << slot
                    load[person] += 1
        self.choices: dict[int, list[tuple[int, cp_model.IntVar]]] = {}
        cells: dict[tuple[int, int], list[cp_model.IntVar]] = {}
        per_slot: list[list[cp_model.IntVar]] = [[] for _ in range(slots)]
        self.mine: list[list[cp_model.IntVar]] = [[] for _ in range(people)]
        for meeting, mask in domains.items():
            a, b = numbered.ends[meeting]
            mask &= ~(self.busy_constant[a] | self.busy_constant[b])
            options = [(s, model.new_bool_var(f"m{meeting}s{s}")) for s in bits(mask)]
            self.choices[meeting] = options
            chosen = [v for _, v in options]
            (model.add_exactly_one if once else model.add_at_most_one)(chosen)
            for slot, var in options:
                per_slot[slot].append(var)
                for person in (a, b):
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
            self.model.add(top >= _linear(terms))
            self.model.add(bottom <= _linear(terms))

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


def _linear(terms: list[tuple[int, Bit]]) -> object:
    return sum(c * bit for c, bit in terms)


def _is(item: Bit, constant: int) -> bool:
    return isinstance(item, int) and item == constant


class _Budget:
    """What is left of `time_limit`: work in CP-SAT's deterministic time, which decides the
    result, and the clock, only as a cap so a loaded machine does not overrun the limit."""

    def __init__(self, seconds: float, workers: int) -> None:
        self.work = seconds * WORK_PER_SECOND
        self.deadline = time.monotonic() + seconds
        self.workers = workers

    def solve(
        self, model: cp_model.CpModel, share: float, *, search: bool = False
    ) -> tuple[int, cp_model.CpSolver]:
        """Solve with `share` of what is left. `search`: large neighbourhood search around the
        hint, with one full-problem worker (default_lp) for the bound; measured on the
        benchmark's events, the other full-problem workers spend the budget and find nothing
        once the hint is good."""
        solver = cp_model.CpSolver()
        if self.deadline - time.monotonic() < MINIMUM_SECONDS:
            return cp_model.UNKNOWN, solver
        parameters = solver.parameters
        parameters.max_deterministic_time = max(share * self.work, 0.01)
        parameters.max_time_in_seconds = max(share * (self.deadline - time.monotonic()), 0.01)
        parameters.num_workers = self.workers
        parameters.interleave_search = self.workers > 1
        if search:
            parameters.ignore_subsolvers.extend(FULL_PROBLEM_WORKERS)
        status = solver.solve(model)
        self.work -= solver.deterministic_time
        return status, solver


def _found(status: int) -> bool:
    return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def _value(numbered: Numbered, slot_of: Sequence[int]) -> int:
    return sum(p for p, slot in zip(numbered.priority, slot_of, strict=True) if slot != FREE)


def _loads(numbered: Numbered, slot_of: Sequence[int]) -> list[int]:
    loads = [0] * len(numbered.people)
    for meeting, slot in enumerate(slot_of):
        if slot != FREE:
            for person in numbered.ends[meeting]:
                loads[person] += 1
    return loads


def improve(
    numbered: Numbered, slot_of: list[int], *, time_limit: float, workers: int
) -> Outcome | None:
    """A schedule at least as good as `slot_of` in every stage's terms, and the bounds proved
    on the way; None when the event is too large for one model."""
    fixed = {numbered.meeting_index[f.meeting] for f in numbered.instance.fixed}
    movable = [m for m in range(len(slot_of)) if numbered.possible[m] and m not in fixed]
    size = sum(numbered.allowed[m].bit_count() for m in movable)
    if size > WHOLE_MODEL_LIMIT:
        return None
    domains = {m: numbered.allowed[m] for m in movable}
    value_bound: int | None = _value(numbered, slot_of)
    budget = _Budget(time_limit, workers)
    if any(slot_of[m] == FREE for m in movable):
        model = _Model(numbered, slot_of, domains, once=False)
        model.hint(slot_of)
        model.model.maximize(model.value)
        status, solver = budget.solve(model.model, VALUE_SHARE)
        if _found(status) and _value(numbered, found := model.chosen(solver)) > _value(
            numbered, slot_of
        ):
            slot_of = found
        constant = sum(numbered.priority[m] for m in fixed)
        value_bound = (
            constant + math.floor(solver.best_objective_bound + 1e-6) if _found(status) else None
        )
    slot_of, breaks_bound, difference_bound = _fewest_waits(
        numbered, slot_of, domains, budget=budget, once=False
    )
    return Outcome(slot_of, value_bound, breaks_bound, difference_bound)


def _fewest_waits(
    numbered: Numbered,
    slot_of: list[int],
    domains: dict[int, int],
    *,
    budget: _Budget,
    once: bool,
) -> tuple[list[int], int | None, int | None]:
    """Stages 2 and 3 over `domains`: the schedule, the lower bound on breaks and the smallest
    break difference proven possible (None where not proven)."""
    loads = _loads(numbered, slot_of)
    value = _value(numbered, slot_of)
    counted = [p for p, load in enumerate(loads) if load > 0]
    allowed_difference = numbered.instance.max_break_difference
    difference_bound: int | None = None

    def model_with(
        difference: int | None, *, fewest: int | None = None
    ) -> tuple[_Model, object, object]:
        """The model of stage 2 (stage 3 with `fewest`: breaks kept, idle slots the
        objective), its total breaks (idle slots) and its break difference."""
        model = _Model(numbered, slot_of, domains, once=once)
        for person, load in enumerate(loads):
            if model.mine[person]:
                model.model.add(model.load[person] + sum(model.mine[person]) == load)
        if not once:
            model.model.add(model.value >= value - _value_constant(numbered, model))
        breaks = model.breaks(counted)
        top, bottom = model.spread(breaks)
        if difference is not None:
            model.model.add(top - bottom <= difference)
        total = sum(_linear(terms) for terms in breaks)
        if fewest is not None:
            model.model.add(total <= fewest)
            total = model.idle(counted)
        model.hint(slot_of)
        return model, total, top - bottom

    if _difference(numbered, slot_of, counted) > allowed_difference:
        # The schedule so far breaks the bound: the smallest difference first. (Never hint a
        # schedule the model forbids: CP-SAT 9.15 can abort on an infeasible complete hint with
        # interleaved workers.)
        model, breaks, spread = model_with(None)
        model.model.minimize(spread)
        status, solver = budget.solve(model.model, (1 - IDLE_SHARE) / 2, search=True)
        if _found(status):
            candidate = model.chosen(solver)
            if _difference(numbered, candidate, counted) < _difference(numbered, slot_of, counted):
                slot_of = candidate
            difference_bound = max(0, math.ceil(solver.best_objective_bound - 1e-6))
        allowed_difference = max(allowed_difference, _difference(numbered, slot_of, counted))
    model, breaks, spread = model_with(allowed_difference)
    model.model.minimize(breaks)
    status, solver = budget.solve(model.model, 1 - IDLE_SHARE, search=True)
    if not _found(status):
        return slot_of, None, difference_bound
    slot_of = model.chosen(solver)
    breaks_bound = max(0, math.ceil(solver.best_objective_bound - 1e-6))
    fewest = round(solver.objective_value)
    model, idle, spread = model_with(allowed_difference, fewest=fewest)
    model.model.minimize(idle)
    status, solver = budget.solve(model.model, 1, search=True)
    if _found(status):
        slot_of = model.chosen(solver)
    return slot_of, breaks_bound, difference_bound


def _value_constant(numbered: Numbered, model: _Model) -> int:
    """The value of the placed meetings that the model holds fixed."""
    return sum(
        numbered.priority[m]
        for m, slot in enumerate(model.slot_of)
        if slot != FREE and m not in model.choices
    )


def _difference(numbered: Numbered, slot_of: Sequence[int], counted: Sequence[int]) -> int:
    taken: list[list[int]] = [[] for _ in numbered.people]
    for meeting, slot in enumerate(slot_of):
        if slot != FREE:
            for person in numbered.ends[meeting]:
                taken[person].append(slot)
    return break_difference(waits(taken[p], numbered.session_of).breaks for p in counted)
