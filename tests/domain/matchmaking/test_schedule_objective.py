"""What the scheduler's objective prefers (priority, then fairness; compact agendas, idle time
within a day) and the reasons in words for the meetings it leaves out.
"""

from __future__ import annotations

from scheduling_support import checked, event, reasons, where

from missionflow.domain.matchmaking.result import figures

# --- what the objective prefers --------------------------------------------------------------


def test_higher_priority_first_when_tables_are_short() -> None:
    instance = event([("d1", "h1", 1), ("d2", "h2", 3), ("d3", "h3", 2)], slots=1, tables=2)
    result = checked(instance)
    assert set(where(result)) == {"m2", "m3"}
    assert reasons(result) == {"m1": "all 2 tables are taken in every slot"}


def test_fairness_gives_everyone_a_meeting_before_anyone_a_second() -> None:
    """Two tables-slots for three equal requests: d1 asked for two, d2 for one; d1 keeping both
    would leave d2 with nothing."""
    instance = event([("d1", "h1", 1), ("d1", "h2", 1), ("d2", "h3", 1)], slots=2, tables=1)
    result = checked(instance)
    assert "m3" in where(result)
    assert len(set(where(result)) & {"m1", "m2"}) == 1


def test_value_comes_before_fairness() -> None:
    """The one table goes to the priority-3 meeting although d1 then has two and d2 none."""
    instance = event([("d1", "h1", 3), ("d2", "h2", 1), ("d1", "h3", 3)], slots=2, tables=1)
    result = checked(instance)
    assert set(where(result)) == {"m1", "m3"}


def test_agendas_are_compact() -> None:
    """h1's two most wanted meetings would take the first slots and d3, free only in slot 4,
    would leave h1 idle in slot 3; the meetings move so h1 meets in slots 2 to 4."""
    instance = event(
        [("d1", "h1", 3), ("d2", "h1", 3), ("d3", "h1", 1)],
        slots=5,
        away={"d3": [1, 2, 3, 5]},
    )
    result = checked(instance)
    assert result.unscheduled == []
    assert figures(instance, result.assignments)["idle_slots"] == 0
    assert sorted(slot for slot, _ in where(result).values()) in (
        ["s2", "s3", "s4"],
        ["s3", "s4", "s5"],
    )


def test_idle_time_is_counted_within_a_day() -> None:
    """Meetings at the end of one day and the start of the next leave nobody idle."""
    instance = event(
        [("d1", "h1", 3), ("d1", "h2", 3)],
        slots=4,
        per_day=2,
        away={"h1": [1, 3, 4], "h2": [1, 2, 4]},
    )
    result = checked(instance)
    assert where(result)["m1"][0] == "s2"
    assert where(result)["m2"][0] == "s3"
    assert figures(instance, result.assignments)["idle_slots"] == 0


# --- reasons ---------------------------------------------------------------------------------


def test_reasons_in_words() -> None:
    instance = event(
        [
            ("d1", "h1", 3),
            ("d1", "h2", 3),  # d1 takes one meeting
            ("d2", "h3", 1),  # never available together
            ("d3", "h4", 1),  # h4 takes none
            ("d5", "h5", 3),
            ("d5", "h6", 3),  # d5 is away but in slot 1
        ],
        slots=2,
        caps={"d1": 1, "h4": 0},
        away={"d2": [1], "h3": [2], "d5": [2]},
    )
    result = checked(instance)
    assert reasons(result) == {
        "m2": "d1 has reached its maximum of 1 meetings",
        "m3": "d2 and h3 are never available in the same slot",
        "m4": "h4 takes no meetings (max_meetings is 0)",
        "m6": "d5 is busy in every slot they are available for",
    }
