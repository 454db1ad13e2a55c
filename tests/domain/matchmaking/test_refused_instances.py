"""Refused instances: each broken rule of an instance is named, `schedule` and `upper_bound`
refuse it; `validate` finds the rules a schedule breaks.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from pydantic import ValidationError
from scheduling_support import EXAMPLE

from missionflow.domain.matchmaking.checks import problems, validate
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.scheduling import InvalidInstance, schedule, upper_bound


def raw(**changes: Any) -> dict[str, Any]:
    document = json.loads(EXAMPLE.read_text())
    for key, change in changes.items():
        document[key] = change(document[key]) if callable(change) else change
    return document


BAD = [
    pytest.param(
        raw(participants=lambda ps: [*ps, ps[0]]),
        "the participant id 'nordic-medtech' is used 2 times",
        id="duplicate-participant",
    ),
    pytest.param(
        raw(slots=lambda ss: [*ss, ss[1]]),
        "the slot id 'd1-0950' is used 2 times",
        id="duplicate-slot",
    ),
    pytest.param(
        raw(meetings=lambda ms: [*ms, {**ms[0], "b": "osaka-sensors"}]),
        "the meeting id 'm1' is used 2 times",
        id="duplicate-meeting",
    ),
    pytest.param(
        raw(
            meetings=lambda ms: [*ms, {"id": "m9", "a": "kobe-foods", "b": "nobody", "priority": 1}]
        ),
        "meeting 'm9' names participant 'nobody', who does not exist",
        id="unknown-participant",
    ),
    pytest.param(
        raw(
            meetings=lambda ms: [
                *ms,
                {"id": "m9", "a": "kobe-foods", "b": "kobe-foods", "priority": 1},
            ]
        ),
        "meeting 'm9' is between 'kobe-foods' and themselves",
        id="self-meeting",
    ),
    pytest.param(
        raw(
            meetings=lambda ms: [
                {**ms[0], "not_before": "2016-10-18T11:00:00+09:00"},
                *ms[1:],
            ]
        ),
        "meeting 'm1' is fixed in slot 'd1-0950', outside its time window (not_before, not_after)",
        id="fixed-outside-window",
    ),
    pytest.param(
        raw(meetings=lambda ms: [{**ms[0], "priority": 4}, *ms[1:]]),
        "meeting 'm1' has priority 4: it must be 1, 2 or 3",
        id="priority",
    ),
    pytest.param(raw(tables=0), "tables is 0: there must be at least one table", id="no-table"),
    pytest.param(
        raw(slots=lambda ss: [{**ss[0], "end": ss[0]["start"]}, *ss[1:]]),
        "slot 'd1-0930' does not end after it starts",
        id="slot-backwards",
    ),
    pytest.param(
        raw(slots=lambda ss: [{**ss[0], "end": "2016-10-18T10:00:00+09:00"}, *ss[1:]]),
        "slots 'd1-0930' and 'd1-0950' overlap",
        id="slots-overlap",
    ),
    pytest.param(
        raw(participants=lambda ps: [{**ps[0], "unavailable": ["d9"]}, *ps[1:]]),
        "participant 'nordic-medtech' is unavailable in slot 'd9', which does not exist",
        id="unknown-unavailable-slot",
    ),
    pytest.param(
        raw(participants=lambda ps: [{**ps[0], "max_meetings": -1}, *ps[1:]]),
        "participant 'nordic-medtech' has a negative max_meetings",
        id="negative-maximum",
    ),
    pytest.param(
        raw(fixed=[{"meeting": "m7", "slot": "d1-0930", "table": 1}]),
        "a fixed assignment names meeting 'm7', which does not exist",
        id="fixed-unknown-meeting",
    ),
    pytest.param(
        raw(fixed=[{"meeting": "m1", "slot": "d2-0930", "table": 1}]),
        "meeting 'm1' is fixed in slot 'd2-0930', which does not exist",
        id="fixed-unknown-slot",
    ),
    pytest.param(
        raw(fixed=[{"meeting": "m1", "slot": "d1-0930", "table": 3}]),
        "meeting 'm1' is fixed at table 3, outside 1..2",
        id="fixed-table",
    ),
    pytest.param(
        raw(fixed=[{"meeting": "m1", "slot": "d1-0930", "table": 1}] * 2),
        "meeting 'm1' is fixed more than once",
        id="fixed-twice",
    ),
    pytest.param(
        raw(fixed=lambda fs: [*fs, {"meeting": "m2", "slot": "d1-0950", "table": 2}]),
        "'nordic-medtech' is in two fixed meetings in slot 'd1-0950': 'm1' and 'm2'",
        id="fixed-double-booking",
    ),
    pytest.param(
        raw(fixed=lambda fs: [*fs, {"meeting": "m6", "slot": "d1-0950", "table": 1}]),
        "meetings 'm1' and 'm6' are both fixed at table 1 in slot 'd1-0950'",
        id="fixed-same-table",
    ),
    pytest.param(
        raw(fixed=[{"meeting": "m4", "slot": "d1-0930", "table": 1}]),
        "meeting 'm4' is fixed in slot 'd1-0930', for which 'lyon-materials' is unavailable",
        id="fixed-unavailable",
    ),
    pytest.param(
        raw(
            participants=lambda ps: [{**ps[0], "max_meetings": 1}, *ps[1:]],
            fixed=lambda fs: [*fs, {"meeting": "m2", "slot": "d1-1010", "table": 1}],
        ),
        "'nordic-medtech' has 2 fixed meetings, more than their maximum of 1",
        id="fixed-above-maximum",
    ),
    pytest.param(
        raw(max_break_difference=-1),
        "max_break_difference is -1: it must be 0 or more",
        id="negative-break-difference",
    ),
    pytest.param(
        raw(time_limit=-5),
        "time_limit is -5.0: it must be between 0 and 600 seconds",
        id="negative-time-limit",
    ),
    pytest.param(
        raw(time_limit=10000),
        "time_limit is 10000.0: it must be between 0 and 600 seconds",
        id="time-limit-too-long",
    ),
    pytest.param(
        raw(
            meetings=lambda ms: [
                ms[0],
                {
                    **ms[1],
                    "not_before": "2016-10-18T11:00:00+09:00",
                    "not_after": "2016-10-18T10:00:00+09:00",
                },
                *ms[2:],
            ]
        ),
        "meeting 'm2' has not_after 2016-10-18T10:00:00+09:00, not after its not_before "
        "2016-10-18T11:00:00+09:00",
        id="window-backwards",
    ),
    pytest.param(
        raw(
            meetings=lambda ms: [
                ms[0],
                {
                    **ms[1],
                    "not_before": "2016-10-18T01:00:00+00:00",
                    "not_after": "2016-10-18T10:00:00+09:00",
                },
                *ms[2:],
            ]
        ),
        "meeting 'm2' has not_after 2016-10-18T10:00:00+09:00, not after its not_before "
        "2016-10-18T01:00:00+00:00",
        id="window-empty-across-offsets",
    ),
]


@pytest.mark.parametrize(("document", "problem"), BAD)
def test_bad_instances_are_refused_with_the_reason(document: dict[str, Any], problem: str) -> None:
    instance = Instance.model_validate(document)
    assert problem in problems(instance)
    with pytest.raises(InvalidInstance) as refused:
        schedule(instance)
    assert problem in refused.value.problems
    with pytest.raises(InvalidInstance):
        upper_bound(instance)


@pytest.mark.parametrize("time_limit", [math.nan, math.inf])
def test_a_time_limit_that_is_no_number_of_seconds_is_refused(time_limit: float) -> None:
    instance = Instance.model_validate(raw(time_limit=time_limit))
    assert [p for p in problems(instance) if p.startswith("time_limit is ")] == [
        f"time_limit is {time_limit}: it must be between 0 and 600 seconds"
    ]


MISTYPED = [
    pytest.param(
        raw(meetings=lambda ms: [ms[0], {**ms[1], "not_before": "after lunch"}, *ms[2:]]),
        ("meetings", 1, "not_before"),
        id="not-before-no-datetime",
    ),
    pytest.param(
        raw(meetings=lambda ms: [ms[0], {**ms[1], "not_before": "2016-10-18T11:00:00"}, *ms[2:]]),
        ("meetings", 1, "not_before"),
        id="not-before-without-offset",
    ),
    pytest.param(
        raw(meetings=lambda ms: [ms[0], {**ms[1], "not_after": "2016-10-18T12:00:00"}, *ms[2:]]),
        ("meetings", 1, "not_after"),
        id="not-after-without-offset",
    ),
    pytest.param(raw(max_break_difference=1.5), ("max_break_difference",), id="difference-1.5"),
    pytest.param(raw(time_limit="ten seconds"), ("time_limit",), id="time-limit-words"),
]


@pytest.mark.parametrize(("document", "loc"), MISTYPED)
def test_mistyped_new_fields_are_refused_naming_them(
    document: dict[str, Any], loc: tuple[str | int, ...]
) -> None:
    with pytest.raises(ValidationError) as refused:
        Instance.model_validate(document)
    assert [error["loc"] for error in refused.value.errors()] == [loc]
    assert ".".join(map(str, loc)) in str(refused.value)


def test_a_valid_instance_has_no_problem() -> None:
    assert problems(Instance.model_validate(raw())) == []


def test_validate_finds_broken_rules() -> None:
    instance = Instance.model_validate(raw())
    result = schedule(instance)
    broken = result.model_copy(deep=True)
    broken.assignments[1].slot = broken.assignments[0].slot
    broken.assignments[1].table = broken.assignments[0].table
    broken.assignments.append(broken.assignments[2].model_copy())
    broken.unscheduled = []
    found = validate(instance, broken)
    assert any("share table" in f for f in found)
    assert any("is assigned more than once" in f for f in found)
    assert any("neither assigned nor listed as unscheduled" in f for f in found)
    assert any("fixed meeting 'm1'" in f for f in found)
