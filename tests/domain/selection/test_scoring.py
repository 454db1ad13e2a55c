"""The selection rules: scores by the rubric, the proposed delegation, and its hard rules."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from missionflow.domain.mission.selection_section import OrganisationType, Selection
from missionflow.domain.selection.scoring import (
    Candidate,
    Decision,
    Proposed,
    Score,
    breaches,
    propose,
    score,
)

SECTORS = ("Nanotechnologies", "Advanced materials", "Energy and sustainability")
NANO, MATERIALS, ENERGY = SECTORS
T0 = datetime(2017, 3, 1, 9, 0, tzinfo=UTC)

# A rubric where the score is simply the answer to `points`, out of 100: quota tests can set
# each candidate's score directly.
BY_POINTS = {"weights": {"questionnaire": 1}, "questions": {"points": {"max": 100}}}


def selection(capacity: int = 30, rubric: dict[str, Any] | None = None, **rules: Any) -> Selection:
    return Selection.model_validate(
        {
            "capacity": capacity,
            "decision_due": T0 + timedelta(days=30),
            "confirm_within": "P7D",
            "delegation_lock": T0 + timedelta(days=44),
            "rubric": BY_POINTS if rubric is None else rubric,
            **rules,
        }
    )


def candidate(
    id: str,
    points: int | None = None,
    *,
    country: str = "DE",
    sectors: tuple[str, ...] = (NANO,),
    organisation_type: str = OrganisationType.CLUSTER,
    answers: dict[str, Any] | None = None,
    complete: bool = True,
    missing: tuple[str, ...] = (),
    minute: int = 0,
) -> Candidate:
    return Candidate(
        id=id,
        organisation=f"Cluster {id}",
        country=country,
        sectors=sectors,
        organisation_type=organisation_type,
        answers=({"points": points} if points is not None else {}) | (answers or {}),
        complete=complete,
        missing=missing,
        submitted_at=T0 + timedelta(minutes=minute),
    )


def by_id(proposals: list[Proposed]) -> dict[str, Proposed]:
    return {p.candidate.id: p for p in proposals}


def decisions(proposals: list[Proposed]) -> list[tuple[str, Decision, int | None]]:
    return [(p.candidate.id, p.decision, p.waitlist_position) for p in proposals]


# --- scoring ---------------------------------------------------------------------------------

EQUAL = {"completeness": 1, "sector_fit": 1, "questionnaire": 1, "organisation_type": 1}
MEMBERS = {"members": {"max": 200}}
LABEL = {"label": {"points": {"Gold": 1, "Silver": 0.6, "None": 0}}}

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


# --- ranking ---------------------------------------------------------------------------------


def test_ties_go_to_the_earlier_submission_then_the_id() -> None:
    proposals = propose(
        selection(capacity=1),
        SECTORS,
        [
            candidate("a-late", 70, minute=30),
            candidate("c-early", 70, minute=10),
            candidate("b-early", 70, minute=10),
            candidate("best", 90, minute=59),
        ],
    )
    assert [(p.candidate.id, p.rank) for p in proposals] == [
        ("best", 1),
        ("b-early", 2),
        ("c-early", 3),
        ("a-late", 4),
    ]


def test_ranks_count_every_candidate_and_an_incomplete_one_is_not_eligible() -> None:
    """Ineligible candidates keep their place in the ranking so coordinators see where they
    would have stood; they take no seat and no waitlist place."""
    proposals = propose(
        selection(capacity=1),
        SECTORS,
        [
            candidate("top", 99, complete=False, missing=("the one-slide presentation",)),
            candidate("second", 80),
            candidate("third", 60),
        ],
    )
    assert decisions(proposals) == [
        ("top", Decision.NOT_ELIGIBLE, None),
        ("second", Decision.SELECTED, None),
        ("third", Decision.WAITLISTED, 1),
    ]
    assert proposals[0].reasons == ("Incomplete: missing the one-slide presentation",)
    assert proposals[1].reasons == ("Selected on score: rank 2 of 3, score 80.00",)


# --- quotas ----------------------------------------------------------------------------------


def test_capacity_one() -> None:
    proposals = propose(
        selection(capacity=1),
        SECTORS,
        [candidate("c", 50), candidate("a", 90), candidate("b", 70)],
    )
    assert decisions(proposals) == [
        ("a", Decision.SELECTED, None),
        ("b", Decision.WAITLISTED, 1),
        ("c", Decision.NOT_SELECTED, None),
    ]
    assert proposals[0].reasons == ("Selected on score: rank 1 of 3, score 90.00",)
    assert proposals[1].reasons == (
        "All 1 seats were taken before its turn",
        "Waitlist position 1 of 1",
    )
    assert proposals[2].reasons == (
        "All 1 seats were taken before its turn",
        "Not selected: the 1 places of the waitlist went to higher-ranked applications",
    )


def test_max_per_country_skips_a_higher_score_and_says_so() -> None:
    proposals = propose(
        selection(capacity=3, max_per_country=2),
        SECTORS,
        [
            candidate("de1", 90),
            candidate("de2", 80),
            candidate("de3", 70),
            candidate("fr", 50, country="FR"),
        ],
    )
    assert decisions(proposals) == [
        ("de1", Decision.SELECTED, None),
        ("de2", Decision.SELECTED, None),
        ("de3", Decision.WAITLISTED, 1),
        ("fr", Decision.SELECTED, None),
    ]
    assert by_id(proposals)["de3"].reasons == (
        "Germany already has 2 of the 2 seats allowed per country",
        "Its score 70.00 is higher than the lowest selected score 50.00",
        "Waitlist position 1 of 3",
    )


def test_max_per_sector_counts_the_primary_sector_only() -> None:
    proposals = propose(
        selection(capacity=3, max_per_sector=1),
        SECTORS,
        [
            candidate("nano", 90, sectors=(NANO, ENERGY)),
            candidate("energy", 80, sectors=(ENERGY, NANO)),  # Nanotechnologies second: no count
            candidate("nano2", 70, sectors=(NANO,)),
            candidate("materials", 60, sectors=(MATERIALS, NANO)),
        ],
    )
    assert decisions(proposals) == [
        ("nano", Decision.SELECTED, None),
        ("energy", Decision.SELECTED, None),
        ("nano2", Decision.WAITLISTED, 1),
        ("materials", Decision.SELECTED, None),
    ]
    assert by_id(proposals)["nano2"].reasons == (
        "“Nanotechnologies”, its primary sector, already has 1 of the 1 seats allowed per sector",
        "Its score 70.00 is higher than the lowest selected score 60.00",
        "Waitlist position 1 of 3",
    )


def test_both_quotas_reached_are_both_named() -> None:
    proposals = propose(
        selection(capacity=3, max_per_country=1, max_per_sector=1),
        SECTORS,
        [candidate("first", 90), candidate("second", 80), candidate("other", 10, country="FR")],
    )
    assert by_id(proposals)["second"].reasons[:2] == (
        "Germany already has 1 of the 1 seats allowed per country",
        "“Nanotechnologies”, its primary sector, already has 1 of the 1 seats allowed per sector",
    )
    # The French candidate shares the full sector, so the delegation stays at one seat.
    assert [p.candidate.id for p in proposals if p.decision is Decision.SELECTED] == ["first"]


def test_min_per_country_pulls_in_a_lower_score() -> None:
    proposals = propose(
        selection(capacity=2, min_per_country=1),
        SECTORS,
        [candidate("de1", 90), candidate("de2", 80), candidate("fr", 40, country="FR")],
    )
    assert decisions(proposals) == [
        ("de1", Decision.SELECTED, None),
        ("de2", Decision.WAITLISTED, 1),
        ("fr", Decision.SELECTED, None),
    ]
    proposed = by_id(proposals)
    assert proposed["de1"].reasons == ("Selected on score: rank 1 of 3, score 90.00",)
    assert proposed["fr"].reasons == (
        "Selected to meet the minimum of 1 per country (rank 3 of 3, score 40.00): on score "
        "alone it would not have had one of the 2 seats",
    )
    assert proposed["de2"].reasons == (
        "All 2 seats were taken before its turn",
        "Its score 80.00 is higher than the lowest selected score 40.00",
        "Waitlist position 1 of 2",
    )


def test_a_country_with_too_few_candidates_stays_short_of_its_minimum() -> None:
    proposals = propose(
        selection(capacity=4, min_per_country=2),
        SECTORS,
        [
            candidate("de1", 90),
            candidate("de2", 80),
            candidate("de3", 70),
            candidate("de4", 60),
            candidate("fr", 50, country="FR"),
            candidate("it", 40, country="IT", complete=False),
        ],
    )
    assert decisions(proposals) == [
        ("de1", Decision.SELECTED, None),
        ("de2", Decision.SELECTED, None),
        ("de3", Decision.SELECTED, None),
        ("de4", Decision.WAITLISTED, 1),
        ("fr", Decision.SELECTED, None),
        ("it", Decision.NOT_ELIGIBLE, None),
    ]
    assert by_id(proposals)["it"].reasons == ("Incomplete",)


def test_the_minimum_per_country_never_breaks_a_maximum() -> None:
    proposals = propose(
        selection(capacity=3, min_per_country=1, max_per_sector=1),
        SECTORS,
        [candidate("de", 90), candidate("fr", 80, country="FR"), candidate("it", 70, country="IT")],
    )
    assert decisions(proposals) == [
        ("de", Decision.SELECTED, None),
        ("fr", Decision.WAITLISTED, 1),
        ("it", Decision.WAITLISTED, 2),
    ]


def test_everything_ineligible() -> None:
    missing = ("an answer to “How many members?”", "the one-slide presentation (PDF or PPTX)")
    proposals = propose(
        selection(capacity=2),
        SECTORS,
        [candidate("a", 90, complete=False, missing=missing), candidate("b", complete=False)],
    )
    assert decisions(proposals) == [
        ("a", Decision.NOT_ELIGIBLE, None),
        ("b", Decision.NOT_ELIGIBLE, None),
    ]
    assert proposals[0].reasons == (
        "Incomplete: missing an answer to “How many members?”; "
        "the one-slide presentation (PDF or PPTX)",
    )


def test_zero_candidates() -> None:
    assert propose(selection(capacity=2, min_per_country=1), SECTORS, []) == []


def test_no_waitlist() -> None:
    proposals = propose(
        selection(capacity=1, waitlist_size=0),
        SECTORS,
        [candidate("a", 90), candidate("b", 80)],
    )
    assert decisions(proposals) == [
        ("a", Decision.SELECTED, None),
        ("b", Decision.NOT_SELECTED, None),
    ]
    assert proposals[1].reasons[-1] == "Not selected: this mission keeps no waitlist"


@pytest.mark.parametrize(("waitlist_size", "waitlisted"), [(None, 2), (3, 3), (10, 4)])
def test_waitlist_size(waitlist_size: int | None, waitlisted: int) -> None:
    """Left out, the waitlist is as long as the delegation."""
    rules = {} if waitlist_size is None else {"waitlist_size": waitlist_size}
    proposals = propose(
        selection(capacity=2, **rules),
        SECTORS,
        [candidate(f"c{points}", points) for points in (90, 80, 70, 60, 50, 40)],
    )
    on_the_waitlist = [p for p in proposals if p.decision is Decision.WAITLISTED]
    assert [p.candidate.id for p in on_the_waitlist] == ["c70", "c60", "c50", "c40"][:waitlisted]
    assert [p.waitlist_position for p in on_the_waitlist] == list(range(1, waitlisted + 1))
    assert sum(p.decision is Decision.NOT_SELECTED for p in proposals) == 4 - waitlisted


# --- breaches --------------------------------------------------------------------------------

BREACHES = [
    pytest.param({}, [("DE", NANO)] * 3, [], id="within-every-rule"),
    pytest.param(
        {"capacity": 2},
        [("DE", NANO)] * 3,
        ["3 are selected, more than the 2 seats of the delegation"],
        id="over-capacity",
    ),
    pytest.param(
        {"max_per_country": 4},
        [("DE", NANO)] * 5 + [("FR", NANO)] * 4,
        ["Germany has 5 selected, more than the 4 allowed per country"],
        id="country-over-its-maximum",
    ),
    pytest.param(
        {"max_per_sector": 1},
        [("DE", NANO), ("FR", ENERGY), ("IT", MATERIALS)],
        [],
        id="sector-quota-counts-primary-sectors-only",
    ),
    pytest.param(
        {"max_per_sector": 1},
        [("DE", NANO), ("FR", NANO), ("IT", MATERIALS)],
        [
            "“Nanotechnologies” has 2 selected with it as primary sector, "
            "more than the 1 allowed per sector"
        ],
        id="sector-over-its-maximum",
    ),
    pytest.param(
        {"capacity": 3, "max_per_country": 1, "max_per_sector": 2},
        [("US", NANO), ("DE", NANO), ("DE", NANO), ("US", ENERGY)],
        [
            "4 are selected, more than the 3 seats of the delegation",
            "Germany has 2 selected, more than the 1 allowed per country",
            "United States of America has 2 selected, more than the 1 allowed per country",
            "“Nanotechnologies” has 3 selected with it as primary sector, "
            "more than the 2 allowed per sector",
        ],
        id="every-breach-at-once",
    ),
    pytest.param(
        {"min_per_country": 2},
        [("DE", NANO)],
        [],
        id="short-of-a-minimum-is-no-breach",
    ),
]


@pytest.mark.parametrize(("rules", "chosen", "expected"), BREACHES)
def test_breaches(
    rules: dict[str, Any], chosen: list[tuple[str, str]], expected: list[str]
) -> None:
    rules = {"capacity": 30} | rules
    candidates = [
        candidate(f"c{index}", country=country, sectors=(sector, NANO))
        for index, (country, sector) in enumerate(chosen)
    ]
    assert breaches(selection(**rules), candidates) == expected


# --- properties ------------------------------------------------------------------------------

COUNTRIES = ("DE", "FR", "IT", "ES", "NO")


@st.composite
def candidates(draw: st.DrawFn) -> list[Candidate]:
    drawn = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "country": st.sampled_from(COUNTRIES),
                    "sectors": st.permutations(SECTORS).flatmap(
                        lambda order: st.integers(1, 3).map(lambda n: tuple(order[:n]))
                    ),
                    "organisation_type": st.sampled_from(list(OrganisationType)),
                    "answers": st.fixed_dictionaries(
                        {},
                        optional={
                            "members": st.integers(0, 300),
                            "label": st.sampled_from(["Gold", "Silver", "None"]),
                        },
                    ),
                    "complete": st.booleans(),
                    "minute": st.integers(0, 5),  # few distinct times: ties are common
                }
            ),
            max_size=25,
        )
    )
    return [candidate(f"c{index:02}", **fields) for index, fields in enumerate(drawn)]


@st.composite
def selections(draw: st.DrawFn, quotas: bool = True) -> Selection:
    rules: dict[str, Any] = {"capacity": draw(st.integers(1, 10))}
    if quotas:
        rules["max_per_country"] = draw(st.none() | st.integers(1, 4))
        rules["max_per_sector"] = draw(st.none() | st.integers(1, 4))
        rules["min_per_country"] = draw(st.none() | st.integers(1, rules["max_per_country"] or 3))
    rules["waitlist_size"] = draw(st.none() | st.integers(0, 6))
    rubric = {
        "weights": {"completeness": 0.3, "sector_fit": 0.3, "questionnaire": 0.3},
        "sector_points": {NANO: 1, MATERIALS: 0.6, ENERGY: 0.3},
        "organisation_types": {"cluster_organisation": 1, "sme": 0.4},
        "questions": MEMBERS | LABEL,
    }
    return selection(rubric=rubric, **rules)


@settings(deadline=None, max_examples=300)
@given(selections(), candidates())
def test_proposal_keeps_every_rule(chosen_rules: Selection, pool: list[Candidate]) -> None:
    proposals = propose(chosen_rules, SECTORS, pool)

    assert sorted(p.candidate.id for p in proposals) == sorted(c.id for c in pool)
    assert [p.rank for p in proposals] == list(range(1, len(pool) + 1))
    totals = [p.score.total for p in proposals]
    assert totals == sorted(totals, reverse=True)

    selected = [p.candidate for p in proposals if p.decision is Decision.SELECTED]
    assert len(selected) <= chosen_rules.capacity
    if chosen_rules.max_per_country is not None:
        assert max(Counter(c.country for c in selected).values(), default=0) <= (
            chosen_rules.max_per_country
        )
    if chosen_rules.max_per_sector is not None:
        assert max(Counter(c.sectors[0] for c in selected).values(), default=0) <= (
            chosen_rules.max_per_sector
        )
    assert breaches(chosen_rules, selected) == []

    for p in proposals:
        assert (p.decision is Decision.NOT_ELIGIBLE) == (not p.candidate.complete)
        assert (p.decision is Decision.WAITLISTED) == (p.waitlist_position is not None)
        assert p.reasons

    waitlist = [p for p in proposals if p.decision is Decision.WAITLISTED]
    positions = [p.waitlist_position for p in waitlist]
    assert positions == list(range(1, len(waitlist) + 1))
    assert len(waitlist) <= chosen_rules.waitlist_places
    not_selected = [p for p in proposals if p.decision is Decision.NOT_SELECTED]
    if not_selected:
        assert len(waitlist) == chosen_rules.waitlist_places
    if waitlist and not_selected:
        assert waitlist[-1].rank < not_selected[0].rank

    # A seat left empty means no one else could take it without breaking a rule.
    if len(selected) < chosen_rules.capacity:
        for p in waitlist + not_selected:
            assert breaches(chosen_rules, [*selected, p.candidate]), p


@settings(deadline=None, max_examples=200)
@given(selections(quotas=False), candidates())
def test_without_quotas_the_best_eligible_are_selected(
    chosen_rules: Selection, pool: list[Candidate]
) -> None:
    proposals = propose(chosen_rules, SECTORS, pool)
    eligible = [p.candidate.id for p in proposals if p.candidate.complete]
    selected = [p.candidate.id for p in proposals if p.decision is Decision.SELECTED]
    assert selected == eligible[: chosen_rules.capacity]


@settings(deadline=None)
@given(selections(), candidates())
def test_scores_add_up(chosen_rules: Selection, pool: list[Candidate]) -> None:
    for c in pool:
        result = score(chosen_rules, SECTORS, c)
        assert 0 <= result.total <= 100
        assert set(result.breakdown) == {
            "completeness",
            "sector_fit",
            "questionnaire",
            "organisation_type",
        }
        assert abs(sum(result.breakdown.values()) - result.total) <= 0.03
