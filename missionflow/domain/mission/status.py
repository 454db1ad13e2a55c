"""What a mission says of itself: the words the Temporal UI's current details and the API show,
and the status the `status` query answers.
"""

from __future__ import annotations

from datetime import datetime

from missionflow.domain.instants import describe
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.lifecycle import (
    lock_instant,
    next_milestone,
    timeline,
)
from missionflow.domain.mission.messages import MissionStatus, SeatCounts
from missionflow.domain.mission.phases import Phase
from missionflow.domain.mission.state import MissionState
from missionflow.domain.selection import seats
from missionflow.domain.visits import rules as visits


def waiting_for(mission: MissionFile, state: MissionState, now: datetime) -> str:
    """What the mission waits for, in the words the Temporal UI and the API show."""
    if state.phase is Phase.COMPLETED:
        return f"Completed on {describe(state.entered[-1].at, mission.timezone)}."
    if state.phase is Phase.CANCELLED:
        when = describe(state.entered[-1].at, mission.timezone)
        return f"Cancelled on {when}: {state.cancel_reason}"
    milestone = next_milestone(mission, state, now)
    assert milestone is not None  # only terminal phases have no next milestone
    when = milestone.text
    kind = milestone.name.split(":")
    match kind[0]:
        case "call_opens":
            return f"Call announced: waiting for the call to open, {when}"
        case "deadline":
            return f"Call open: waiting for the deadline, {when}"
        case "reminder":
            deadline = describe(state.deadline, mission.timezone, end_of_day=True)
            return f"Call open: waiting for the deadline, {deadline}; next reminder {when}"
        case "decision_due":
            return f"Selection: waiting for the coordinators' approval, due {when}"
        case "review_reminder":
            due = describe(mission.selection.decision_due, mission.timezone)
            return (
                f"Selection: waiting for the coordinators' approval, due {due}; "
                f"next reminder {when}"
            )
        case "delegation_lock" | "seat_answer" if state.selection.approved_at is not None:
            held = seats.held(state)
            confirmed = sum(seat.state == seats.CONFIRMED for seat in held)
            lock = describe(lock_instant(mission, state), mission.timezone)
            counts = (
                f"{confirmed} of {mission.selection.capacity} seats confirmed, "
                f"{len(held) - confirmed} offers open"
            )
            if kind[0] == "seat_answer":
                return (
                    f"Confirmation: {counts}; next answer due {when}; the delegation locks {lock}"
                )
            return f"Confirmation: {counts}; the delegation locks {lock}"
        case "delegation_lock":
            return f"Confirmation: waiting for the delegation to lock, {when}"
        case "requests_open":
            return f"Matchmaking: waiting for meeting requests to open, {when}"
        case "requests_deadline":
            return f"Matchmaking: meeting requests open until {when}"
        case "requests_reminder":
            assert mission.matchmaking is not None
            closes = describe(mission.matchmaking.requests_deadline, mission.matchmaking.timezone)
            return f"Matchmaking: meeting requests open until {closes}; reminder {when}"
        case "matchmaking_starts" | "matchmaking_ends" | "request_expiry" | "matchmaking_nudge":
            return f"Matchmaking: waiting until {milestone.label}, {when}"
        case "visit":
            visit_label = milestone.label.removesuffix(" starts").removesuffix(" ends")
            visit_label = visit_label[0].upper() + visit_label[1:]
            if kind[2] == "starts":
                return f"{visit_label}, {when}"
            return f"{visit_label} under way, until {when}"
        case "visit_reminder":
            visit = visits.find(mission, kind[1])
            assert visit is not None
            return (
                f"{Phase(state.phase).title}: {visits.title(mission, visit)} on "
                f"{visits.starts_text(visit)}; its reminder goes out {when}"
            )
        case "feedback_reminder" | "feedback_closes":
            closes = describe(mission.feedback_closes_at, mission.timezone)
            answered = f"; {milestone.label} {when}" if kind[0] == "feedback_reminder" else ""
            return f"Reporting: collecting feedback until {closes}{answered}"
        case "report_refresh":
            return (
                f"{Phase(state.phase).title}: answers arrived after report version "
                f"{state.reporting.reports}; it is produced again {when}"
            )
        case "report_due" if state.reporting.reports:
            return (
                f"Reporting: report version {state.reporting.reports} produced; "
                f"the reporting ends {when}"
            )
        case "report_due":
            return f"Reporting: waiting for the report, due {when}"
        case "follow_up_closes":
            return f"Follow-up: answers to the last survey are taken until {when}"
        case _:
            return f"Follow-up: waiting for {milestone.label}, {when}"


def status(mission: MissionFile, state: MissionState, now: datetime) -> MissionStatus:
    milestone = next_milestone(mission, state, now)
    deadline = next(m for m in timeline(mission, state) if m.name == "deadline")
    return MissionStatus(
        mission_id=mission.id,
        title=mission.title,
        phase=state.phase,
        waiting_for=waiting_for(mission, state, now),
        next=milestone.view() if milestone else None,
        deadline=deadline.view(),
        instants=[m.view() for m in timeline(mission, state)],
        phases=state.entered,
        cancel_reason=state.cancel_reason,
        updates_handled=state.updates_handled,
        applications=state.call.received - state.call.withdrawn,
        withdrawn=state.call.withdrawn,
        seats=SeatCounts(
            confirmed=sum(s.state == seats.CONFIRMED for s in state.selection.seats),
            pending=sum(s.state == seats.OFFERED for s in state.selection.seats),
            released=sum(s.state == seats.RELEASED for s in state.selection.seats),
            waitlist=len(state.selection.waitlist),
        )
        if state.selection.approved_at is not None
        else None,
    )
