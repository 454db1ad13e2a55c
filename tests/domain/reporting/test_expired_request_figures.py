"""The report counts requests that expired unanswered (`request_expiry`) on their own line: the
statuses add up to the requests made, and an expired request is no answer."""

from __future__ import annotations

from test_report_figures import MEETINGS, data

from missionflow.domain.reporting import figures as report
from missionflow.domain.reporting.figures import MeetingFacts


def test_expired_requests_are_counted_and_the_statuses_add_up() -> None:
    meetings = [*MEETINGS, *[MeetingFacts("expired", scheduled=False)] * 3]
    counted = report.figures(data(meetings=meetings))["meetings"]
    assert counted["expired"] == 3
    statuses = ("accepted", "declined", "pending", "cancelled", "expired")
    assert sum(counted[s] for s in statuses) == counted["requested"] == len(meetings)
    rate = counted["acceptance_rate"]
    assert (rate["count"], rate["of"]) == (8, 10)  # accepted of accepted + declined
