"""Mission files refused for their other values: quotas, ids, lists, addresses, missing
sections, opportunities, and the selection rubric.

Each case: the changes to eu-us-2017.yaml (see `mutated`), the field refused, and words of
its message.
"""

from __future__ import annotations

import pytest
from mission_file_support import DELETE, SECTORS

VALUE_REFUSALS = [
    pytest.param(
        {"selection.min_per_country": 5},
        ("selection", "min_per_country"),
        "cannot exceed the maximum per country",
        id="min-above-max-per-country",
    ),
    pytest.param(
        {"selection.capacity": 0},
        ("selection", "capacity"),
        "greater than or equal to 1",
        id="capacity-zero",
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
