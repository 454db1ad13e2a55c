"""The call's deadline as pure rules: when applications are taken (to the second), what an
extension may move, when each deadline reminder goes out, and what the call tells people when.

The workflow's validators and its main loop call these with `workflow.now()`; the reminders are
planned against the deadline as it stands, so an extension re-plans them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from missionflow.domain.instants import describe
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.domain.mission.state import MissionState


def opens_at(mission: MissionFile, state: MissionState) -> datetime:
    return mission.call.opens_at or state.started_at


def extension_refusal(
    mission: MissionFile, state: MissionState, deadline: datetime, now: datetime
) -> tuple[str, str] | None:
    """Why the call's deadline cannot move to `deadline`, as (kind, message), or None.

    The kind is `conflict` when the mission is past the point where the call could change, and
    `invalid` when the new deadline itself is wrong.
    """
    if state.phase is not Phase.CALL_OPEN:
        closed = describe(state.deadline, mission.timezone, end_of_day=True)
        return "conflict", f"The call for expression of interest closed on {closed}."
    shown = describe(deadline, mission.timezone, end_of_day=True)
    if deadline <= now:
        return "invalid", f"The new deadline {shown} has already passed."
    if deadline <= state.deadline:
        current = describe(state.deadline, mission.timezone, end_of_day=True)
        return "invalid", f"The new deadline {shown} is not later than the current one, {current}."
    if deadline >= mission.selection.decision_due:
        due = describe(mission.selection.decision_due, mission.timezone)
        return (
            "invalid",
            f"The new deadline {shown} must come before the selection decision, {due}.",
        )
    return None


def extend_deadline(state: MissionState, deadline: datetime, now: datetime) -> MissionState:
    call = state.call.model_copy(
        update={"deadline_set_at": now, "extensions": [*state.call.extensions, deadline]}
    )
    return state.model_copy(update={"deadline": deadline, "call": call})


@dataclass(frozen=True, slots=True)
class CallAction:
    """Something the call must tell people now: `announce`, `extension`, `remind` or `close`."""

    kind: str
    deadline: datetime
    previous_deadline: datetime | None = None
    reminder: str | None = None


def reminders(mission: MissionFile, state: MissionState) -> list[tuple[str, datetime]]:
    """Each reminder offset and its instant before the current deadline, earliest first."""
    planned = [
        (str(offset), offset.shift(state.deadline, mission.timezone, sign=-1))
        for offset in mission.call.reminders
    ]
    return sorted(planned, key=lambda item: item[1])


def call_actions_due(mission: MissionFile, state: MissionState, now: datetime) -> list[CallAction]:
    """What the call must send now, in order. Reminders planned before the call opened or before
    the deadline was last set are never sent late, and of several overdue reminders (a worker
    that was down) only the most urgent goes out."""
    if state.phase is not Phase.CALL_OPEN:
        return []
    call, deadline = state.call, state.deadline
    actions: list[CallAction] = []
    if not call.announced and now >= opens_at(mission, state):
        actions.append(CallAction("announce", deadline))
    previous = [mission.call.deadline, *call.extensions]
    for index in range(call.extensions_told, len(call.extensions)):
        actions.append(CallAction("extension", call.extensions[index], previous[index]))
    if now >= deadline:
        return [*actions, CallAction("close", deadline)] if not call.closed else actions
    earliest = max(call.deadline_set_at or state.started_at, opens_at(mission, state))
    overdue = [
        (offset, at)
        for offset, at in reminders(mission, state)
        if earliest < at <= now and _reminder_key(deadline, offset) not in call.reminders_sent
    ]
    if overdue:
        actions.append(CallAction("remind", deadline, reminder=overdue[-1][0]))
    return actions


def call_action_done(
    mission: MissionFile, state: MissionState, action: CallAction, now: datetime
) -> MissionState:
    call = state.call
    match action.kind:
        case "announce":
            call = call.model_copy(update={"announced": True})
        case "extension":
            call = call.model_copy(update={"extensions_told": call.extensions_told + 1})
        case "close":
            call = call.model_copy(update={"closed": True})
        case _:
            passed = [
                _reminder_key(state.deadline, offset)
                for offset, at in reminders(mission, state)
                if at <= now
            ]
            call = call.model_copy(
                update={"reminders_sent": sorted({*call.reminders_sent, *passed})}
            )
    return state.model_copy(update={"call": call})


def _reminder_key(deadline: datetime, offset: str) -> str:
    return f"{deadline.isoformat()}/{offset}"


def count_application(
    state: MissionState, *, received: int = 0, withdrawn: int = 0
) -> MissionState:
    call = state.call.model_copy(
        update={
            "received": state.call.received + received,
            "withdrawn": state.call.withdrawn + withdrawn,
        }
    )
    return state.model_copy(update={"call": call})


def call_refusal(mission: MissionFile, state: MissionState, now: datetime) -> str | None:
    """Why an application or an amendment cannot be taken now (to the second), or None."""
    opens = opens_at(mission, state)
    if state.phase is Phase.CALL_OPEN and now < opens:
        return f"The call for expression of interest opens on {_on_at(opens, mission.timezone)}."
    if state.phase is not Phase.CALL_OPEN or now >= state.deadline:
        closed = _on_at(state.deadline, mission.timezone, end_of_day=True)
        return f"The call for expression of interest closed on {closed}."
    return None


def _on_at(instant: datetime, zone: str, *, end_of_day: bool = False) -> str:
    """`22 Mar 2017 at 24:00 CET`: how the call's messages name an instant."""
    day, clock, abbreviation = (
        describe(instant, zone, end_of_day=end_of_day).split(" (")[0].rsplit(" ", 2)
    )
    return f"{day} at {clock} {abbreviation}"
