"""Visit places, reminders and changes as pure rules, and the itinerary's calendar file."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from support import example

from missionflow.domain.instants import describe
from missionflow.domain.mission import lifecycle
from missionflow.domain.mission import status as mission_status
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.mission.phases import Phase
from missionflow.domain.mission.state import MissionState
from missionflow.domain.selection.messages import Seat
from missionflow.domain.visits import itinerary
from missionflow.domain.visits import rules as visits
from missionflow.domain.visits.messages import VisitChangeInput

MISSION = load_mission(example("eu-us-2017"))
BOSTON, PHILADELPHIA, WASHINGTON = MISSION.visits


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def delegate(name: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_DNS, name)


def state_with(
    *confirmed: uuid.UUID, phase: Phase = Phase.MATCHMAKING, mission: MissionFile = MISSION
) -> MissionState:
    state = lifecycle.begin(mission, utc(2017, 2, 1))
    seats = [
        Seat(
            application_id=a,
            country="DE",
            sector="Nanotechnologies",
            rank=i,
            state="confirmed",
            offered_at=utc(2017, 4, 1),
            respond_by=utc(2017, 4, 8),
        )
        for i, a in enumerate(confirmed, start=1)
    ]
    return state.model_copy(
        update={
            "phase": phase,
            "selection": state.selection.model_copy(update={"seats": seats, "locked": True}),
        }
    )


def small(capacity: int) -> MissionFile:
    document = MISSION.model_dump(mode="json")
    document["visits"][0]["capacity"] = capacity
    return MissionFile.model_validate(document)


@pytest.mark.parametrize(
    ("visit", "local_text", "utc_instant"),
    [
        # Boston on Tuesday 16 May 2017: the reminder at 18:00 EDT on Monday is 22:00 UTC.
        (BOSTON, "2017-05-15T18:00:00-04:00", utc(2017, 5, 15, 22)),
        (WASHINGTON, "2017-05-17T18:00:00-04:00", utc(2017, 5, 17, 22)),
    ],
)
def test_reminders_go_out_at_six_the_evening_before_in_the_city(
    visit: object, local_text: str, utc_instant: datetime
) -> None:
    assert isinstance(visit, type(BOSTON))
    at = visits.reminder_at(visit)
    assert at == utc_instant
    assert at.astimezone(ZoneInfo(visit.timezone)).isoformat() == local_text


def test_reminders_follow_each_citys_zone_across_zones() -> None:
    document = MISSION.model_dump(mode="json")
    document["visits"][1].update(timezone="Europe/Berlin", city="Berlin")
    document["visits"][1].update(starts_at="2017-05-17T07:00:00Z", ends_at="2017-05-17T15:00:00Z")
    berlin = MissionFile.model_validate(document).visits[1]
    # 09:00 CEST on the 17th: the reminder is 18:00 CEST on the 16th, 16:00 UTC.
    assert visits.reminder_at(berlin) == utc(2017, 5, 16, 16)


def test_a_reminder_is_due_once_and_not_after_the_visit_started() -> None:
    state = state_with()
    assert visits.reminders_due(MISSION, state, utc(2017, 5, 15, 21, 59, 59)) == []
    assert visits.reminders_due(MISSION, state, utc(2017, 5, 15, 22)) == [BOSTON]
    sent = visits.reminded(state, BOSTON)
    assert visits.reminders_due(MISSION, sent, utc(2017, 5, 15, 23)) == []
    # A worker down through the whole evening and the visit: no late reminder.
    assert visits.reminders_due(MISSION, state, utc(2017, 5, 16, 13, 0)) == []


def test_places_go_by_arrival_then_the_waitlist_and_a_freed_place_is_taken() -> None:
    mission = small(2)
    a, b, c, d = (delegate(n) for n in "abcd")
    state = state_with(a, b, c, d, mission=mission)
    now = utc(2017, 5, 1)
    for who in (a, b, c, d):
        state, place, changed = visits.register(mission, state, "boston", who, now)
        assert changed
    statuses = {p.application_id: p.status for p in state.visits.places}
    assert statuses == {a: "registered", b: "registered", c: "waitlisted", d: "waitlisted"}
    again, place, changed = visits.register(mission, state, "boston", a, now)
    assert not changed and again == state and place.status == "registered"

    state, changes = visits.give_up(mission, state, "boston", b, now)
    assert [(p.application_id, p.status) for p in changes] == [
        (b, "cancelled"),
        (c, "registered"),
    ]
    d_place = visits.place_of(state, "boston", d)
    assert d_place is not None and visits.waitlist_position(state, d_place) == 1


def test_giving_up_a_waitlist_place_promotes_nobody() -> None:
    mission = small(1)
    a, b, c = (delegate(n) for n in "abc")
    state = state_with(a, b, c, mission=mission)
    now = utc(2017, 5, 1)
    for who in (a, b, c):
        state, _, _ = visits.register(mission, state, "boston", who, now)
    state, changes = visits.give_up(mission, state, "boston", b, now)
    assert [(p.application_id, p.status) for p in changes] == [(b, "cancelled")]


@pytest.mark.parametrize(
    ("who", "visit_id", "now", "cancel", "expected"),
    [
        ("a", "nowhere", utc(2017, 5, 1), False, ("not_found", "no visit 'nowhere'")),
        ("stranger", "boston", utc(2017, 5, 1), False, ("conflict", "confirmed their seat")),
        ("a", "boston", utc(2017, 5, 16, 13), False, ("conflict", "closed when it started")),
        ("a", "boston", utc(2017, 5, 1), True, ("conflict", "no place")),
    ],
)
def test_registration_refusals(
    who: str, visit_id: str, now: datetime, cancel: bool, expected: tuple[str, str]
) -> None:
    state = state_with(delegate("a"))
    refusal = visits.registration_refusal(
        MISSION, state, visit_id, delegate(who), now, cancel=cancel
    )
    assert refusal is not None
    assert refusal[0] == expected[0] and expected[1] in refusal[1]


def test_the_registration_closes_to_the_second_in_the_citys_zone() -> None:
    state = state_with(delegate("a"))
    before = utc(2017, 5, 16, 12, 59, 59)  # 08:59:59 EDT
    assert (
        visits.registration_refusal(MISSION, state, "boston", delegate("a"), before, cancel=False)
        is None
    )
    refusal = visits.registration_refusal(
        MISSION, state, "boston", delegate("a"), utc(2017, 5, 16, 13), cancel=False
    )
    assert refusal == (
        "conflict",
        "Registrations for the visit to Boston closed when it started, "
        f"{visits.starts_text(BOSTON)}.",
    )


def test_a_change_keeps_the_mission_plan_whole() -> None:
    state = state_with()
    now = utc(2017, 5, 1)
    moved = VisitChangeInput(visit_id="boston", starts_at=utc(2017, 5, 16, 14))
    assert visits.change_refusal(MISSION, state, moved, now) is None
    assert visits.changed(MISSION, moved).visits[0].starts_at == utc(2017, 5, 16, 14)

    overlapping = VisitChangeInput(visit_id="boston", ends_at=utc(2017, 5, 17, 14))
    kind, message, field = visits.change_refusal(MISSION, state, overlapping, now) or ("", "", "")
    assert kind == "invalid" and "in order" in message and field == "ends_at"

    too_late = VisitChangeInput(visit_id="washington-dc", ends_at=utc(2017, 5, 21, 14))
    kind, message, _ = visits.change_refusal(MISSION, state, too_late, now) or ("", "", "")
    assert kind == "invalid" and "feedback window" in message

    past = VisitChangeInput(visit_id="boston", starts_at=utc(2017, 4, 30))
    assert visits.change_refusal(MISSION, state, past, now) == (
        "invalid",
        f"{describe(utc(2017, 4, 30), BOSTON.timezone)} has already passed.",
        "starts_at",
    )
    nothing = VisitChangeInput(visit_id="boston", note="just a word")
    assert (visits.change_refusal(MISSION, state, nothing, now) or ("",))[0] == "invalid"
    started = VisitChangeInput(visit_id="boston", address="Elsewhere 1")
    assert (visits.change_refusal(MISSION, state, started, utc(2017, 5, 16, 13)) or ("",))[
        0
    ] == "conflict"


def test_a_cancelled_visit_is_named_so_and_sends_no_reminder() -> None:
    cancelled = visits.changed(MISSION, VisitChangeInput(visit_id="philadelphia", cancelled=True))
    state = state_with(mission=cancelled)
    assert visits.reminders_due(cancelled, state, utc(2017, 5, 16, 22, 30)) == []
    labels = [m.label for m in lifecycle.timeline(cancelled, state)]
    assert "visit 2 of 3: Philadelphia (cancelled) starts" in labels


def test_the_itinerary_calendar_holds_every_visit_in_its_own_zone() -> None:
    document = MISSION.model_dump(mode="json")
    document["visits"][1].update(timezone="Europe/Berlin", city="Berlin")
    document["visits"][1].update(starts_at="2017-05-17T07:00:00Z", ends_at="2017-05-17T15:00:00Z")
    mission = MissionFile.model_validate(document)
    data = itinerary.ics(
        mission.id,
        mission.visits,
        organiser_email="anna@example.org",
        domain="example.org",
        sequences={"boston": 2},
        stamp=utc(2017, 4, 14),
    )
    calendar = Calendar.from_ical(data)
    zones = sorted(str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE"))
    assert zones == ["America/New_York", "Europe/Berlin"]
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    boston = events[f"{mission.id}-boston@example.org"]
    assert boston.decoded("DTSTART") == utc(2017, 5, 16, 13)
    assert str(boston["DTSTART"].params["TZID"]) == "America/New_York"
    assert int(boston["SEQUENCE"]) == 2
    berlin = events[f"{mission.id}-philadelphia@example.org"]
    assert str(berlin["DTSTART"].params["TZID"]) == "Europe/Berlin"
    assert berlin.decoded("DTSTART") == utc(2017, 5, 17, 7)
    assert "Photo ID" in str(boston["DESCRIPTION"])


def test_itinerary_rows_show_each_visit_in_its_city() -> None:
    rows = itinerary.rows(MISSION.visits, {"boston": "registered"})
    assert rows[0]["when"] == "Tue 16 May 2017, 09:00–17:00 EDT"
    assert rows[0]["title"] == "Visit 1 of 3: Boston"
    assert rows[0]["status"] == "registered" and rows[1]["status"] == ""


def post_event(phase: Phase) -> MissionState:
    return lifecycle.begin(MISSION, utc(2017, 2, 1)).model_copy(update={"phase": phase})


@pytest.mark.parametrize(
    ("phase", "now", "text"),
    [
        (
            Phase.VISITS,
            utc(2017, 5, 16, 23),
            "Visit 2 of 3: Philadelphia, 17 May 2017 09:00 EDT (13:00 UTC)",
        ),
        (
            Phase.VISITS,
            utc(2017, 5, 16, 21, 30),
            "Visits: Visit 2 of 3: Philadelphia on 17 May 2017 09:00 EDT (13:00 UTC); "
            "its reminder goes out 16 May 2017 18:00 EDT (22:00 UTC)",
        ),
        (
            Phase.REPORTING,
            utc(2017, 5, 19),
            "Reporting: collecting feedback until 21 May 2017 22:00 CEST (20:00 UTC); "
            "the feedback reminder 20 May 2017 22:00 CEST (20:00 UTC)",
        ),
        (
            Phase.FOLLOW_UP,
            utc(2017, 11, 23),
            "Follow-up: answers to the last survey are taken until 22 Dec 2017 12:00 CET "
            "(11:00 UTC)",
        ),
    ],
)
def test_the_temporal_ui_says_what_the_mission_waits_for(
    phase: Phase, now: datetime, text: str
) -> None:
    assert mission_status.waiting_for(MISSION, post_event(phase), now) == text


def test_feedback_and_surveys_plan_their_instants() -> None:
    # Feedback closes P3D after the last visit (Washington, 16:00 EDT on 18 May); the reminder
    # a day before; the last survey (P6M after the report) takes answers for P1M.
    assert MISSION.feedback_closes_at == utc(2017, 5, 21, 20)
    assert lifecycle.feedback_reminder_at(MISSION) == utc(2017, 5, 20, 20)
    follow_up = post_event(Phase.FOLLOW_UP)
    assert lifecycle.phase_ends_at(MISSION, follow_up, Phase.FOLLOW_UP) == utc(2017, 12, 22, 11)
