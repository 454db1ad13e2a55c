"""The mission file: examples load, every rule refuses at its field, JSON round trips."""

from __future__ import annotations

import copy
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import EmailStr, TypeAdapter, ValidationError

from missionflow.domain.durations import IsoDuration
from missionflow.domain.mission.fields import field_errors
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.mission.replay import replay_today, years_later
from missionflow.domain.mission.selection_section import OrganisationType
from missionflow.domain.mission.yaml_syntax import parse_yaml

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
NOW = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def example_data(name: str) -> dict[str, Any]:
    return parse_yaml((EXAMPLES / name).read_text(encoding="utf-8"))


def example(name: str, **kwargs: Any) -> MissionFile:
    return load_mission(example_data(name), **kwargs)


# --- the examples ----------------------------------------------------------------------------


def test_eu_us_2017_key_facts() -> None:
    m = example("eu-us-2017.yaml")
    assert m.id == "eu-us-2017"
    assert m.workflow_id == "mission-eu-us-2017"
    assert m.timezone == "Europe/Brussels"
    # "By midnight CET on 22 March 2017".
    assert m.call.opens_at == utc(2017, 2, 15, 8, 0)
    assert m.call.deadline == utc(2017, 3, 22, 23, 0)
    assert m.call.reminders == [IsoDuration(days=7), IsoDuration(days=2), IsoDuration(days=1)]
    assert m.call.sectors == [
        "Nanotechnologies",
        "Advanced materials",
        "Biotechnology & medical",
        "Advanced manufacturing and processing",
        "Energy and sustainability",
        "Electronics & microsystems",
        "Personal & home care, cosmetics and foods",
        "Other key enabling technologies",
    ]
    assert m.call.require_slide is True
    assert 6 <= len(m.call.questionnaire) <= 8
    assert {invitee.country for invitee in m.call.invitees} >= {"DE", "FR", "NO"}
    assert (m.selection.capacity, m.selection.max_per_country, m.selection.max_per_sector) == (
        30,
        4,
        6,
    )
    assert m.selection.decision_due == utc(2017, 3, 31, 15, 0)  # 17:00 CEST
    assert m.selection.delegation_lock == utc(2017, 4, 14, 15, 0)
    assert m.selection.confirm_within == IsoDuration(days=7)
    assert m.selection.auto_approve is False

    mm = m.matchmaking
    assert mm is not None
    assert mm.timezone == "America/New_York"
    assert mm.requests_open_at == utc(2017, 4, 18, 13, 0)
    assert mm.requests_deadline == utc(2017, 5, 5, 21, 0)
    assert [(s.start, s.end) for s in mm.sessions] == [
        (utc(2017, 5, 15, 13, 0), utc(2017, 5, 15, 16, 30)),
        (utc(2017, 5, 15, 18, 0), utc(2017, 5, 15, 21, 30)),
    ]
    assert (mm.slot_minutes, mm.tables, mm.max_meetings_per_participant) == (20, 30, 12)

    assert [v.city for v in m.visits] == ["Boston", "Philadelphia", "Washington DC"]
    philadelphia = m.visits[1]
    assert philadelphia.starts_at == utc(2017, 5, 17, 13, 0)  # 09:00 EDT
    assert philadelphia.ends_at == utc(2017, 5, 17, 21, 0)
    assert m.visits[2].ends_at == utc(2017, 5, 18, 20, 0)  # 16:00 EDT
    assert m.event_ends_at == utc(2017, 5, 18, 20, 0)

    assert m.reporting.report_due == utc(2017, 5, 22, 10, 0)  # 12:00 CEST
    assert m.reporting.feedback_within == IsoDuration(days=3)
    assert m.reporting.follow_up == [IsoDuration(months=3), IsoDuration(months=6)]


def test_eu_japan_2016_key_facts() -> None:
    m = example("eu-japan-2016.yaml")
    assert m.id == "eu-japan-2016"
    assert m.selection.capacity == 60
    assert m.selection.max_per_country == 10
    assert utc(2016, 7, 1) <= m.call.deadline <= utc(2016, 7, 10)
    mm = m.matchmaking
    assert mm is not None
    assert mm.timezone == "Asia/Tokyo"
    assert (mm.tables, mm.max_meetings_per_participant) == (40, 8)
    # Japan Standard Time is UTC+9 all year: 09:30 JST is 00:30 UTC the same day.
    assert [(s.start, s.end) for s in mm.sessions] == [
        (utc(2016, 10, 18, 0, 30), utc(2016, 10, 18, 3, 30)),
        (utc(2016, 10, 18, 5, 0), utc(2016, 10, 18, 8, 30)),
        (utc(2016, 10, 19, 0, 30), utc(2016, 10, 19, 3, 30)),
        (utc(2016, 10, 19, 5, 0), utc(2016, 10, 19, 8, 0)),
    ]
    assert [(v.city, v.timezone) for v in m.visits] == [
        ("Osaka", "Asia/Tokyo"),
        ("Yokohama", "Asia/Tokyo"),
    ]
    assert m.visits[0].starts_at == utc(2016, 10, 20, 0, 30)
    assert m.visits[1].starts_at == utc(2016, 10, 21, 1, 0)


def test_eu_japan_2016_hosts_csv() -> None:
    mission = example("eu-japan-2016.yaml")
    assert mission.matchmaking is not None
    sessions = len(mission.matchmaking.sessions)
    with (EXAMPLES / "eu-japan-2016-hosts.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == [
            "name",
            "country",
            "sector",
            "description",
            "contact_name",
            "contact_email",
            "unavailable",
        ]
        rows = list(reader)
    assert len(rows) == 97
    assert len({row["name"].casefold() for row in rows}) == 97
    assert len({row["contact_email"].casefold() for row in rows}) == 97
    email = TypeAdapter(EmailStr)
    for row in rows:
        assert all(row[key].strip() for key in ("name", "description", "contact_name")), row
        assert row["country"] == "JP"
        assert row["sector"] in mission.call.sectors
        assert email.validate_python(row["contact_email"]) == row["contact_email"]
        assert row["contact_email"].endswith("example.jp")
        assert row["unavailable"] == "" or 1 <= int(row["unavailable"]) <= sessions


def test_rehearsal_is_relative_to_now() -> None:
    m = example("rehearsal.yaml", now=NOW, live=True)
    assert m.call.opens_at is None  # opens when the mission starts
    assert m.call.deadline == NOW + timedelta(minutes=2)
    assert m.call.reminders == [IsoDuration(seconds=60), IsoDuration(seconds=30)]
    assert m.selection.decision_due == NOW + timedelta(minutes=3)
    assert m.selection.confirm_within == IsoDuration(seconds=30)
    assert m.selection.delegation_lock == NOW + timedelta(minutes=4)
    assert m.matchmaking is not None
    assert m.matchmaking.requests_open_at == NOW + timedelta(minutes=4)
    assert m.matchmaking.requests_deadline == NOW + timedelta(minutes=5)
    assert [(s.start, s.end) for s in m.matchmaking.sessions] == [
        (NOW + timedelta(minutes=5, seconds=30), NOW + timedelta(minutes=6, seconds=30))
    ]
    assert [(v.timezone, v.starts_at, v.ends_at) for v in m.visits] == [
        ("Europe/Berlin", NOW + timedelta(minutes=7), NOW + timedelta(minutes=7, seconds=30)),
        ("America/New_York", NOW + timedelta(minutes=8), NOW + timedelta(minutes=8, seconds=30)),
    ]
    assert m.reporting.report_due == NOW + timedelta(minutes=9)
    last_survey = max(
        offset.shift(m.reporting.report_due, m.timezone) for offset in m.reporting.follow_up
    )
    assert last_survey == NOW + timedelta(minutes=10)


def test_rehearsal_needs_a_start() -> None:
    with pytest.raises(ValidationError) as caught:
        example("rehearsal.yaml")
    locations = {error["loc"] for error in field_errors(caught.value)}
    assert ("call", "deadline") in locations


def test_rehearsal_started_just_before_a_dst_change() -> None:
    now = utc(2017, 10, 29, 0, 55)  # 02:55 CEST; at 01:00 UTC Brussels falls back to 02:00 CET
    m = example("rehearsal.yaml", now=now)
    assert m.call.deadline == now + timedelta(minutes=2)
    assert m.reporting.report_due == now + timedelta(minutes=9)


@pytest.mark.parametrize("name", ["eu-us-2017.yaml", "eu-japan-2016.yaml", "rehearsal.yaml"])
def test_json_round_trip(name: str) -> None:
    """The model travels to the workflow as JSON and comes back equal."""
    m = example(name, now=NOW)
    text = m.model_dump_json()
    assert MissionFile.model_validate_json(text) == m
    # The dumped document is itself a valid mission file, with nothing relative left in it.
    assert load_mission(m.model_dump(mode="json")) == m


def test_json_dump_is_utc_and_iso_durations() -> None:
    dumped = example("eu-us-2017.yaml").model_dump(mode="json")
    assert dumped["call"]["deadline"] == "2017-03-22T23:00:00Z"
    assert dumped["call"]["reminders"] == ["P7D", "P2D", "P1D"]
    assert dumped["visits"][1]["starts_at"] == "2017-05-17T13:00:00Z"
    assert dumped["reporting"]["follow_up"] == ["P3M", "P6M"]


def test_yaml_timestamps_stay_text() -> None:
    assert yaml.safe_load("d: 2017-03-22T23:59:59")["d"] == datetime(2017, 3, 22, 23, 59, 59)
    assert parse_yaml("d: 2017-03-22T23:59:59")["d"] == "2017-03-22T23:59:59"
    text = (EXAMPLES / "eu-us-2017.yaml").read_text(encoding="utf-8")
    assert "deadline: 2017-03-22T24:00\n" in text
    text = text.replace("deadline: 2017-03-22T24:00\n", "deadline: 2017-03-22T23:59:59\n")
    m = load_mission(parse_yaml(text))
    # Read in the mission's zone (CET, UTC+1), not as UTC nor as a naive timestamp.
    assert m.call.deadline == utc(2017, 3, 22, 22, 59, 59)


def test_naive_datetimes_are_read_in_their_zone() -> None:
    """A caller passing already-parsed timestamps gets the same reading as for text."""
    data = example_data("eu-us-2017.yaml")
    data["call"]["deadline"] = datetime(2017, 3, 22, 23, 59, 59)
    data["visits"][1]["starts_at"] = datetime(2017, 5, 17, 9, 0)
    m = load_mission(data)
    assert m.call.deadline == utc(2017, 3, 22, 22, 59, 59)
    assert m.visits[1].starts_at == utc(2017, 5, 17, 13, 0)


# --- validation: every rule refuses at the field it is about ---------------------------------

DELETE = object()


def mutated(changes: dict[str, Any], name: str = "eu-us-2017.yaml") -> dict[str, Any]:
    """The example with `changes` applied; keys are dotted paths (`visits.1.timezone`)."""
    data = copy.deepcopy(example_data(name))
    for path, value in changes.items():
        *parents, last = (int(p) if p.isdigit() else p for p in path.split("."))
        target = data
        for part in parents:
            target = target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return data


def refusal(data: dict[str, Any], **kwargs: Any) -> dict[tuple[Any, ...], str]:
    """Load `data`, expect a refusal, and return its messages by field location."""
    with pytest.raises(ValidationError) as caught:
        load_mission(data, **kwargs)
    errors = field_errors(caught.value)
    assert errors
    for error in errors:
        assert error["loc"], f"error not located at a field: {error}"
        assert "input" not in error
        assert not error["msg"].startswith("Value error")
    return {error["loc"]: error["msg"] for error in errors}


SECTORS = example_data("eu-us-2017.yaml")["call"]["sectors"]

REFUSALS = [
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
        {"selection.min_per_country": 5},
        ("selection", "min_per_country"),
        "cannot exceed the maximum per country",
        id="min-above-max-per-country",
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
        {"selection.capacity": 0},
        ("selection", "capacity"),
        "greater than or equal to 1",
        id="capacity-zero",
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
        {"visits.2.id": "boston"},
        ("visits",),
        "visit ids must be distinct",
        id="duplicate-visit-ids",
    ),
    pytest.param(
        {"call.questionnaire.1.id": "member_organisations"},
        ("call", "questionnaire"),
        "question ids must be distinct",
        id="duplicate-question-ids",
    ),
    pytest.param(
        {"call.sectors": [*SECTORS, "nanotechnologies"]},
        ("call", "sectors"),
        "sectors must be distinct",
        id="duplicate-sectors",
    ),
    pytest.param(
        {"call.sectors": []},
        ("call", "sectors"),
        "at least 1 item",
        id="no-sectors",
    ),
    pytest.param(
        {"call.questionnaire.3.choices": DELETE},
        ("call", "questionnaire", 3),
        "a choice question needs a non-empty list of choices",
        id="choice-without-choices",
    ),
    pytest.param(
        {"call.questionnaire.0.choices": ["1-10", "more"]},
        ("call", "questionnaire", 0),
        "only choice questions have choices, not integer ones",
        id="choices-on-integer-question",
    ),
    pytest.param(
        {"call.questionnaire.0.id": "Member Organisations"},
        ("call", "questionnaire", 0, "id"),
        "should match pattern",
        id="bad-question-id",
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
    pytest.param(
        {"coordinators.1.email": "marco.bellini(at)example.org"},
        ("coordinators", 1, "email"),
        "not a valid email address",
        id="bad-coordinator-email",
    ),
    pytest.param(
        {"call.invitees.0.email": "k.vogel@"},
        ("call", "invitees", 0, "email"),
        "not a valid email address",
        id="bad-invitee-email",
    ),
    pytest.param(
        {"call.invitees.0.country": "Germany"},
        ("call", "invitees", 0, "country"),
        "should match pattern",
        id="bad-country-code",
    ),
    pytest.param(
        {"coordinators": []},
        ("coordinators",),
        "at least 1 item",
        id="no-coordinators",
    ),
    pytest.param(
        {"id": "EU US 2017"},
        ("id",),
        "should match pattern",
        id="bad-slug-id",
    ),
    pytest.param(
        {"id": "eu-us-2017-"},
        ("id",),
        "should match pattern",
        id="slug-trailing-hyphen",
    ),
    pytest.param(
        {"visits.0.id": "Boston"},
        ("visits", 0, "id"),
        "should match pattern",
        id="bad-visit-id",
    ),
    pytest.param(
        {"reporting": DELETE},
        ("reporting",),
        "Field required",
        id="missing-section",
    ),
    pytest.param(
        {"selection.waitlist_size": -1},
        ("selection", "waitlist_size"),
        "greater than or equal to 0",
        id="negative-waitlist",
    ),
    pytest.param(
        {"selection.other_opportunities.0.url": "japan-2018"},
        ("selection", "other_opportunities", 0, "url"),
        "valid URL",
        id="opportunity-without-url",
    ),
    pytest.param(
        {"selection.other_opportunities.1.title": ""},
        ("selection", "other_opportunities", 1, "title"),
        "at least 1 character",
        id="opportunity-without-title",
    ),
    pytest.param(
        {"selection.rubric.weights.luck": 0.1},
        ("selection", "rubric", "weights", "luck"),
        "Extra inputs are not permitted",
        id="unknown-criterion",
    ),
    pytest.param(
        {"selection.rubric.scoring": {}},
        ("selection", "rubric", "scoring"),
        "Extra inputs are not permitted",
        id="unknown-rubric-key",
    ),
    pytest.param(
        {"selection.rubric.weights.sector_fit": -0.3},
        ("selection", "rubric", "weights", "sector_fit"),
        "greater than or equal to 0",
        id="negative-weight",
    ),
    pytest.param(
        {"selection.rubric.weights": {"completeness": 0, "sector_fit": 0}},
        ("selection", "rubric", "weights"),
        "at least one criterion must weigh more than zero",
        id="all-weights-zero",
    ),
    pytest.param(
        {"selection.rubric.weights": {"questionnaire": 1}, "selection.rubric.questions": {}},
        ("selection", "rubric", "weights"),
        "only the questionnaire weighs anything, but no question is scored",
        id="only-an-unscored-questionnaire-weighs",
    ),
    pytest.param(
        {"selection.rubric.sector_points.Nanotechnologies": 1.5},
        ("selection", "rubric", "sector_points", "Nanotechnologies"),
        "less than or equal to 1",
        id="sector-points-above-one",
    ),
    pytest.param(
        {"selection.rubric.sector_points.Robotics": 0.5},
        ("selection", "rubric", "sector_points", "Robotics"),
        "not a sector of this call; choose from: Nanotechnologies, Advanced materials",
        id="sector-points-for-unknown-sector",
    ),
    pytest.param(
        {"selection.rubric.organisation_types.bank": 0.5},
        ("selection", "rubric", "organisation_types", "bank", "[key]"),
        "Input should be 'cluster_organisation', 'sme', 'university_or_research' or 'other'",
        id="unknown-organisation-type",
    ),
    pytest.param(
        {"selection.rubric.organisation_types.sme": -0.1},
        ("selection", "rubric", "organisation_types", "sme"),
        "greater than or equal to 0",
        id="negative-organisation-points",
    ),
    pytest.param(
        {"selection.rubric.questions.turnover": {"max": 10}},
        ("selection", "rubric", "questions", "turnover"),
        "the call's questionnaire has no question with this id",
        id="scored-question-not-in-call",
    ),
    pytest.param(
        {"selection.rubric.questions.member_organisations": {"min": 10}},
        ("selection", "rubric", "questions", "member_organisations"),
        "give max (and optionally min) for an integer question, or points",
        id="range-without-max",
    ),
    pytest.param(
        {"selection.rubric.questions.member_organisations": {"min": 10, "max": 10}},
        ("selection", "rubric", "questions", "member_organisations", "max"),
        "max must be greater than min",
        id="empty-range",
    ),
    pytest.param(
        {"selection.rubric.questions.member_organisations": {"max": 10, "points": {"a": 1}}},
        ("selection", "rubric", "questions", "member_organisations"),
        "either by a range (min, max) or by points",
        id="range-and-points",
    ),
    pytest.param(
        {"selection.rubric.questions.member_organisations": {"points": {"200": 1}}},
        ("selection", "rubric", "questions", "member_organisations"),
        "an integer question is scored by a range (min, max), not by points",
        id="points-on-integer-question",
    ),
    pytest.param(
        {"selection.rubric.questions.management_label": {"max": 3}},
        ("selection", "rubric", "questions", "management_label"),
        "a choice question is scored by points per choice, not by a range",
        id="range-on-choice-question",
    ),
    pytest.param(
        {"selection.rubric.questions.us_partnerships": {"points": {"true": 1}}},
        ("selection", "rubric", "questions", "us_partnerships"),
        "only integer and choice questions can be scored, not boolean ones",
        id="boolean-question-scored",
    ),
    pytest.param(
        {"selection.rubric.questions.management_label.points": {"Gold": 1, "Platinum": 1}},
        ("selection", "rubric", "questions", "management_label", "points", "Platinum"),
        "not a choice of this question; choose from: Gold, Silver, Bronze, None",
        id="points-for-unknown-choice",
    ),
    pytest.param(
        {"selection.rubric.questions.management_label.points": {"Gold": 2}},
        ("selection", "rubric", "questions", "management_label", "points", "Gold"),
        "less than or equal to 1",
        id="choice-points-above-one",
    ),
    pytest.param(
        {"selection.rubric.questions.management_label.points": {}},
        ("selection", "rubric", "questions", "management_label", "points"),
        "give the points of at least one choice",
        id="choice-without-points",
    ),
]


@pytest.mark.parametrize(("changes", "loc", "message"), REFUSALS)
def test_refused_at_the_field(changes: dict[str, Any], loc: tuple[Any, ...], message: str) -> None:
    messages = refusal(mutated(changes))
    assert loc in messages, f"expected an error at {loc}, got {messages}"
    assert message in messages[loc]


def test_unknown_zone_also_reports_the_instants_it_leaves_unreadable() -> None:
    messages = refusal(mutated({"visits.1.timezone": "US/Philadelphia"}))
    assert "its time zone is not valid" in messages[("visits", 1, "starts_at")]
    assert "its time zone is not valid" in messages[("visits", 1, "ends_at")]


def test_misspelt_key_is_refused_not_dropped() -> None:
    data = mutated({"call.deadline": DELETE})
    data["call"]["dealine"] = "2017-03-22T24:00"
    messages = refusal(data)
    assert messages[("call", "dealine")] == "Extra inputs are not permitted"
    assert messages[("call", "deadline")] == "Field required"


def test_unknown_top_level_key_is_refused() -> None:
    messages = refusal(mutated({"visit": []}))
    assert messages == {("visit",): "Extra inputs are not permitted"}


def test_unquoted_norway_stays_norway() -> None:
    """YAML 1.1 reads an unquoted NO as false; the mission loader keeps it as the country code."""
    text = (EXAMPLES / "eu-us-2017.yaml").read_text(encoding="utf-8")
    assert 'country: "NO"' in text
    mission = load_mission(parse_yaml(text.replace('country: "NO"', "country: NO")))
    assert mission.call.invitees[5].country == "NO"


@pytest.mark.parametrize(
    ("now", "live", "refused"),
    [
        (utc(2017, 3, 23, 0, 0), True, True),
        (utc(2017, 3, 22, 23, 0), True, True),  # the very moment of the deadline
        (utc(2017, 3, 22, 22, 59), True, False),
        (utc(2017, 3, 23, 0, 0), False, False),  # replaying or simulating a past mission
        (None, True, False),
    ],
)
def test_past_deadline_refused_only_when_live(
    now: datetime | None, live: bool, refused: bool
) -> None:
    data = example_data("eu-us-2017.yaml")
    if refused:
        messages = refusal(data, now=now, live=live)
        assert messages == {("call", "deadline"): messages[("call", "deadline")]}
        assert "the deadline has already passed" in messages[("call", "deadline")]
    else:
        assert load_mission(data, now=now, live=live).call.deadline == utc(2017, 3, 22, 23, 0)


def test_field_errors_are_json_ready() -> None:
    import json

    with pytest.raises(ValidationError) as caught:
        load_mission(mutated({"call.questionnaire.3.choices": DELETE, "timezone": "Mars/Base"}))
    errors = field_errors(caught.value)
    json.dumps(errors)  # no exception objects, no datetimes left in the body
    assert {error["loc"] for error in errors} >= {("call", "questionnaire", 3), ("timezone",)}


def test_explicit_offsets_win_over_the_zone() -> None:
    m = load_mission(
        mutated(
            {
                "call.deadline": "2017-03-22T23:00Z",
                "visits.1.starts_at": "2017-05-17T15:00+02:00",
            }
        )
    )
    assert m.call.deadline == utc(2017, 3, 22, 23, 0)
    assert m.visits[1].starts_at == utc(2017, 5, 17, 13, 0)


def test_years_later_keeps_wall_times_in_their_zones() -> None:
    mission = load_mission(example_data("eu-us-2017.yaml"))
    later = years_later(mission, 10)
    assert later.call.deadline == utc(2027, 3, 22, 23, 0)  # still 24:00 CET
    assert later.selection.decision_due == utc(2027, 3, 31, 15, 0)  # still 17:00 CEST
    assert later.visits[1].starts_at == utc(2027, 5, 17, 13, 0)  # still 09:00 EDT
    assert later.reporting.follow_up == mission.reporting.follow_up


def test_replay_today_picks_the_fewest_years_that_reopen_the_call() -> None:
    mission = load_mission(example_data("eu-us-2017.yaml"))
    replayed, years = replay_today(mission, utc(2026, 11, 23, 12, 0))
    assert years == 10 and replayed.call.deadline == utc(2027, 3, 22, 23, 0)
    same, none = replay_today(replayed, utc(2026, 11, 23, 12, 0))
    assert none == 0 and same == replayed
    just_before, years = replay_today(mission, utc(2027, 3, 22, 22, 59, 59))
    assert years == 10 and just_before.call.deadline == utc(2027, 3, 22, 23, 0)
    _, years = replay_today(mission, utc(2027, 3, 22, 23, 0))
    assert years == 11


# --- the selection rubric ----------------------------------------------------------------------


def test_eu_us_2017_rubric() -> None:
    selection = example("eu-us-2017.yaml").selection
    rubric = selection.rubric
    assert rubric.weights.model_dump() == {
        "completeness": 0.3,
        "sector_fit": 0.3,
        "questionnaire": 0.25,
        "organisation_type": 0.15,
    }
    assert set(rubric.sector_points) == set(SECTORS)
    assert rubric.sector_points["Personal & home care, cosmetics and foods"] == 0.5
    # The 2017 call was for cluster organisations.
    assert (
        max(rubric.organisation_types.values())
        == rubric.organisation_types[OrganisationType.CLUSTER]
    )
    assert rubric.questions["member_organisations"].model_dump() == {
        "min": 0,
        "max": 200,
        "points": None,
    }
    assert rubric.questions["management_label"].points == {
        "Gold": 1.0,
        "Silver": 0.6,
        "Bronze": 0.3,
        "None": 0.0,
    }
    assert (selection.waitlist_size, selection.waitlist_places) == (10, 10)
    assert [str(o.url) for o in selection.other_opportunities] == [
        "https://example.org/missions/eu-japan-2018",
        "https://example.org/ecccp/matchmaking",
    ]


def test_rubric_of_weights_only_still_loads() -> None:
    """Missions started before the typed rubric hold exactly this shape in their history."""
    weights = {
        "completeness": 0.3,
        "sector_fit": 0.3,
        "questionnaire": 0.2,
        "organisation_type": 0.2,
    }
    data = mutated({"selection.rubric": {"weights": weights}})
    rubric = load_mission(data).selection.rubric
    assert rubric.weights.model_dump() == weights
    assert (rubric.sector_points, rubric.organisation_types, rubric.questions) == ({}, {}, {})


def test_weights_left_out_count_for_nothing_and_no_weights_means_equal() -> None:
    partial = load_mission(mutated({"selection.rubric": {"weights": {"completeness": 2}}}))
    assert partial.selection.rubric.weights.model_dump() == {
        "completeness": 2.0,
        "sector_fit": 0.0,
        "questionnaire": 0.0,
        "organisation_type": 0.0,
    }
    for rubric in ({}, DELETE):
        equal = load_mission(mutated({"selection.rubric": rubric}))
        assert set(equal.selection.rubric.weights.model_dump().values()) == {0.25}


def test_waitlist_defaults_to_capacity() -> None:
    selection = load_mission(mutated({"selection.waitlist_size": DELETE})).selection
    assert (selection.waitlist_size, selection.waitlist_places) == (None, 30)
    assert load_mission(mutated({"selection.waitlist_size": 0})).selection.waitlist_places == 0


def test_refusal_names_a_sector_and_a_choice_that_contain_dots() -> None:
    messages = refusal(mutated({"selection.rubric.sector_points": {"Nano. tech": 0.5}}))
    assert ("selection", "rubric", "sector_points", "Nano. tech") in messages
    data = mutated({"call.questionnaire.3.choices": ["Gold", "Silver", "v2.0"]})
    data["selection"]["rubric"]["questions"]["management_label"]["points"] = {"v2.1": 1}
    messages = refusal(data)
    assert ("selection", "rubric", "questions", "management_label", "points", "v2.1") in messages
