"""The matchmaking section's request fields (`request_expiry`, `max_pending_requests`,
`max_sent_requests`, `nudge_every`) and the rules that read them: absent, old files behave as
before; wrong, refused at their field; the expiry in the venue's calendar, the sweep's quarter
hours, the nudge rounds inside the window, the limits' words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mission_file_support import mutated, refusal

from missionflow.domain.matchmaking import request_policy as policy
from missionflow.domain.matchmaking.messages import MatchmakingProgress
from missionflow.domain.mission.file import load_mission


def test_without_the_fields_nothing_expires_nothing_is_limited_no_one_is_nudged() -> None:
    event = load_mission(mutated({})).matchmaking
    assert event is not None
    assert policy.expires_at(event, event.requests_open_at) is None
    assert not policy.overdue(event, event.requests_open_at, event.ends_at)
    assert policy.limit_refusal(event, pending=10_000, sent=10_000) is None
    assert policy.nudge_rounds(event) == []
    assert policy.planned(event, MatchmakingProgress()) == []


def test_expiry_counts_calendar_days_at_the_venue_and_is_swept_at_the_next_quarter_hour() -> None:
    event = load_mission(mutated({"matchmaking.request_expiry": "P3D"})).matchmaking
    assert event is not None
    asked = datetime(2017, 3, 10, 14, 7, 30, tzinfo=UTC)  # 09:07:30 EST, before the DST change
    expiry = policy.expires_at(event, asked)
    assert expiry == datetime(2017, 3, 13, 13, 7, 30, tzinfo=UTC)  # 09:07:30 EDT
    assert not policy.overdue(event, asked, expiry - timedelta(seconds=1))
    assert policy.overdue(event, asked, expiry)
    assert policy.sweep_at(expiry) == datetime(2017, 3, 13, 13, 15, tzinfo=UTC)
    assert policy.sweep_at(datetime(2017, 3, 13, 13, 15, tzinfo=UTC)) == datetime(
        2017, 3, 13, 13, 15, tzinfo=UTC
    )
    later = asked + timedelta(hours=2)
    first = policy.next_sweep(event, None, later)
    assert policy.next_sweep(event, first, asked) == policy.sweep_at(expiry) < first
    assert policy.next_sweep(event, policy.sweep_at(expiry), later) == policy.sweep_at(expiry)
    assert policy.expiry_said(event, asked) == (
        "This meeting request expired on 13 Mar 2017 09:07 EDT (13:07 UTC), unanswered."
    )


def test_limits_name_themselves_and_the_count() -> None:
    event = load_mission(
        mutated({"matchmaking.max_pending_requests": 5, "matchmaking.max_sent_requests": 20})
    ).matchmaking
    assert event is not None
    assert policy.limit_refusal(event, pending=4, sent=19) is None
    assert policy.limit_refusal(event, pending=5, sent=5) == (
        "max_pending_requests",
        "max_pending_requests: you have 5 requests waiting for an answer (the most this event "
        "allows); ask again once one is answered or expires.",
    )
    assert policy.limit_refusal(event, pending=1, sent=20) == (
        "max_sent_requests",
        "max_sent_requests: you have sent 20 meeting requests (the most this event allows).",
    )


def test_nudges_fall_every_so_often_strictly_inside_the_request_window() -> None:
    event = load_mission(mutated({"matchmaking.nudge_every": "P5D"})).matchmaking
    assert event is not None
    rounds = policy.nudge_rounds(event)
    step = timedelta(days=5)
    assert rounds == [event.requests_open_at + step * n for n in (1, 2, 3)]
    assert all(at < event.requests_deadline for at in rounds)
    assert policy.due_nudge(event, 0, rounds[0] - timedelta(seconds=1)) == 0
    assert policy.due_nudge(event, 0, rounds[0]) == 1
    assert policy.due_nudge(event, 1, rounds[0] + timedelta(days=1)) == 0  # sent already
    assert policy.due_nudge(event, 1, rounds[2]) == 3  # after an outage, only the latest
    assert policy.planned(event, MatchmakingProgress(nudged=3)) == []
    (name, _, at) = policy.planned(event, MatchmakingProgress(nudged=1))[0]
    assert (name, at) == ("matchmaking_nudge", rounds[1])


def test_wrong_values_are_refused_at_their_field() -> None:
    cases = {
        "request_expiry": ["P0D", "3 days", -1],
        "max_pending_requests": [0, -2, "many"],
        "max_sent_requests": [0, 1.5],
        "nudge_every": ["PT0S", "P30D", "PT1H", "soon"],
    }
    for field, values in cases.items():
        for value in values:
            errors = refusal(mutated({f"matchmaking.{field}": value}))
            assert list(errors) == [("matchmaking", field)], (field, value)
    too_long = refusal(mutated({"matchmaking.nudge_every": "P30D"}))
    assert "no nudge would be sent before requests close" in next(iter(too_long.values()))
    too_often = refusal(mutated({"matchmaking.nudge_every": "PT1H"}))
    assert "more than 60 times" in next(iter(too_often.values()))
