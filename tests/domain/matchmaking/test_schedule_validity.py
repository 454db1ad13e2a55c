"""Every schedule is valid and the same every time; the example file; fixed assignments stay
and others move around them; the busier participant keeps their table; progress is reported.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from scheduling_support import EXAMPLE, anything, checked, event, reasons, where

from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.result import Schedule
from missionflow.domain.matchmaking.scheduling import schedule, upper_bound

# --- every schedule valid, the same every time -----------------------------------------------


@settings(deadline=None, max_examples=400)
@given(anything())
def test_every_schedule_is_valid(instance: Instance) -> None:
    result = checked(instance)
    assert result.stats.requested == len(instance.meetings)
    assert result.stats.scheduled <= result.stats.upper_bound == upper_bound(instance)
    assert {a.meeting for a in result.assignments} >= {f.meeting for f in instance.fixed}


def without_time(result: Schedule) -> dict[str, Any]:
    return result.model_dump(exclude={"stats": {"solve_seconds"}})


@settings(deadline=None, max_examples=200)
@given(anything())
def test_same_input_same_schedule(instance: Instance) -> None:
    first = schedule(instance)
    again = schedule(Instance.model_validate_json(instance.model_dump_json()))
    assert without_time(first) == without_time(again)


# --- fixed assignments, tables, progress -----------------------------------------------------


def test_the_example_file() -> None:
    instance = Instance.model_validate_json(EXAMPLE.read_text())
    result = checked(instance)
    assert where(result)["m1"] == ("d1-0950", 1)
    assert result.stats.scheduled == result.stats.upper_bound == 5
    assert reasons(result) == {"m4": "lyon-materials is busy in every slot they are available for"}


def test_fixed_assignments_stay_and_others_move_around_them() -> None:
    """The fixed meeting takes d1's and h1's only shared slot's second table."""
    instance = event(
        [("d1", "h1", 1), ("d1", "h2", 3), ("d2", "h1", 3)],
        slots=2,
        tables=2,
        fixed=[("m1", 1, 2)],
    )
    result = checked(instance)
    assert where(result)["m1"] == ("s1", 2)
    assert where(result)["m2"][0] == where(result)["m3"][0] == "s2"


def test_the_busier_participant_keeps_their_table() -> None:
    instance = event([("d1", "h1", 3), ("d2", "h1", 3), ("d3", "h1", 3), ("d4", "h2", 1)])
    result = checked(instance)
    tables = {a.table for a in result.assignments if a.meeting in {"m1", "m2", "m3"}}
    assert len(tables) == 1


def test_progress_is_reported_up_to_the_total() -> None:
    pairs = [(f"d{i % 30}", f"h{i % 37}", 1 + i % 3) for i in range(900)]
    calls: list[tuple[int, int]] = []
    schedule(event(pairs, slots=40), progress=lambda done, total: calls.append((done, total)))
    assert len(calls) > 5
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)
    assert calls[-1][0] == calls[-1][1]
