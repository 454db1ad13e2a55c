"""Who came to the matchmaking event, and whether their meetings took place, as the report
counts them: arrivals from the check-in desk by side, against those expected (the confirmed
delegates and the hosts), and the scheduled meetings by attendance.

Every count adds up: those arrived and those not arrived make those expected, side by side and
in all; the meetings held, the no-shows and those without attendance make the meetings
scheduled. One who arrived and was no longer expected (a delegate who withdrew on the day) is
counted apart, never in place of one expected.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from missionflow.domain.reporting.rates import rate

SIDES = ("delegate", "host")


@dataclass(frozen=True)
class ArrivalFacts:
    participant_id: uuid.UUID
    side: str


@dataclass(frozen=True)
class AttendanceFacts:
    """A scheduled meeting's attendance: held, no_show, or None (not recorded)."""

    attendance: str | None


def arrival_figures(
    expected: Iterable[ArrivalFacts],
    arrivals: Iterable[ArrivalFacts],
    scheduled: Sequence[AttendanceFacts],
) -> dict[str, Any]:
    expected_ids = {e.participant_id: e.side for e in expected}
    came = {a.participant_id: a.side for a in arrivals}
    sides: dict[str, dict[str, Any]] = {}
    for side in SIDES:
        mine = {pid for pid, s in expected_ids.items() if s == side}
        arrived = len(mine & came.keys())
        sides[side] = {
            "expected": len(mine),
            "arrived": arrived,
            "not_arrived": len(mine) - arrived,
            "arrival_rate": rate(arrived, len(mine), f"{side}s expected"),
        }
    arrived = sum(s["arrived"] for s in sides.values())
    held = sum(m.attendance == "held" for m in scheduled)
    no_show = sum(m.attendance == "no_show" for m in scheduled)
    return {
        "recorded": bool(came),
        "expected": len(expected_ids),
        "arrived": arrived,
        "not_arrived": len(expected_ids) - arrived,
        "unexpected": len(came.keys() - expected_ids.keys()),
        "arrival_rate": rate(arrived, len(expected_ids), "participants expected"),
        "by_side": sides,
        "meetings": {
            "scheduled": len(scheduled),
            "held": held,
            "no_show": no_show,
            "not_recorded": len(scheduled) - held - no_show,
        },
    }
