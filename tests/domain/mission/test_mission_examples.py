"""The example mission files load with their key facts; rehearsals are relative to now; JSON
round trips; instants are read in their mission's zone.
"""

from __future__ import annotations

import csv
from datetime import UTC, datetime, timedelta

import pytest
import yaml
from mission_file_support import EXAMPLES, example, example_data, utc
from pydantic import EmailStr, TypeAdapter, ValidationError

from missionflow.domain.durations import IsoDuration
from missionflow.domain.mission.fields import field_errors
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.mission.yaml_syntax import parse_yaml

NOW = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


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


def test_yaml_numbers_need_a_digit() -> None:
    """Found by fuzzing: `organiser: .` was read as a float and failed with a server error."""
    assert parse_yaml("a: .\nb: -.\nc: .5\nd: 1.\ne: 1_000.25\nf: -.inf\ng: 2.5e3") == {
        "a": ".",
        "b": "-.",
        "c": 0.5,
        "d": 1.0,
        "e": 1000.25,
        "f": float("-inf"),
        "g": 2500.0,
    }


def test_naive_datetimes_are_read_in_their_zone() -> None:
    """A caller passing already-parsed timestamps gets the same reading as for text."""
    data = example_data("eu-us-2017.yaml")
    data["call"]["deadline"] = datetime(2017, 3, 22, 23, 59, 59)
    data["visits"][1]["starts_at"] = datetime(2017, 5, 17, 9, 0)
    m = load_mission(data)
    assert m.call.deadline == utc(2017, 3, 22, 22, 59, 59)
    assert m.visits[1].starts_at == utc(2017, 5, 17, 13, 0)
