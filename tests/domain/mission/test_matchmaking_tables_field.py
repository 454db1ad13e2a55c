"""The matchmaking section's `tables` (a number, or named tables and rooms) and `video_link`:
accepted, refused at their field, and the old form unchanged."""

from __future__ import annotations

from typing import Any

import pytest
from mission_file_support import example, mutated, refusal

from missionflow.domain.mission.event_tables import (
    Table,
    place_of,
    table_count,
    table_numbers,
    video_link,
)
from missionflow.domain.mission.file import load_mission

NAMED = [
    {"id": "a1", "name": "Table A1", "location": "Hall B"},
    {"id": "salon-rouge", "name": "Salon rouge"},
]


def test_a_number_of_tables_is_read_as_before() -> None:
    event = example("eu-us-2017.yaml").matchmaking
    assert event is not None
    assert event.tables == 30 and event.video_link is None
    assert table_count(event.tables) == 30
    assert table_numbers(event.tables)["7"] == 7
    assert place_of(event.tables, 7).name == "Table 7"


def test_named_tables_are_numbered_in_their_order() -> None:
    event = load_mission(mutated({"matchmaking.tables": NAMED})).matchmaking
    assert event is not None
    assert event.tables == [Table.model_validate(t) for t in NAMED]
    assert table_count(event.tables) == 2
    assert table_numbers(event.tables) == {"a1": 1, "salon-rouge": 2}
    first, second = place_of(event.tables, 1), place_of(event.tables, 2)
    assert (first.name, first.location) == ("Table A1", "Hall B")
    assert (second.name, second.location) == ("Salon rouge", None)


@pytest.mark.parametrize(
    ("tables", "where", "words"),
    [
        (0, (), "greater than or equal to 1"),
        ("many", (), "valid integer"),
        ([], (), "at least one table"),
        ([{"id": "a1"}], (0, "name"), "required"),
        ([{"id": "A 1", "name": "x"}], (0, "id"), "pattern"),
        ([{"id": "a1", "name": "x", "floor": 2}], (0, "floor"), "not permitted"),
        ([*NAMED, {"id": "a1", "name": "Again"}], (2, "id"), "'a1' is used twice"),
    ],
)
def test_wrong_tables_are_refused_at_their_field(
    tables: Any, where: tuple[Any, ...], words: str
) -> None:
    found = refusal(mutated({"matchmaking.tables": tables}))
    assert list(found) == [("matchmaking", "tables", *where)]
    assert words in found["matchmaking", "tables", *where]


def test_a_video_link_template_is_filled_per_meeting() -> None:
    template = "https://meet.example.org/{mission}-{meeting}"
    event = load_mission(mutated({"matchmaking.video_link": template})).matchmaking
    assert event is not None and event.video_link == template
    assert (
        video_link(template, mission="eu-us", meeting="m1") == "https://meet.example.org/eu-us-m1"
    )


@pytest.mark.parametrize(
    ("link", "words"),
    [
        ("https://meet.example.org/{room}", "unknown placeholder {room}"),
        ("https://meet.example.org/{meeting!r}", "unknown placeholder {meeting}"),
        ("https://meet.example.org/{meeting", "brace"),
        ("meet.example.org/{meeting}", "https://"),
        ("https://meet.example.org/" + "x" * 500, "at most 500"),
    ],
)
def test_a_wrong_video_link_is_refused_at_its_field(link: str, words: str) -> None:
    found = refusal(mutated({"matchmaking.video_link": link}))
    assert list(found) == [("matchmaking", "video_link")]
    assert words in found["matchmaking", "video_link"]
