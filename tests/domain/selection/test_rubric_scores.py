"""Scores by the rubric: each criterion's part of the total by its weight, sector,
organisation type and question points, and rounding to two decimals.
"""

from __future__ import annotations

from typing import Any

import pytest
from scoring_support import ENERGY, LABEL, MATERIALS, MEMBERS, NANO, SECTORS, candidate, selection

from missionflow.domain.selection.scoring import Score, score

EQUAL = {"completeness": 1, "sector_fit": 1, "questionnaire": 1, "organisation_type": 1}

RUBRICS = [
    pytest.param(
        {},
        {},
        {
            "completeness": 33.33,
            "sector_fit": 33.33,
            "questionnaire": 0,
            "organisation_type": 33.33,
        },
        100.0,
        id="default-weights-no-question-drops-the-questionnaire",
    ),
    pytest.param(
        {},
        {"complete": False},
        {"completeness": 0, "sector_fit": 33.33, "questionnaire": 0, "organisation_type": 33.33},
        66.67,
        id="incomplete-earns-no-completeness",
    ),
    pytest.param(
        {"weights": {"sector_fit": 1}, "sector_points": {NANO: 0.4, MATERIALS: 0.8}},
        {"sectors": (NANO, MATERIALS)},
        {"completeness": 0, "sector_fit": 80.0, "questionnaire": 0, "organisation_type": 0},
        80.0,
        id="sector-fit-is-the-best-of-its-sectors",
    ),
    pytest.param(
        {"weights": {"sector_fit": 1}, "sector_points": {NANO: 0.4}},
        {"sectors": (ENERGY,)},
        {"completeness": 0, "sector_fit": 100.0, "questionnaire": 0, "organisation_type": 0},
        100.0,
        id="unlisted-sector-scores-one",
    ),
    pytest.param(
        {"weights": {"sector_fit": 1}, "sector_points": {NANO: 0.4}},
        {"sectors": ("nanotechnologies",)},
        {"completeness": 0, "sector_fit": 40.0, "questionnaire": 0, "organisation_type": 0},
        40.0,
        id="sector-matched-ignoring-case",
    ),
    pytest.param(
        {"weights": {"sector_fit": 1}},
        {"sectors": ("Quantum computing",)},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 0, "organisation_type": 0},
        0.0,
        id="sector-not-in-the-call-scores-nothing",
    ),
    pytest.param(
        {"weights": {"organisation_type": 1}, "organisation_types": {"sme": 0.5}},
        {"organisation_type": "sme"},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 0, "organisation_type": 50.0},
        50.0,
        id="organisation-type-points",
    ),
    pytest.param(
        {"weights": {"organisation_type": 1}, "organisation_types": {"sme": 0.5}},
        {"organisation_type": "university_or_research"},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 0, "organisation_type": 100.0},
        100.0,
        id="unlisted-organisation-type-scores-one",
    ),
    pytest.param(
        {"weights": {"questionnaire": 1}, "questions": MEMBERS},
        {"answers": {"members": 50}},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 25.0, "organisation_type": 0},
        25.0,
        id="integer-question-in-range",
    ),
    pytest.param(
        {"weights": {"questionnaire": 1}, "questions": MEMBERS},
        {"answers": {"members": 350}},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 100.0, "organisation_type": 0},
        100.0,
        id="integer-question-above-max-is-clamped",
    ),
    pytest.param(
        {"weights": {"questionnaire": 1}, "questions": {"members": {"min": 10, "max": 110}}},
        {"answers": {"members": 60}},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 50.0, "organisation_type": 0},
        50.0,
        id="integer-question-with-min",
    ),
    pytest.param(
        {"weights": {"questionnaire": 1}, "questions": {"members": {"min": 10, "max": 110}}},
        {"answers": {"members": 3}},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 0, "organisation_type": 0},
        0.0,
        id="integer-question-below-min-is-clamped",
    ),
    pytest.param(
        {"weights": {"questionnaire": 1}, "questions": MEMBERS},
        {"answers": {"members": True}},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 0, "organisation_type": 0},
        0.0,
        id="integer-question-answered-with-the-wrong-kind",
    ),
    pytest.param(
        {"weights": {"questionnaire": 1}, "questions": LABEL},
        {"answers": {"label": "Silver"}},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 60.0, "organisation_type": 0},
        60.0,
        id="choice-points",
    ),
    pytest.param(
        {"weights": {"questionnaire": 1}, "questions": LABEL},
        {"answers": {"label": "Bronze"}},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 0, "organisation_type": 0},
        0.0,
        id="choice-not-in-points-scores-nothing",
    ),
    pytest.param(
        {"weights": {"questionnaire": 1}, "questions": MEMBERS | LABEL},
        {"answers": {"members": 100, "label": "Gold"}},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 75.0, "organisation_type": 0},
        75.0,
        id="questionnaire-is-the-mean-of-its-questions",
    ),
    pytest.param(
        {"weights": {"questionnaire": 1}, "questions": MEMBERS | LABEL},
        {"answers": {"label": "Gold"}},
        {"completeness": 0, "sector_fit": 0, "questionnaire": 50.0, "organisation_type": 0},
        50.0,
        id="unanswered-scored-question-counts-zero",
    ),
    pytest.param(
        {
            "weights": {
                "completeness": 0.3,
                "sector_fit": 0.3,
                "questionnaire": 0.25,
                "organisation_type": 0.15,
            },
            "sector_points": {NANO: 0.8},
            "organisation_types": {"sme": 0.5},
            "questions": MEMBERS,
        },
        {"organisation_type": "sme", "answers": {"members": 100}},
        {"completeness": 30.0, "sector_fit": 24.0, "questionnaire": 12.5, "organisation_type": 7.5},
        74.0,
        id="weighted-sum",
    ),
    pytest.param(
        {"weights": {"completeness": 3, "sector_fit": 1}, "sector_points": {NANO: 0.5}},
        {},
        {"completeness": 75.0, "sector_fit": 12.5, "questionnaire": 0, "organisation_type": 0},
        87.5,
        id="only-the-ratio-of-weights-matters",
    ),
    pytest.param(
        {"weights": {"completeness": 1, "questionnaire": 1}},
        {},
        {"completeness": 100.0, "sector_fit": 0, "questionnaire": 0, "organisation_type": 0},
        100.0,
        id="questionnaire-weight-dropped-when-no-question-is-scored",
    ),
    pytest.param(
        {"weights": EQUAL, "questions": LABEL, "sector_points": {NANO: 0.1}},
        {"answers": {"label": "None"}},
        {"completeness": 25.0, "sector_fit": 2.5, "questionnaire": 0, "organisation_type": 25.0},
        52.5,
        id="all-four-criteria",
    ),
]


@pytest.mark.parametrize(("rubric", "changes", "breakdown", "total"), RUBRICS)
def test_score(
    rubric: dict[str, Any], changes: dict[str, Any], breakdown: dict[str, float], total: float
) -> None:
    result = score(selection(rubric=rubric), SECTORS, candidate("a", **changes))
    assert result == Score(total=total, breakdown=breakdown)


def test_score_is_rounded_to_two_decimals() -> None:
    rubric = {"weights": {"questionnaire": 1}, "questions": {"members": {"max": 3}}}
    result = score(selection(rubric=rubric), SECTORS, candidate("a", answers={"members": 1}))
    assert result.total == 33.33
