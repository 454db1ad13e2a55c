"""The scheduler's exact phase: CP-SAT (OR-Tools), warm-started with the fast placement.

One model, in which each meeting that may move has a boolean per slot it may take and every
other placed meeting is a constant, serves three stages, each hinted with the schedule so far
and bounded by its share of the instance's `time_limit`:

1. value: the sum of priorities placed, maximised (skipped when every meeting that can take
   place is placed already);
2. breaks: with each participant's number of meetings and the value kept, so value and fairness
   stay as placed, the fewest breaks (`breaks.py`) such that the most and the fewest breaks of
   two participants with meetings differ by at most `max_break_difference`; where no schedule
   can meet that, the smallest difference first. Each participant's own fewest breaks (a tiny
   model of their meetings alone) is a lower bound the whole model's relaxation does not see.
   When CP-SAT does not prove the fewest at a first, short try, the fast method's local search
   runs again with most of what is left (it finds fewer breaks than CP-SAT's neighbourhoods,
   measured on the benchmark's events), then CP-SAT from its result, for the bound;
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
from missionflow.domain.matchmaking.sat_model import SatModel, linear
from missionflow.domain.matchmaking.timetable import FREE

WORK_PER_SECOND = 0.4  # CP-SAT's deterministic time per second of `time_limit` (measured)
WHOLE_MODEL_LIMIT = 40_000  # (meeting, slot) booleans; above it, the fast method alone
VALUE_SHARE = 0.4  # of the time limit, for stage 1 when it runs
IDLE_SHARE = 0.15  # of what is left, kept for stage 3
MINIMUM_SECONDS = 0.05  # a stage with less left is not started
ALONE_WORK = 0.05  # deterministic time, at most, for one participant's own fewest breaks
ALONE_SHARE = 0.1  # of the time limit, at most, for all participants' own fewest breaks
FIRST_BREAKS_SHARE = 0.15  # of what is left, for CP-SAT's first try at the fewest breaks
SEARCH_SHARE = 0.7  # of what is left then, for the local search when CP-SAT proved nothing
MOVES_PER_SECOND = 100_000  # of the local search (measured: about 110,000 on b2b-5, 2 cores)
SEARCH_MOVES_PER_MEETING = 20_000  # at most, in stage 2's local search
CLOCK_SLACK = 1.25  # the local search stops at this many times its share on the clock

IDLE_WORKERS = (
    "max_lp_sym",
    "no_lp",
    "pseudo_costs",
    "quick_restart",
    "quick_restart_no_lp",
    "reduced_costs",
)
"""Full-problem workers left out of the searches for fewer breaks: measured on the benchmark's
events, they spent the budget without finding a better schedule or bound once the hint was
good; `core` and `max_lp` stay, for the lower bound (b2b-6's bound rose from 0 to 11 with them)."""


@dataclass
class Outcome:
    slot_of: list[int]
    value_bound: int | None  # no schedule has more value; None when not computed
    breaks_bound: int | None  # no schedule with this value and these counts has fewer breaks
    difference_bound: int | None  # the smallest break difference any such schedule can have


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
        hint, with the full-problem workers that raise the lower bound (not `IDLE_WORKERS`)."""
        solver = cp_model.CpSolver()
        if self.deadline - time.monotonic() < MINIMUM_SECONDS:
            return cp_model.UNKNOWN, solver
        parameters = solver.parameters
        parameters.max_deterministic_time = max(share * self.work, 0.01)
        parameters.max_time_in_seconds = max(share * (self.deadline - time.monotonic()), 0.01)
        parameters.num_workers = self.workers
        parameters.interleave_search = self.workers > 1
        if search:
            parameters.ignore_subsolvers.extend(IDLE_WORKERS)
        status = solver.solve(model)
        self.work -= solver.deterministic_time
        return status, solver

    def take(self, share: float) -> float:
        """`share` of what is left, in seconds, for work outside CP-SAT (the local search)."""
        seconds = max(
            0.0, min(share * self.work / WORK_PER_SECOND, self.deadline - time.monotonic())
        )
        self.work -= seconds * WORK_PER_SECOND
        return seconds


def _found(status: int) -> bool:
    return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def _value(numbered: Numbered, slot_of: Sequence[int]) -> int:
    return sum(p for p, slot in zip(numbered.priority, slot_of, strict=True) if slot != FREE)


def _loads(numbered: Numbered, slot_of: Sequence[int]) -> list[int]:
    loads = [0] * len(numbered.people)
    for meeting, slot in enumerate(slot_of):
        if slot != FREE:
            for person in numbered.attendees[meeting]:
                loads[person] += 1
    return loads


def improve(
    numbered: Numbered,
    slot_of: list[int],
    *,
    time_limit: float,
    workers: int,
    fewer_breaks: Callable[[list[int], int | None, float | None], list[int]],
) -> Outcome | None:
    """A schedule at least as good as `slot_of` in every stage's terms, and the bounds proved
    on the way; None when the event is too large for one model. `fewer_breaks(slot_of, moves,
    deadline)` is the fast method's search for fewer breaks (`moves` None: as many as the fast
    method tries; `deadline` a cap on the clock), run again when stage 1 finds more value, its
    result a better start for stage 2 than CP-SAT's, and in stage 2 with a share of the time
    limit."""
    fixed = {numbered.meeting_index[f.meeting] for f in numbered.instance.fixed}
    movable = [m for m in range(len(slot_of)) if numbered.possible[m] and m not in fixed]
    size = sum(numbered.allowed[m].bit_count() for m in movable)
    if size > WHOLE_MODEL_LIMIT:
        return None
    domains = {m: numbered.allowed[m] for m in movable}
    value_bound: int | None = _value(numbered, slot_of)
    budget = _Budget(time_limit, workers)
    if any(slot_of[m] == FREE for m in movable):
        model = SatModel(numbered, slot_of, domains, once=False)
        model.hint(slot_of)
        model.model.maximize(model.value)
        status, solver = budget.solve(model.model, VALUE_SHARE)
        if _found(status) and _value(numbered, found := model.chosen(solver)) > _value(
            numbered, slot_of
        ):
            slot_of = fewer_breaks(found, None, None)
        constant = sum(numbered.priority[m] for m in fixed)
        everything = constant + sum(numbered.priority[m] for m in movable)
        value_bound = (
            min(everything, constant + math.floor(solver.best_objective_bound + 1e-6))
            if _found(status)
            else None
        )

    def search(slot_of: list[int], seconds: float) -> list[int]:
        moves = min(round(seconds * MOVES_PER_SECOND), SEARCH_MOVES_PER_MEETING * len(movable))
        return fewer_breaks(slot_of, moves, time.monotonic() + CLOCK_SLACK * seconds)

    slot_of, breaks_bound, difference_bound = _fewest_waits(
        numbered, slot_of, domains, budget=budget, once=False, search=search
    )
    return Outcome(slot_of, value_bound, breaks_bound, difference_bound)


def _fewest_waits(
    numbered: Numbered,
    slot_of: list[int],
    domains: dict[int, int],
    *,
    budget: _Budget,
    once: bool,
    search: Callable[[list[int], float], list[int]],
) -> tuple[list[int], int | None, int | None]:
    """Stages 2 and 3 over `domains`: the schedule, the lower bound on breaks and the smallest
    break difference proven possible (None where not proven). `search(slot_of, seconds)`: the
    local search for fewer breaks, for about that long."""
    loads = _loads(numbered, slot_of)
    value = _value(numbered, slot_of)
    counted = [p for p, load in enumerate(loads) if load > 0]
    allowed_difference = numbered.instance.max_break_difference
    difference_bound: int | None = None
    each_alone = min(ALONE_WORK, ALONE_SHARE * budget.work / max(1, len(counted)))
    alone = [
        _fewest_alone(numbered, slot_of, domains, p, loads[p], budget, each_alone) for p in counted
    ]

    def model_with(
        difference: int | None, *, fewest: int | None = None
    ) -> tuple[SatModel, object, object]:
        """The model of stage 2 (stage 3 with `fewest`: breaks kept, idle slots the
        objective), its total breaks (idle slots) and its break difference."""
        model = SatModel(numbered, slot_of, domains, once=once)
        for person, load in enumerate(loads):
            if model.mine[person]:
                model.model.add(model.load[person] + sum(model.mine[person]) == load)
        if not once:
            model.model.add(model.value >= value - _value_constant(numbered, model))
        breaks = model.breaks(counted)
        for terms, least in zip(breaks, alone, strict=True):
            if least:
                model.model.add(linear(terms) >= least)
        top, bottom = model.spread(breaks)
        if difference is not None:
            model.model.add(top - bottom <= difference)
        total = sum(linear(terms) for terms in breaks)
        if fewest is not None:
            model.model.add(total <= fewest)
            total = model.idle(counted)
        model.hint(slot_of)
        return model, total, top - bottom

    if _difference(numbered, slot_of, counted) > allowed_difference:
        # The schedule so far breaks the bound: the smallest difference first. (Never hint a
        # schedule the model forbids: CP-SAT 9.15 can abort on an infeasible complete hint with
        # interleaved workers.)
        model, _, spread = model_with(None)
        model.model.minimize(spread)
        status, solver = budget.solve(model.model, (1 - IDLE_SHARE) / 2, search=True)
        if _found(status):
            candidate = model.chosen(solver)
            if _difference(numbered, candidate, counted) < _difference(numbered, slot_of, counted):
                slot_of = candidate
            difference_bound = max(0, math.ceil(solver.best_objective_bound - 1e-6))
        allowed_difference = max(allowed_difference, _difference(numbered, slot_of, counted))

    def fewest_breaks(share: float) -> tuple[int, cp_model.CpSolver, SatModel]:
        model, breaks, _ = model_with(allowed_difference)
        model.model.minimize(breaks)
        status, solver = budget.solve(model.model, share, search=True)
        return status, solver, model

    bounds: list[int] = []
    status, solver, model = fewest_breaks(FIRST_BREAKS_SHARE)
    if _found(status):
        slot_of = model.chosen(solver)
        bounds.append(math.ceil(solver.best_objective_bound - 1e-6))
    if status != cp_model.OPTIMAL:
        # CP-SAT's neighbourhoods seldom improve on the local search's schedule (measured on
        # the benchmark's events): more local search, then CP-SAT again from its result
        searched = search(slot_of, budget.take(SEARCH_SHARE))
        each = _breaks_each(numbered, searched, counted)
        if sum(each) < sum(_breaks_each(numbered, slot_of, counted)) and (
            break_difference(each) <= allowed_difference
        ):
            slot_of = searched
        status, solver, model = fewest_breaks(1 - IDLE_SHARE)
        if _found(status):
            slot_of = model.chosen(solver)
            bounds.append(math.ceil(solver.best_objective_bound - 1e-6))
    breaks_bound = max([sum(alone), *bounds])
    fewest = sum(_breaks_each(numbered, slot_of, counted))
    model, idle, spread = model_with(allowed_difference, fewest=fewest)
    model.model.minimize(idle)
    status, solver = budget.solve(model.model, 1, search=True)
    if _found(status):
        slot_of = model.chosen(solver)
    return slot_of, breaks_bound, difference_bound


def _fewest_alone(
    numbered: Numbered,
    slot_of: Sequence[int],
    domains: dict[int, int],
    person: int,
    load: int,
    budget: _Budget,
    work: float,
) -> int:
    """A lower bound on `person`'s breaks with `load` meetings, everyone else's meetings
    ignored (proven within `work`, CP-SAT's deterministic time): forbidden slots, fixed
    meetings and time windows alone can force a break, which the whole model's linear
    relaxation does not see."""
    mine = {m for m in domains if person in numbered.attendees[m]}
    kept = [
        slot if m not in domains and person in numbered.attendees[m] else FREE
        for m, slot in enumerate(slot_of)
    ]
    model = SatModel(numbered, kept, {m: domains[m] for m in mine}, once=False)
    model.model.add(model.load[person] + sum(model.mine[person]) == load)
    (terms,) = model.breaks([person])
    model.model.minimize(linear(terms))
    solver = cp_model.CpSolver()
    solver.parameters.max_deterministic_time = work
    solver.parameters.num_workers = 1
    status = solver.solve(model.model)
    budget.work -= solver.deterministic_time
    bound = solver.best_objective_bound
    if status == cp_model.INFEASIBLE or not math.isfinite(bound):
        return 0
    return max(0, math.ceil(bound - 1e-6))


def _value_constant(numbered: Numbered, model: SatModel) -> int:
    """The value of the placed meetings that the model holds fixed."""
    return sum(
        numbered.priority[m]
        for m, slot in enumerate(model.slot_of)
        if slot != FREE and m not in model.choices
    )


def _breaks_each(numbered: Numbered, slot_of: Sequence[int], counted: Sequence[int]) -> list[int]:
    taken: list[list[int]] = [[] for _ in numbered.people]
    for meeting, slot in enumerate(slot_of):
        if slot != FREE:
            for person in numbered.attendees[meeting]:
                taken[person].append(slot)
    return [waits(taken[p], numbered.session_of).breaks for p in counted]


def _difference(numbered: Numbered, slot_of: Sequence[int], counted: Sequence[int]) -> int:
    return break_difference(_breaks_each(numbered, slot_of, counted))
