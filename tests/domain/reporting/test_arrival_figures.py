"""The report's arrivals and attendance on the day: every count adds up, by side and in all."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from missionflow.domain.reporting.arrivals import ArrivalFacts, AttendanceFacts, arrival_figures
from missionflow.domain.reporting.report_csv import _csv_rows


def test_arrivals_by_side_and_meetings_by_attendance() -> None:
    delegates = [ArrivalFacts(uuid.uuid4(), "delegate") for _ in range(3)]
    hosts = [ArrivalFacts(uuid.uuid4(), "host") for _ in range(2)]
    withdrew = ArrivalFacts(uuid.uuid4(), "delegate")  # checked in, no longer expected
    day = arrival_figures(
        delegates + hosts,
        [delegates[0], delegates[2], hosts[1], withdrew],
        [AttendanceFacts("held"), AttendanceFacts("no_show"), AttendanceFacts(None)],
    )
    assert (day["expected"], day["arrived"], day["not_arrived"], day["unexpected"]) == (5, 3, 2, 1)
    assert day["by_side"]["delegate"] | {"arrival_rate": None} == {
        "expected": 3, "arrived": 2, "not_arrived": 1, "arrival_rate": None,
    }  # fmt: skip
    assert day["by_side"]["host"]["arrived"] == 1
    assert day["arrival_rate"] == {
        "count": 3, "of": 5, "rate": 0.6, "basis": "participants expected",
    }  # fmt: skip
    assert day["meetings"] == {"scheduled": 3, "held": 1, "no_show": 1, "not_recorded": 1}
    assert day["recorded"] is True


def test_nobody_checked_in_is_said_so() -> None:
    day = arrival_figures([], [], [])
    assert day["recorded"] is False and day["arrival_rate"]["rate"] is None


@given(
    st.lists(st.tuples(st.sampled_from(("delegate", "host")), st.booleans()), max_size=40),
    st.lists(st.sampled_from(("held", "no_show", None)), max_size=40),
)
def test_the_counts_add_up(people: list[tuple[str, bool]], attendance: list[str | None]) -> None:
    expected = [ArrivalFacts(uuid.uuid4(), side) for side, _ in people]
    came = [e for e, (_, arrived) in zip(expected, people, strict=True) if arrived]
    day = arrival_figures(expected, came, [AttendanceFacts(a) for a in attendance])
    assert day["arrived"] + day["not_arrived"] == day["expected"] == len(people)
    assert day["arrived"] == len(came)
    for side in ("delegate", "host"):
        figures = day["by_side"][side]
        assert figures["arrived"] + figures["not_arrived"] == figures["expected"]
    assert sum(day["by_side"][s]["arrived"] for s in ("delegate", "host")) == day["arrived"]
    meetings = day["meetings"]
    assert meetings["held"] + meetings["no_show"] + meetings["not_recorded"] == len(attendance)


def test_the_csv_has_a_line_for_each_arrival_figure() -> None:
    host = ArrivalFacts(uuid.uuid4(), "host")
    day = arrival_figures([host], [host], [AttendanceFacts("held")])
    rows = [
        r for r in _csv_rows(_report_with(day)) if r[0] in ("arrivals", "attendance_on_the_day")
    ]
    assert ("arrivals", "", "", "arrival_rate", 1, 1, "participants expected") in rows
    assert ("arrivals", "host", "", "arrived", 1, "", "") in rows
    assert ("attendance_on_the_day", "", "", "held", 1, "", "") in rows
    assert len(rows) == 5 + 2 * 4 + 4


def _report_with(day: dict[str, object]) -> dict[str, object]:
    """The smallest report the CSV reads, with these arrivals."""
    return {
        "applications": {"received": 0, "withdrawn": 0, "complete": 0, "by_country": [],
                         "by_sector": [], "by_organisation_type": []},
        "selection": {}, "meetings": {}, "schedule": None, "delegation": {"members": []},
        "visits": {"planned": 0, "held": 0, "registered": 0, "attended": 0,
                   "attendance_rate": None, "delegates_on_a_visit": 0, "by_visit": []},
        "feedback": {"scores": {}}, "testimonials": [],
        "follow_up": {"surveys": [], "latest": {}}, "arrivals": day,
    }  # fmt: skip
