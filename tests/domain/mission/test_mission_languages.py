"""A mission file's languages and its texts written in several of them."""

from __future__ import annotations

from typing import Any

import pytest
from mission_file_support import example, example_data, mutated, refusal

from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.mission.languages import Localized, localized

FRENCH_QUESTION = "Combien d'organisations membres votre cluster compte-t-il ?"


def multilingual() -> dict[str, Any]:
    data = mutated(
        {
            "languages": ["en", "fr", "de"],
            "title": {
                "en": "High-level EU Cluster Mission to the USA",
                "fr": "Mission de clusters européens de haut niveau aux États-Unis",
                "de": "Hochrangige EU-Clustermission in die USA",
            },
            "call.questionnaire.0.text": {
                "en": "How many member organisations does your cluster have?",
                "fr": FRENCH_QUESTION,
            },
            "call.questionnaire.3.choices": [
                {"en": "Gold", "fr": "Or", "de": "Gold"},
                {"en": "Silver", "fr": "Argent", "de": "Silber"},
                "Bronze",
                {"en": "None", "fr": "Aucun", "de": "Keines"},
            ],
        }
    )
    return data


def test_a_file_without_languages_speaks_english_as_before() -> None:
    mission = example("eu-us-2017.yaml")
    assert mission.languages == ["en"]
    assert mission.title == example_data("eu-us-2017.yaml")["title"]
    # Plain strings are stored as they were written: old missions are carried unchanged.
    dumped = mission.model_dump(mode="json")
    assert dumped["title"] == mission.title
    assert dumped["call"]["questionnaire"][0]["text"] == mission.call.questionnaire[0].text


def test_texts_in_each_language_with_the_default_as_the_value() -> None:
    mission = load_mission(multilingual())
    question = mission.call.questionnaire[0]
    assert question.text == "How many member organisations does your cluster have?"
    assert localized(question.text, "fr") == FRENCH_QUESTION
    assert localized(question.text, "de") == question.text  # not written in German: the default
    choices = mission.call.questionnaire[3].choices or []
    assert choices == ["Gold", "Silver", "Bronze", "None"]  # scored by the default text
    assert [localized(c, "de") for c in choices] == ["Gold", "Silber", "Bronze", "Keines"]
    assert localized(mission.title, "fr").startswith("Mission de clusters")


def test_the_map_survives_storage_and_temporal() -> None:
    mission = load_mission(multilingual())
    again = MissionFile.model_validate(mission.model_dump(mode="json"))
    assert isinstance(again.title, Localized)
    assert again.title.translations == mission.title.translations
    assert localized(again.call.questionnaire[0].text, "fr") == FRENCH_QUESTION


def test_a_map_whose_default_is_not_first_still_means_the_default() -> None:
    data = multilingual()
    data["title"] = {"fr": "Mission aux États-Unis", "en": "Mission to the USA"}
    assert load_mission(data).title == "Mission to the USA"


def test_visit_texts_in_each_language() -> None:
    data = multilingual()
    data["visits"][0]["meeting_point"] = {"en": "Hotel lobby", "fr": "Hall de l'hôtel"}
    mission = load_mission(data)
    assert mission.visits[0].meeting_point == "Hotel lobby"
    assert localized(mission.visits[0].meeting_point, "fr") == "Hall de l'hôtel"


@pytest.mark.parametrize(
    ("changes", "loc", "message"),
    [
        (
            {"call.questionnaire.0.text": {"en": "How many?", "it": "Quanti?"}},
            ("call", "questionnaire", 0, "text"),
            "it is not one of this mission's languages (en, fr, de)",
        ),
        (
            {"title": {"fr": "Mission", "de": "Mission"}},
            ("title",),
            "the text in the default language (en) is missing",
        ),
        (
            {"call.questionnaire.3.choices": [{"en": "Gold", "es": "Oro"}]},
            ("call", "questionnaire", 3, "choices", 0),
            "es is not one of this mission's languages",
        ),
        ({"languages": ["en", "xx"]}, ("languages", 1), "'xx' is not a known language code"),
        ({"languages": ["en", "fr", "en"]}, ("languages",), "languages must be distinct"),
        ({"languages": []}, ("languages",), "at least 1 item"),
        ({"title": {"en": "Mission", "zz": "x"}}, ("title",), "'zz' is not a known language code"),
        ({"title": {"en": "", "fr": "x"}}, ("title",), "the en text must be a non-empty string"),
    ],
)
def test_bad_language_fields_are_refused_at_the_field(
    changes: dict[str, Any], loc: tuple[Any, ...], message: str
) -> None:
    data = multilingual()
    for path, value in changes.items():
        *parents, last = (int(p) if p.isdigit() else p for p in path.split("."))
        target = data
        for part in parents:
            target = target[part]
        target[last] = value
    refused = refusal(data)
    assert loc in refused, refused
    assert message in refused[loc]
