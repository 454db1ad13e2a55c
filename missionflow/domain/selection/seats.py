"""Seats in the delegation after approval: offers, answers, releases and the waitlist, as pure
functions on the mission state.

Every change happens in the workflow, one Update or timer at a time, so two declines in the same
second release two seats and promote two different applicants, and a confirmation racing a
withdrawal ends in whichever came first, never in both.

- Each selected applicant is offered a seat with a window of `selection.confirm_within`, cut
  short by the delegation's lock; a reminder goes out a day before the window ends (half the
  window when it is shorter than two days).
- A decline, a withdrawal, or silence past the window releases the seat. Each released seat
  goes to the first waitlisted applicant, by rank, whose country and sector keep the hard
  quotas; promotions chain until the delegation is full or nobody on the waitlist fits, and
  stop at the lock. At the lock, offers still unanswered are released: the delegation is the
  confirmed seats.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta

from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.domain.mission.state import MissionState
from missionflow.domain.selection.messages import Seat, SelectionEntry

OFFERED, CONFIRMED, RELEASED = "offered", "confirmed", "released"
REMINDER_LEAD = timedelta(days=1)


def lock_at(mission: MissionFile, state: MissionState) -> datetime:
    """The delegation locks at its instant, or later when the approval came so late that a
    whole confirmation window would not fit before it."""
    approved_at = state.selection.approved_at
    assert approved_at is not None
    window_end = mission.selection.confirm_within.shift(approved_at, mission.timezone)
    return max(mission.selection.delegation_lock, window_end)


def offer(mission: MissionFile, state: MissionState, entry: SelectionEntry, now: datetime) -> Seat:
    window_end = mission.selection.confirm_within.shift(now, mission.timezone)
    return Seat(
        application_id=entry.application_id,
        country=entry.country,
        sector=entry.sector,
        rank=entry.rank,
        state=OFFERED,
        offered_at=now,
        respond_by=min(window_end, lock_at(mission, state)),
    )


def offer_selected(mission: MissionFile, state: MissionState, now: datetime) -> MissionState:
    """At approval: a seat for each selected applicant; the waitlisted wait in rank order."""
    entries = state.selection.entries
    seats = [offer(mission, state, e, now) for e in entries if e.decision == "selected"]
    waitlist = sorted((e for e in entries if e.decision == "waitlisted"), key=lambda e: e.rank)
    return _with(state, seats=seats, waitlist=waitlist)


def reminder_at(seat: Seat) -> datetime:
    window = seat.respond_by - seat.offered_at
    return seat.respond_by - min(REMINDER_LEAD, window / 2)


def answer_refusal(
    state: MissionState, application_id: uuid.UUID, *, accept: bool, now: datetime
) -> str | None:
    """Why a seat answer cannot be taken now, or None."""
    if state.phase is not Phase.CONFIRMATION or state.selection.approved_at is None:
        phase = state.phase.value
        return f"Seats are answered during the confirmation phase; the mission is in {phase}."
    seat = find(state, application_id)
    if seat is None:
        return "This application has no seat offer."
    if seat.state == RELEASED:
        return f"This seat was released ({seat.released_because})."
    if accept and seat.state == CONFIRMED:
        return "This seat is already confirmed."
    if seat.state == OFFERED and now >= seat.respond_by:
        return "The time to answer this seat offer has passed."
    return None


def confirmed(state: MissionState, application_id: uuid.UUID, now: datetime) -> MissionState:
    return _change(state, application_id, state=CONFIRMED, answered_at=now)


def released(
    state: MissionState, application_id: uuid.UUID, because: str, now: datetime
) -> MissionState:
    """The seat goes back to the delegation; a withdrawn waitlisted applicant leaves the list."""
    waitlist = [e for e in state.selection.waitlist if e.application_id != application_id]
    state = _with(state, waitlist=waitlist)
    seat = find(state, application_id)
    if seat is None or seat.state == RELEASED:
        return state
    return _change(state, application_id, state=RELEASED, released_because=because, answered_at=now)


def promote(
    mission: MissionFile, state: MissionState, now: datetime
) -> tuple[MissionState, list[Seat]]:
    """Offer free seats to the waitlist, first by rank among those who keep the quotas."""
    if now >= lock_at(mission, state):
        return state, []
    promoted: list[Seat] = []
    rules = mission.selection
    while len(held(state)) < rules.capacity:
        active = held(state)
        countries = Counter(seat.country for seat in active)
        sectors = Counter(seat.sector for seat in active)
        fitting = next(
            (
                entry
                for entry in state.selection.waitlist
                if (
                    rules.max_per_country is None
                    or countries[entry.country] < rules.max_per_country
                )
                and (rules.max_per_sector is None or sectors[entry.sector] < rules.max_per_sector)
            ),
            None,
        )
        if fitting is None:
            break
        seat = offer(mission, state, fitting, now)
        waitlist = [
            e for e in state.selection.waitlist if e.application_id != fitting.application_id
        ]
        state = _with(state, seats=[*state.selection.seats, seat], waitlist=waitlist)
        promoted.append(seat)
    return state, promoted


def due(state: MissionState, now: datetime) -> tuple[list[Seat], list[Seat]]:
    """Offers whose reminder is due, and offers whose window has ended."""
    offered = [seat for seat in state.selection.seats if seat.state == OFFERED]
    expired = [seat for seat in offered if now >= seat.respond_by]
    remind = [
        seat
        for seat in offered
        if not seat.reminded and now >= reminder_at(seat) and seat not in expired
    ]
    return remind, expired


def reminded(state: MissionState, application_ids: Iterable[uuid.UUID]) -> MissionState:
    for application_id in application_ids:
        state = _change(state, application_id, reminded=True)
    return state


def next_seat_instant(state: MissionState) -> datetime | None:
    """The earliest reminder or window end among the offers still open."""
    instants = [
        seat.respond_by if seat.reminded else reminder_at(seat)
        for seat in state.selection.seats
        if seat.state == OFFERED
    ]
    return min(instants, default=None)


def held(state: MissionState) -> list[Seat]:
    return [seat for seat in state.selection.seats if seat.state != RELEASED]


def find(state: MissionState, application_id: uuid.UUID) -> Seat | None:
    return next((s for s in state.selection.seats if s.application_id == application_id), None)


def _change(
    mission_state: MissionState, application_id: uuid.UUID, **changes: object
) -> MissionState:
    seats = [
        seat.model_copy(update=changes) if seat.application_id == application_id else seat
        for seat in mission_state.selection.seats
    ]
    return _with(mission_state, seats=seats)


def _with(state: MissionState, **changes: object) -> MissionState:
    return state.model_copy(update={"selection": state.selection.model_copy(update=changes)})
