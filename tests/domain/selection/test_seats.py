"""Seat offers, answers, releases and promotions from the waitlist, without Temporal."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from support import rehearsal

from missionflow.domain.mission import lifecycle
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.mission.phases import Phase
from missionflow.domain.mission.state import MissionState
from missionflow.domain.selection import seats
from missionflow.domain.selection.messages import SelectionEntry
from missionflow.domain.selection.review import approved

NOW = datetime(2030, 3, 1, 9, 0, tzinfo=UTC)


def mission(**selection: object) -> MissionFile:
    document = rehearsal(matchmaking=None, visits=[])
    document["call"].update(deadline="+P1D", reminders=[])
    document["selection"].update(
        capacity=2,
        max_per_country=1,
        decision_due="+P2D",
        delegation_lock="+P20D",
        confirm_within="P5D",
    )
    document["selection"].update(selection)
    document["reporting"].update(report_due="+P30D", follow_up=[])
    return load_mission(document, now=NOW)


def entry(name: str, country: str, rank: int, decision: str) -> SelectionEntry:
    return SelectionEntry(
        application_id=uuid.uuid5(uuid.NAMESPACE_DNS, name),
        country=country,
        sector="Advanced materials",
        rank=rank,
        score=100 - rank,
        decision=decision,
    )


A, B, C, D = (
    entry("a", "DE", 1, "selected"),
    entry("b", "DE", 2, "waitlisted"),
    entry("c", "FR", 3, "selected"),
    entry("d", "IT", 4, "waitlisted"),
)


def approved_state(m: MissionFile, entries: list[SelectionEntry], at: datetime) -> MissionState:
    state = approved(lifecycle.begin(m, NOW), entries, "Ana", at)
    state = state.model_copy(update={"phase": Phase.CONFIRMATION})
    return seats.offer_selected(m, state, at)


def test_the_selected_are_offered_a_window_and_the_waitlist_waits_by_rank() -> None:
    m = mission()
    at = m.selection.decision_due
    state = approved_state(m, [D, C, B, A], at)
    assert [(s.application_id, s.state) for s in state.selection.seats] == [
        (C.application_id, "offered"),
        (A.application_id, "offered"),
    ]
    assert all(s.respond_by == at + timedelta(days=5) for s in state.selection.seats)
    assert [e.application_id for e in state.selection.waitlist] == [
        B.application_id,
        D.application_id,
    ]


def test_a_released_seat_goes_to_the_first_waitlisted_who_keeps_the_quotas() -> None:
    m = mission()
    at = m.selection.decision_due
    state = approved_state(m, [A, B, C, D], at)
    later = at + timedelta(hours=3)
    state = seats.released(state, C.application_id, "declined", later)
    state, promoted = seats.promote(m, state, later)
    # B ranks higher but Germany already holds its one seat (A): D, from Italy, moves up.
    assert [s.application_id for s in promoted] == [D.application_id]
    assert promoted[0].respond_by == later + timedelta(days=5)
    assert [e.application_id for e in state.selection.waitlist] == [B.application_id]

    state = seats.released(state, A.application_id, "declined", later)
    state, promoted = seats.promote(m, state, later)
    assert [s.application_id for s in promoted] == [B.application_id]
    assert state.selection.waitlist == []
    assert len(seats.held(state)) == 2


def test_windows_end_at_the_lock_and_promotions_stop_there() -> None:
    m = mission()
    at = m.selection.delegation_lock - timedelta(days=2)
    state = approved_state(m, [A, B, C, D], m.selection.decision_due)
    state = seats.released(state, C.application_id, "declined", at)
    state, promoted = seats.promote(m, state, at)
    assert promoted[0].respond_by == m.selection.delegation_lock  # not at + 5 days
    state = seats.released(state, D.application_id, "declined", m.selection.delegation_lock)
    state, promoted = seats.promote(m, state, m.selection.delegation_lock)
    assert promoted == []


def test_a_late_approval_moves_the_lock_to_give_a_whole_window() -> None:
    m = mission()
    late = m.selection.delegation_lock - timedelta(days=1)
    state = approved_state(m, [A, C], late)
    assert seats.lock_at(m, state) == late + timedelta(days=5)
    assert all(s.respond_by == late + timedelta(days=5) for s in state.selection.seats)


def test_reminders_a_day_before_and_expiry_at_the_window_end() -> None:
    m = mission()
    at = m.selection.decision_due
    state = approved_state(m, [A, C], at)
    end = at + timedelta(days=5)
    assert seats.due(state, end - timedelta(days=1, seconds=1)) == ([], [])
    remind, expired = seats.due(state, end - timedelta(days=1))
    assert len(remind) == 2 and expired == []
    state = seats.reminded(state, [s.application_id for s in remind])
    assert seats.next_seat_instant(state) == end
    remind, expired = seats.due(state, end)
    assert remind == [] and len(expired) == 2


def test_a_short_window_is_reminded_half_way() -> None:
    m = mission(confirm_within="PT30S")
    at = m.selection.decision_due
    state = approved_state(m, [A], at)
    assert seats.reminder_at(state.selection.seats[0]) == at + timedelta(seconds=15)


def test_answers_that_cannot_be_taken_say_why() -> None:
    m = mission()
    at = m.selection.decision_due
    state = approved_state(m, [A, B, C], at)
    refusal = seats.answer_refusal
    assert (
        refusal(state, B.application_id, accept=True, now=at)
        == "This application has no seat offer."
    )
    state = seats.confirmed(state, A.application_id, at)
    assert (
        refusal(state, A.application_id, accept=True, now=at) == "This seat is already confirmed."
    )
    assert refusal(state, A.application_id, accept=False, now=at) is None  # may still decline
    state = seats.released(state, A.application_id, "declined", at)
    assert (
        refusal(state, A.application_id, accept=True, now=at)
        == "This seat was released (declined)."
    )
    late = at + timedelta(days=5)
    assert "passed" in (refusal(state, C.application_id, accept=True, now=late) or "")
    selection = state.model_copy(update={"phase": Phase.SELECTION})
    assert "confirmation phase" in (refusal(selection, C.application_id, accept=True, now=at) or "")


@settings(max_examples=60, deadline=None)
@given(
    countries=st.lists(st.sampled_from(["DE", "FR", "IT"]), min_size=2, max_size=9),
    releases=st.lists(st.integers(min_value=0, max_value=8), max_size=12),
)
def test_promotions_never_break_capacity_or_quotas(
    countries: list[str], releases: list[int]
) -> None:
    m = mission(capacity=3, max_per_country=2)
    entries = [
        entry(f"e{n}", country, n + 1, "selected" if n < 2 else "waitlisted")
        for n, country in enumerate(countries)
    ]
    at = m.selection.decision_due
    state = approved_state(m, entries, at)
    offered = {s.application_id for s in state.selection.seats}
    for step, index in enumerate(releases):
        now = at + timedelta(hours=step)
        target = entries[index % len(entries)].application_id
        state = seats.released(state, target, "declined", now)
        state, promoted = seats.promote(m, state, now)
        for seat in promoted:
            assert seat.application_id not in offered  # nobody is offered twice
            offered.add(seat.application_id)
        held = seats.held(state)
        assert len(held) <= 3
        per_country: dict[str, int] = {}
        for seat in held:
            per_country[seat.country] = per_country.get(seat.country, 0) + 1
        assert max(per_country.values(), default=0) <= 2
