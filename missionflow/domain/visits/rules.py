"""The cluster visits as pure rules: who gets a place, when reminders go out, what a change may
do. The workflow calls these with `workflow.now()` and keeps the places in its state, so two
delegates racing for the last place are decided in the order the workflow took them, and the
database only records the outcome.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

from pydantic import ValidationError

from missionflow.domain.instants import describe, local, parse_instant
from missionflow.domain.mission.event_sections import Visit
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.domain.mission.state import MissionState
from missionflow.domain.selection import seats
from missionflow.domain.visits.messages import VisitChangeInput, VisitPlace

REGISTERED = "registered"
WAITLISTED = "waitlisted"
CANCELLED = "cancelled"

REMINDER_CLOCK = time(18, 0)
"""Visit reminders go out at 18:00, in the visit city's zone, on the day before."""

OVER = (Phase.REPORTING, Phase.FOLLOW_UP, Phase.COMPLETED, Phase.CANCELLED)


def find(mission: MissionFile, visit_id: str) -> Visit | None:
    return next((visit for visit in mission.visits if visit.id == visit_id), None)


def title(mission: MissionFile, visit: Visit) -> str:
    """`Visit 2 of 3: Philadelphia`, as the itinerary and the Temporal UI number them."""
    number = mission.visits.index(visit) + 1
    return f"Visit {number} of {len(mission.visits)}: {visit.city}"


def starts_text(visit: Visit) -> str:
    return describe(visit.starts_at, visit.timezone)


def reminder_at(visit: Visit) -> datetime:
    """18:00 on the day before the visit, in the zone of its city."""
    day_before = local(visit.starts_at, visit.timezone).date() - timedelta(days=1)
    wall = datetime.combine(day_before, REMINDER_CLOCK).isoformat(timespec="minutes")
    return parse_instant(wall, visit.timezone)


def reminder_key(visit: Visit) -> str:
    """A moved visit is a new round: its delegates hear again, for the new day."""
    return f"{visit.id}@{visit.starts_at.isoformat()}"


def reminders_due(mission: MissionFile, state: MissionState, now: datetime) -> list[Visit]:
    """Visits whose reminder is due now and not sent; a visit that has started is not reminded
    late (a worker that was down)."""
    if state.phase.is_terminal:
        return []
    return [
        visit
        for visit in mission.visits
        if not visit.cancelled
        and reminder_at(visit) <= now < visit.starts_at
        and reminder_key(visit) not in state.visits.reminded
    ]


def planned_reminders(mission: MissionFile, state: MissionState) -> list[tuple[Visit, datetime]]:
    """Every reminder not sent yet (a missed one, for a visit that has started, stays unsent and
    drops out of the plan by its time)."""
    return [
        (visit, reminder_at(visit))
        for visit in mission.visits
        if not visit.cancelled and reminder_key(visit) not in state.visits.reminded
    ]


def reminded(state: MissionState, visit: Visit) -> MissionState:
    progress = state.visits.model_copy(
        update={"reminded": [*state.visits.reminded, reminder_key(visit)]}
    )
    return state.model_copy(update={"visits": progress})


def itinerary_due(mission: MissionFile, state: MissionState) -> bool:
    """The itinerary goes to the delegation once it is final: at the lock."""
    return (
        bool(mission.visits)
        and state.selection.locked
        and not state.visits.itinerary_sent
        and state.phase not in OVER
    )


def place_of(state: MissionState, visit_id: str, application_id: uuid.UUID) -> VisitPlace | None:
    """The delegate's place on the visit, or on its waitlist; None if they hold neither."""
    return next(
        (
            place
            for place in state.visits.places
            if place.visit_id == visit_id
            and place.application_id == application_id
            and place.status != CANCELLED
        ),
        None,
    )


def holding(state: MissionState, visit_id: str, status: str) -> list[VisitPlace]:
    return [p for p in state.visits.places if p.visit_id == visit_id and p.status == status]


def waitlist_position(state: MissionState, place: VisitPlace) -> int | None:
    if place.status != WAITLISTED:
        return None
    return holding(state, place.visit_id, WAITLISTED).index(place) + 1


def registration_refusal(
    mission: MissionFile,
    state: MissionState,
    visit_id: str,
    application_id: uuid.UUID,
    now: datetime,
    *,
    cancel: bool,
) -> tuple[str, str] | None:
    """Why the delegate cannot take (or give up) a place now, as (kind, message), or None.

    Kinds: `not_found` (no such visit), `conflict` (not now, or not them)."""
    if not mission.visits:
        return "conflict", "This mission has no visits to register for."
    visit = find(mission, visit_id)
    if visit is None:
        known = ", ".join(v.id for v in mission.visits)
        return "not_found", f"This mission has no visit {visit_id!r}; its visits are {known}."
    if state.phase.is_terminal:
        return "conflict", f"The mission is {state.phase.value}."
    if visit.cancelled:
        return "conflict", f"The visit to {visit.city} is cancelled."
    if now >= visit.starts_at:
        return "conflict", (
            f"Registrations for the visit to {visit.city} closed when it started, "
            f"{starts_text(visit)}."
        )
    held = place_of(state, visit_id, application_id)
    if cancel:
        if held is None:
            return "conflict", f"You hold no place on the visit to {visit.city}."
        return None
    seat = seats.find(state, application_id)
    if seat is None or seat.state != seats.CONFIRMED:
        return "conflict", "Only delegates who have confirmed their seat register for visits."
    return None


def register(
    mission: MissionFile,
    state: MissionState,
    visit_id: str,
    application_id: uuid.UUID,
    now: datetime,
) -> tuple[MissionState, VisitPlace, bool]:
    """A place if one is free, else the end of the waitlist. Registering again changes nothing.

    Returns the state, the delegate's place, and whether anything changed."""
    held = place_of(state, visit_id, application_id)
    if held is not None:
        return state, held, False
    visit = find(mission, visit_id)
    assert visit is not None
    taken = len(holding(state, visit_id, REGISTERED))
    status = REGISTERED if taken < visit.capacity else WAITLISTED
    place = VisitPlace(visit_id=visit_id, application_id=application_id, status=status, at=now)
    return _with_places(state, [*state.visits.places, place]), place, True


def give_up(
    mission: MissionFile,
    state: MissionState,
    visit_id: str,
    application_id: uuid.UUID,
    now: datetime,
) -> tuple[MissionState, list[VisitPlace]]:
    """Give the place up; the first on the waitlist takes a freed place.

    Returns the state and every place that changed (the one given up first)."""
    held = place_of(state, visit_id, application_id)
    if held is None:
        return state, []
    gone = held.model_copy(update={"status": CANCELLED, "at": now})
    places = [gone if p is held else p for p in state.visits.places]
    changes = [gone]
    visit = find(mission, visit_id)
    waiting = [p for p in places if p.visit_id == visit_id and p.status == WAITLISTED]
    if held.status == REGISTERED and waiting and visit is not None and now < visit.starts_at:
        promoted = waiting[0].model_copy(update={"status": REGISTERED, "at": now})
        places = [promoted if p is waiting[0] else p for p in places]
        changes.append(promoted)
    return _with_places(state, places), changes


def leave_all(
    mission: MissionFile, state: MissionState, application_id: uuid.UUID, now: datetime
) -> tuple[MissionState, list[VisitPlace]]:
    """A delegate who withdraws gives up every place of visits still to come."""
    changes: list[VisitPlace] = []
    for visit in mission.visits:
        if now < visit.starts_at:
            state, changed = give_up(mission, state, visit.id, application_id, now)
            changes += changed
    return state, changes


def _with_places(state: MissionState, places: list[VisitPlace]) -> MissionState:
    return state.model_copy(update={"visits": state.visits.model_copy(update={"places": places})})


def change_refusal(
    mission: MissionFile, state: MissionState, change: VisitChangeInput, now: datetime
) -> tuple[str, str, str | None] | None:
    """Why a coordinator's change cannot be made, as (kind, message, field), or None.

    Kinds: `not_found`, `conflict` (the visit or the mission is past changing), `invalid`."""
    visit = find(mission, change.visit_id)
    if visit is None:
        known = ", ".join(v.id for v in mission.visits) or "none"
        return (
            "not_found",
            f"This mission has no visit {change.visit_id!r}; its visits: {known}.",
            None,
        )
    if state.phase in OVER:
        return "conflict", f"The visits are over: the mission is in {state.phase.value}.", None
    if visit.cancelled:
        return "conflict", f"The visit to {visit.city} is cancelled.", None
    if now >= visit.starts_at:
        return (
            "conflict",
            (
                f"The visit to {visit.city} started on {starts_text(visit)}; "
                "it can no longer change."
            ),
            None,
        )
    fields = change.model_dump(exclude_none=True, exclude={"visit_id", "note", "by"})
    if not fields or fields == {"cancelled": False}:
        return (
            "invalid",
            ("Say what changes: starts_at, ends_at, address, meeting_point or cancelled."),
            None,
        )
    for name in ("starts_at", "ends_at"):
        value = fields.get(name)
        if value is not None and value <= now:
            return "invalid", f"{describe(value, visit.timezone)} has already passed.", name
    try:
        changed(mission, change)
    except ValidationError as error:
        first = error.errors()[0]
        tail = first["loc"][-1] if first["loc"] else None
        times = [name for name in ("ends_at", "starts_at") if name in fields]
        where = tail if tail in fields else (times[0] if times else None)
        problem = str(first["msg"]).removeprefix("Value error, ")
        return "invalid", f"This change would break the mission's plan: {problem}.", where
    return None


def changed(mission: MissionFile, change: VisitChangeInput) -> MissionFile:
    """The mission with the visit changed, checked by the mission file's own rules (order of
    the visits, the feedback window before the report).

    Raises:
        ValidationError: the change breaks one of those rules.
    """
    document = mission.model_dump(mode="json")
    for visit in document["visits"]:
        if visit["id"] == change.visit_id:
            visit.update(
                change.model_dump(
                    mode="json", exclude_none=True, exclude={"visit_id", "note", "by"}
                )
            )
    return MissionFile.model_validate(document)
