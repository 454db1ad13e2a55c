"""The matchmaking schedule's quality as the report and the coordinators' grid show it: the
latest scheduler run against its bounds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from missionflow.domain.matchmaking.breaks import standing
from missionflow.domain.reporting.rates import rate


@dataclass(frozen=True)
class ScheduleFacts:
    """The figures of the latest run of the matchmaking scheduler (`Schedule.stats`)."""

    version: int
    requested: int
    scheduled: int
    upper_bound: int
    """No valid schedule places more meetings."""
    breaks: int
    breaks_bound: int | None
    """No schedule with this value and fairness has fewer breaks; None: no bound proven."""
    idle_slots: int
    break_difference: int
    max_break_difference: int
    method: str
    value: int = 0
    value_bound: int | None = None
    break_difference_bound: int | None = None
    solve_seconds: float = 0.0


def schedule_figures(run: ScheduleFacts | None) -> dict[str, Any] | None:
    """The latest schedule against its bounds, JSON-able (None before any schedule): meetings
    placed against the upper bound, breaks against their proven lower bound ("proven optimal"
    when equal, else the gap), idle slots, the largest break difference against the allowed."""
    if run is None:
        return None
    gap = None if run.breaks_bound is None else run.breaks - run.breaks_bound
    return {
        "version": run.version,
        "method": run.method,
        "solve_seconds": round(run.solve_seconds, 2),
        "requested": run.requested,
        "scheduled": run.scheduled,
        "upper_bound": run.upper_bound,
        "placed": rate(run.scheduled, run.upper_bound, "the most meetings any schedule places"),
        "meetings_optimal": run.scheduled == run.upper_bound,
        "value": run.value,
        "value_bound": run.value_bound,
        "breaks": run.breaks,
        "breaks_bound": run.breaks_bound,
        "breaks_gap": gap,
        "breaks_optimality": standing(run.breaks, run.breaks_bound),
        "idle_slots": run.idle_slots,
        "break_difference": run.break_difference,
        "max_break_difference": run.max_break_difference,
        "break_difference_met": run.break_difference <= run.max_break_difference,
        "break_difference_bound": run.break_difference_bound,
    }
