"""The mission's timeline as pure functions: which phase it is in, and what instant comes next.

The workflow calls these with `workflow.now()`; tests call them with any instant. Nothing here
touches the clock, the network or the database, so a phase rule is checked without Temporal and
replays identically.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from missionflow.domain.call.deadline import opens_at, reminders
from missionflow.domain.call.messages import CallProgress
from missionflow.domain.durations import IsoDuration
from missionflow.domain.matchmaking import request_policy
from missionflow.domain.matchmaking import rules as matchmaking
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.milestone import Milestone
from missionflow.domain.mission.phases import Phase
from missionflow.domain.mission.state import MissionState, PhaseEntry
from missionflow.domain.selection import seats
from missionflow.domain.visits import rules as visits


def begin(mission: MissionFile, now: datetime) -> MissionState:
    return MissionState(
        started_at=now,
        deadline=mission.call.deadline,
        entered=[PhaseEntry(phase=Phase.CALL_OPEN, at=now)],
        call=CallProgress(deadline_set_at=now),
    )


def phases_of(mission: MissionFile) -> list[Phase]:
    """The phases this mission goes through: one without matchmaking or visits skips them."""
    phases = [Phase.CALL_OPEN, Phase.SELECTION, Phase.CONFIRMATION]
    if mission.matchmaking is not None:
        phases.append(Phase.MATCHMAKING)
    if mission.visits:
        phases.append(Phase.VISITS)
    phases.append(Phase.REPORTING)
    if mission.reporting.follow_up:
        phases.append(Phase.FOLLOW_UP)
    return [*phases, Phase.COMPLETED]


def follow_ups(mission: MissionFile) -> list[datetime]:
    due = mission.reporting.report_due
    return [offset.shift(due, mission.timezone) for offset in mission.reporting.follow_up]


def surveys_close_at(mission: MissionFile) -> datetime:
    """Answers to the last survey are taken for `survey_within`; then the mission completes."""
    return mission.reporting.survey_within.shift(follow_ups(mission)[-1], mission.timezone)


FEEDBACK_REMINDER_LEAD = IsoDuration(days=1)


REPORT_REFRESH = timedelta(hours=1)
"""Answers that arrive after the report was produced are gathered for an hour, then the report
is produced again once for all of them: a burst of survey answers is one new version."""


def feedback_reminder_at(mission: MissionFile) -> datetime:
    """A day before the feedback closes, or half-way through a window shorter than two days."""
    closes, opened = mission.feedback_closes_at, mission.event_ends_at
    lead = FEEDBACK_REMINDER_LEAD.shift(opened, mission.timezone) - opened
    return closes - min(lead, (closes - opened) / 2)


def phase_ends_at(mission: MissionFile, state: MissionState, phase: Phase) -> datetime | None:
    """When the phase ends; None while it waits for a person (the coordinators' approval)."""
    review = state.selection
    match phase:
        case Phase.CALL_OPEN:
            return state.deadline
        case Phase.SELECTION:
            return review.approved_at
        case Phase.CONFIRMATION:
            return lock_instant(mission, state)
        case Phase.MATCHMAKING if mission.matchmaking is not None:
            return mission.matchmaking.ends_at
        case Phase.VISITS if mission.visits:
            return mission.visits[-1].ends_at
        case Phase.REPORTING:
            return mission.reporting.report_due
        case Phase.FOLLOW_UP if mission.reporting.follow_up:
            return surveys_close_at(mission)
    raise ValueError(f"the phase {phase} has no end in mission {mission.id}")


def lock_instant(mission: MissionFile, state: MissionState) -> datetime:
    """When the delegation locks: a late approval moves it to give a whole window."""
    if state.selection.approved_at is not None:
        return seats.lock_at(mission, state)
    return mission.selection.delegation_lock


def advance(mission: MissionFile, state: MissionState, now: datetime) -> MissionState:
    """Move through every phase whose end has passed, each entered at its scheduled instant."""
    order = phases_of(mission)
    while not state.phase.is_terminal:
        ends_at = phase_ends_at(mission, state, state.phase)
        if ends_at is None or now < ends_at:
            break
        following = order[order.index(state.phase) + 1]
        state = state.model_copy(
            update={
                "phase": following,
                "entered": [*state.entered, PhaseEntry(phase=following, at=ends_at)],
            }
        )
    return state


def cancel(state: MissionState, reason: str, by: str | None, now: datetime) -> MissionState:
    return state.model_copy(
        update={
            "phase": Phase.CANCELLED,
            "cancel_reason": reason,
            "cancelled_by": by,
            "entered": [*state.entered, PhaseEntry(phase=Phase.CANCELLED, at=now, note=reason)],
        }
    )


def cancel_refusal(state: MissionState) -> str | None:
    """Why a cancellation cannot be accepted now, or None."""
    if state.phase.is_terminal:
        return f"The mission is already {state.phase.value}; it cannot be cancelled."
    return None


def timeline(mission: MissionFile, state: MissionState) -> list[Milestone]:
    """The mission's key instants in order, each in the zone it belongs to."""
    zone = mission.timezone
    items = [
        Milestone("call_opens", "the call opens", opens_at(mission, state), zone),
        *(
            Milestone(
                f"reminder:{offset}",
                f"the reminder {offset} before the deadline",
                at,
                zone,
                end_of_day=True,
            )
            for offset, at in reminders(mission, state)
            if at > opens_at(mission, state)
        ),
        Milestone("deadline", "the call's deadline", state.deadline, zone, end_of_day=True),
        Milestone(
            "decision_due", "the selection decision is due", mission.selection.decision_due, zone
        ),
        Milestone("delegation_lock", "the delegation locks", lock_instant(mission, state), zone),
    ]
    if (event := mission.matchmaking) is not None:
        items += [
            Milestone(
                "requests_open", "meeting requests open", event.requests_open_at, event.timezone
            ),
            Milestone(
                "requests_deadline",
                "meeting requests close",
                event.requests_deadline,
                event.timezone,
            ),
            Milestone(
                "matchmaking_starts",
                f"{event.event} starts",
                event.sessions[0].start,
                event.timezone,
            ),
            Milestone("matchmaking_ends", f"{event.event} ends", event.ends_at, event.timezone),
        ]
    count = len(mission.visits)
    for number, visit in enumerate(mission.visits, start=1):
        label = f"visit {number} of {count}: {visit.city}"
        if visit.cancelled:
            label += " (cancelled)"
        items += [
            Milestone(
                f"visit:{visit.id}:starts", f"{label} starts", visit.starts_at, visit.timezone
            ),
            Milestone(f"visit:{visit.id}:ends", f"{label} ends", visit.ends_at, visit.timezone),
        ]
    items.append(Milestone("report_due", "the report is due", mission.reporting.report_due, zone))
    surveys = follow_ups(mission)
    for number, at in enumerate(surveys, start=1):
        items.append(
            Milestone(
                f"follow_up:{number}", f"follow-up survey {number} of {len(surveys)}", at, zone
            )
        )
    if surveys:
        items.append(
            Milestone(
                "follow_up_closes",
                "the last follow-up survey closes",
                surveys_close_at(mission),
                zone,
            )
        )
    return items


def next_milestone(mission: MissionFile, state: MissionState, now: datetime) -> Milestone | None:
    """The next instant the mission waits for in its current phase (None once it has ended)."""
    if state.phase.is_terminal:
        return None
    ends_at = phase_ends_at(mission, state, state.phase)
    if ends_at is None:
        return review_reminder(mission, state)
    upcoming = sorted(
        (
            milestone
            for milestone in [*timeline(mission, state), *_engine_milestones(mission, state)]
            if now < milestone.at <= ends_at and _belongs_to(milestone, state.phase)
        ),
        key=lambda milestone: milestone.at,
    )
    return upcoming[0] if upcoming else _milestone_at(mission, state, ends_at)


_PHASE_OF_MILESTONE = {
    "call_opens": Phase.CALL_OPEN,
    "reminder": Phase.CALL_OPEN,
    "deadline": Phase.CALL_OPEN,
    "decision_due": Phase.SELECTION,
    "review_reminder": Phase.SELECTION,
    "delegation_lock": Phase.CONFIRMATION,
    "seat_answer": Phase.CONFIRMATION,
    "requests_reminder": Phase.MATCHMAKING,
    "request_expiry": Phase.MATCHMAKING,
    "matchmaking_nudge": Phase.MATCHMAKING,
    "requests_open": Phase.MATCHMAKING,
    "requests_deadline": Phase.MATCHMAKING,
    "preferences_deadline": Phase.MATCHMAKING,
    "matchmaking_starts": Phase.MATCHMAKING,
    "matchmaking_ends": Phase.MATCHMAKING,
    "visit": Phase.VISITS,
    "report_due": Phase.REPORTING,
    "follow_up": Phase.FOLLOW_UP,
    "follow_up_closes": Phase.FOLLOW_UP,
    "feedback_reminder": Phase.REPORTING,
    "feedback_closes": Phase.REPORTING,
}


_BEFORE_THE_VISITS = (Phase.CONFIRMATION, Phase.MATCHMAKING, Phase.VISITS)
"""A visit's day-before reminder falls in whichever of these the mission is in then."""


def _engine_milestones(mission: MissionFile, state: MissionState) -> list[Milestone]:
    """Instants the engine itself plans (seat windows, the request reminder), beside the
    mission file's; only missions started with those features have them."""
    planned = []
    if (seat_instant := seats.next_seat_instant(state)) is not None:
        planned.append(
            Milestone("seat_answer", "the next seat answer is due", seat_instant, mission.timezone)
        )
    event = mission.matchmaking
    if event is not None and not state.matchmaking.reminded:
        planned.append(
            Milestone(
                "requests_reminder",
                "the reminder about unanswered meeting requests",
                matchmaking.reminder_at(event),
                event.timezone,
            )
        )
    if event is not None:
        planned += [
            Milestone(name, label, at, event.timezone)
            for name, label, at in request_policy.planned(event, state.matchmaking)
        ]
    if (
        event is not None
        and event.preferences_deadline is not None
        and not state.matchmaking.preferences_converted
    ):
        planned.append(
            Milestone(
                "preferences_deadline",
                "the preference lists close",
                event.preferences_deadline,
                event.timezone,
            )
        )
    for visit, at in visits.planned_reminders(mission, state):
        planned.append(
            Milestone(
                f"visit_reminder:{visit.id}",
                f"the reminder of {visits.title(mission, visit).lower()}",
                at,
                visit.timezone,
            )
        )
    progress = state.reporting
    if not progress.feedback_reminded:
        planned.append(
            Milestone(
                "feedback_reminder",
                "the feedback reminder",
                feedback_reminder_at(mission),
                mission.timezone,
            )
        )
    if progress.reports and progress.stale_since is not None:
        planned.append(
            Milestone(
                "report_refresh",
                "the report is produced again",
                progress.stale_since + REPORT_REFRESH,
                mission.timezone,
            )
        )
    if not progress.reports:
        planned.append(
            Milestone(
                "feedback_closes",
                "the feedback closes",
                mission.feedback_closes_at,
                mission.timezone,
            )
        )
    return planned


def _belongs_to(milestone: Milestone, phase: Phase) -> bool:
    kind = milestone.name.split(":")[0]
    if kind == "visit_reminder":
        return phase in _BEFORE_THE_VISITS
    if kind == "report_refresh":
        return phase in (Phase.REPORTING, Phase.FOLLOW_UP)
    return _PHASE_OF_MILESTONE[kind] is phase


REVIEW_EVERY = IsoDuration.parse("P2D")
"""Coordinators who have not approved the delegation are reminded at the decision's due time
and every two calendar days after it."""


def review_reminder(mission: MissionFile, state: MissionState) -> Milestone:
    """The next time the coordinators hear that the selection awaits their approval."""
    sent = state.selection.review_reminders
    due = mission.selection.decision_due
    if sent == 0:
        return _milestone_at(mission, state, due)
    at = IsoDuration(days=REVIEW_EVERY.days * sent).shift(due, mission.timezone)
    return Milestone(f"review_reminder:{sent}", f"review reminder {sent}", at, mission.timezone)


def selection_actions_due(mission: MissionFile, state: MissionState, now: datetime) -> list[str]:
    """What the selection phase must do now: `propose` once, then `remind` the coordinators at
    each reminder instant until they approve, or `approve` at the due time when the mission
    file allows it."""
    review = state.selection
    if state.phase is not Phase.SELECTION or review.approved_at:
        return []
    if not review.proposed:
        return ["propose"]
    if now < review_reminder(mission, state).at:
        return []
    return ["approve"] if mission.selection.auto_approve else ["remind"]


def review_reminded(mission: MissionFile, state: MissionState, now: datetime) -> MissionState:
    """Count every reminder instant passed: after a worker outage only one reminder goes out."""
    while review_reminder(mission, state).at <= now:
        selection = state.selection.model_copy(
            update={"review_reminders": state.selection.review_reminders + 1}
        )
        state = state.model_copy(update={"selection": selection})
    return state


def _milestone_at(mission: MissionFile, state: MissionState, at: datetime) -> Milestone:
    return next(m for m in timeline(mission, state) if m.at == at and _belongs_to(m, state.phase))
