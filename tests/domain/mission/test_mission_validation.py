"""Validation: every rule refuses at the field it is about, a misspelt key is refused, a past
deadline only when live; explicit offsets win over the zone; replays keep wall times.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from mission_file_support import DELETE, EXAMPLES, example_data, mutated, refusal, utc
from pydantic import ValidationError
from time_refusals import TIME_REFUSALS
from value_refusals import VALUE_REFUSALS

from missionflow.domain.mission.fields import field_errors
from missionflow.domain.mission.file import load_mission
from missionflow.domain.mission.replay import replay_today, years_later
from missionflow.domain.mission.yaml_syntax import parse_yaml

REFUSALS = [*TIME_REFUSALS, *VALUE_REFUSALS]


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
