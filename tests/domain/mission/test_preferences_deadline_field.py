"""The matchmaking section's `preferences_deadline`: absent, no preference lists (old files as
before); inside the request window, marks are taken from requests opening to it, to the second;
anywhere else refused at its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mission_file_support import mutated, refusal

from missionflow.domain.matchmaking.preferences import preferences_refusal
from missionflow.domain.mission.file import load_mission

T0 = datetime(2017, 4, 20, 12, tzinfo=UTC)


def test_marks_are_taken_from_requests_opening_to_the_lists_deadline() -> None:
    data = mutated({"matchmaking.preferences_deadline": "2017-05-01T17:00"})
    event = load_mission(data).matchmaking
    assert event is not None and event.preferences_deadline is not None
    assert preferences_refusal(event, event.requests_open_at - timedelta(seconds=1)) == (
        "Preference lists open on 18 Apr 2017 09:00 EDT (13:00 UTC)."
    )
    assert preferences_refusal(event, event.requests_open_at) is None
    assert preferences_refusal(event, event.preferences_deadline - timedelta(seconds=1)) is None
    assert preferences_refusal(event, event.preferences_deadline) == (
        "Preference lists closed on 1 May 2017 17:00 EDT (21:00 UTC)."
    )
    without = load_mission(mutated({})).matchmaking
    assert without is not None and without.preferences_deadline is None
    assert preferences_refusal(without, T0) == "This matchmaking event has no preference lists."


def test_a_deadline_outside_the_request_window_is_refused_at_its_field() -> None:
    for when in ("2017-04-18T09:00", "2017-05-05T17:00", "2017-05-10T09:00", "2017-04-01T09:00"):
        errors = refusal(mutated({"matchmaking.preferences_deadline": when}))
        assert list(errors) == [("matchmaking", "preferences_deadline")], when
        assert "preference lists must close after meeting requests open" in next(
            iter(errors.values())
        )
    assert refusal(mutated({"matchmaking.preferences_deadline": "soon"})).keys() == {
        ("matchmaking", "preferences_deadline")
    }
