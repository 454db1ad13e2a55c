"""The selection rubric of a mission file: the example's, older shapes that still load,
defaults, and refusals named at sectors and choices that contain dots.
"""

from __future__ import annotations

from mission_file_support import DELETE, SECTORS, example, mutated, refusal

from missionflow.domain.mission.file import load_mission
from missionflow.domain.mission.selection_section import OrganisationType


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
