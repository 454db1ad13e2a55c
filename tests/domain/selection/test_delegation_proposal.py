"""The proposed delegation: the ranking and its ties, eligibility, capacity, quotas per country
and per sector, minimums per country, and the waitlist.
"""

from __future__ import annotations

import pytest
from scoring_support import ENERGY, MATERIALS, NANO, SECTORS, candidate, selection

from missionflow.domain.selection.scoring import Decision, Proposed, propose


def by_id(proposals: list[Proposed]) -> dict[str, Proposed]:
    return {p.candidate.id: p for p in proposals}


def decisions(proposals: list[Proposed]) -> list[tuple[str, Decision, int | None]]:
    return [(p.candidate.id, p.decision, p.waitlist_position) for p in proposals]


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
