"""Mission files refused for their times: unknown zones, instants that do not exist or cannot
be read, instants out of order, and durations that are not ISO 8601 or not positive.

Each case: the changes to eu-us-2017.yaml (see `mutated`), the field refused, and words of
its message.
"""

from __future__ import annotations

import pytest
from mission_file_support import DELETE

TIME_REFUSALS = [
    pytest.param(
        {"timezone": "Europe/Brusels"},
        ("timezone",),
        "unknown time zone 'Europe/Brusels'",
        id="unknown-mission-zone",
    ),
    pytest.param(
        {"matchmaking.timezone": "America/Washington"},
        ("matchmaking", "timezone"),
        "unknown time zone",
        id="unknown-matchmaking-zone",
    ),
    pytest.param(
        {"visits.1.timezone": "US/Philadelphia"},
        ("visits", 1, "timezone"),
        "unknown time zone",
        id="unknown-visit-zone",
    ),
    pytest.param(
        {"call.deadline": "2017-02-14T24:00"},
        ("call", "deadline"),
        "the deadline must come after the call opens",
        id="deadline-before-opening",
    ),
    pytest.param(
        {"call.deadline": "2017-02-15T09:00"},
        ("call", "deadline"),
        "the deadline must come after the call opens",
        id="deadline-at-opening",
    ),
    pytest.param(
        {"selection.decision_due": "2017-03-22T12:00"},
        ("selection", "decision_due"),
        "must be due after the deadline",
        id="decision-before-deadline",
    ),
    pytest.param(
        {"selection.delegation_lock": "2017-03-30T17:00"},
        ("selection", "delegation_lock"),
        "must lock after the selection decision is due",
        id="lock-before-decision",
    ),
    pytest.param(
        # 10:00 in New York is 14:00 UTC, before the lock at 17:00 in Brussels (15:00 UTC).
        {"matchmaking.requests_open_at": "2017-04-14T10:00"},
        ("matchmaking", "requests_open_at"),
        "once the delegation locks",
        id="requests-open-before-lock",
    ),
    pytest.param(
        {"matchmaking.requests_deadline": "2017-04-18T09:00"},
        ("matchmaking", "requests_deadline"),
        "must close after they open",
        id="requests-close-at-opening",
    ),
    pytest.param(
        {"matchmaking.requests_deadline": "2017-05-15T10:00"},
        ("matchmaking", "sessions"),
        "the first session must start after meeting requests close",
        id="session-before-requests-close",
    ),
    pytest.param(
        {"matchmaking.sessions.1.start": "2017-05-15T12:00"},
        ("matchmaking", "sessions"),
        "must not overlap",
        id="overlapping-sessions",
    ),
    pytest.param(
        {"matchmaking.sessions.0.end": "2017-05-15T08:00"},
        ("matchmaking", "sessions", 0, "end"),
        "a session must end after it starts",
        id="session-ends-before-start",
    ),
    pytest.param(
        {"matchmaking.slot_minutes": 0},
        ("matchmaking", "slot_minutes"),
        "greater than or equal to 1",
        id="slot-too-short",
    ),
    pytest.param(
        {"matchmaking.slot_minutes": 240},
        ("matchmaking", "sessions", 0),
        "at least one 240-minute slot",
        id="session-shorter-than-a-slot",
    ),
    pytest.param(
        {"call.deadline": 20170322},
        ("call", "deadline"),
        "write the instant as text",
        id="instant-as-a-number",
    ),
    pytest.param(
        {"matchmaking": DELETE, "visits.0.starts_at": "2017-03-20T09:00"},
        ("visits", 0, "starts_at"),
        "a visit cannot start before the call's deadline",
        id="visit-before-deadline",
    ),
    pytest.param(
        {"matchmaking": DELETE, "visits.0.starts_at": "2017-04-14T10:00"},
        ("visits", 0, "starts_at"),
        "start after the delegation locks",
        id="visit-before-lock",
    ),
    pytest.param(
        {"visits.0.starts_at": "2017-05-15T17:00"},
        ("visits", 0, "starts_at"),
        "visits must be in order and start after the matchmaking event ends",
        id="visit-before-matchmaking-ends",
    ),
    pytest.param(
        {"visits.1.starts_at": "2017-05-16T10:00", "visits.1.ends_at": "2017-05-16T18:00"},
        ("visits", 1, "starts_at"),
        "visits must be in order and start after the previous visit ends",
        id="visits-out-of-order",
    ),
    pytest.param(
        {"visits.2.ends_at": "2017-05-18T08:00"},
        ("visits", 2, "ends_at"),
        "a visit must end after it starts",
        id="visit-ends-before-start",
    ),
    pytest.param(
        # Feedback closes P3D after the last visit: 21 May 22:00 in Brussels.
        {"reporting.report_due": "2017-05-21T12:00"},
        ("reporting", "report_due"),
        "the report must be due after the feedback window",
        id="report-before-feedback-closes",
    ),
    pytest.param(
        {"selection.confirm_within": "7 days"},
        ("selection", "confirm_within"),
        "'7 days' is not an ISO 8601 duration",
        id="bad-duration",
    ),
    pytest.param(
        {"call.reminders": ["P7D", "P2X"]},
        ("call", "reminders", 1),
        "'P2X' is not an ISO 8601 duration",
        id="bad-reminder",
    ),
    pytest.param(
        {"selection.confirm_within": "PT0S"},
        ("selection", "confirm_within"),
        "must be longer than zero",
        id="zero-confirmation-window",
    ),
    pytest.param(
        {"selection.confirm_within": "P15D"},
        ("selection", "confirm_within"),
        "must be answered before the delegation locks",
        id="confirmation-window-past-the-lock",
    ),
    pytest.param(
        {"call.reminders": ["P7D", "P0D"]},
        ("call", "reminders"),
        "must be longer than zero",
        id="zero-reminder",
    ),
    pytest.param(
        {"call.reminders": ["P7D", "P1W", "P1D"]},
        ("call", "reminders"),
        "reminder offsets must be distinct",
        id="duplicate-reminders",
    ),
    pytest.param(
        {"reporting.follow_up": ["P3M", "PT0S"]},
        ("reporting", "follow_up"),
        "must be longer than zero",
        id="zero-follow-up",
    ),
    pytest.param(
        {"call.deadline": "+PT2M"},
        ("call", "deadline"),
        "'+PT2M' is relative to the start of the mission, which is unknown",
        id="relative-without-now",
    ),
    pytest.param(
        {"call.deadline": "2017-03-26T02:30"},
        ("call", "deadline"),
        "2017-03-26T02:30 does not exist in Europe/Brussels",
        id="dst-gap",
    ),
    pytest.param(
        {"visits.0.starts_at": "2017-03-12T02:30"},
        ("visits", 0, "starts_at"),
        "does not exist in America/New_York",
        id="dst-gap-in-visit-zone",
    ),
    pytest.param(
        {"call.deadline": "2017-03-22"},
        ("call", "deadline"),
        "has no time of day",
        id="date-without-time",
    ),
    pytest.param(
        {"call.deadline": "2017-03-22T25:00"},
        ("call", "deadline"),
        "is not an ISO 8601 instant",
        id="not-iso",
    ),
]
