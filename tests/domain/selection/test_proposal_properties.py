"""Properties of every proposal, on drawn rules and candidates: each rule kept, the best
eligible selected when there is no quota, and scores that add up.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from scoring_support import ENERGY, LABEL, MATERIALS, MEMBERS, NANO, SECTORS, candidate, selection

from missionflow.domain.mission.selection_section import OrganisationType, Selection
from missionflow.domain.selection.scoring import Candidate, Decision, breaches, propose, score

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
