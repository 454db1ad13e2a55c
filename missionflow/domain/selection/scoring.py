"""Who joins the delegation: the score of each application and the proposed delegation.

Pure rules, no database and no Temporal, so the proposal can be checked by hand and tested alone.

How an application is scored (0 to 100)
    Each criterion earns 0 to 1 point, then the rubric's weights turn the points into a share of
    100 (only the ratios of the weights matter):

    - completeness: 1 for a complete application, 0 otherwise. There is no partial credit: an
      incomplete application cannot be selected anyway, so partial credit would only reorder
      applications that are out of the running;
    - sector fit: the best `sector_points` among the applicant's sectors (a sector the rubric
      does not list earns 1);
    - questionnaire: the mean of the scored questions, an unanswered one earning 0; when the
      rubric scores no question, this criterion is left out and the others share the 100;
    - organisation type: the points of the applicant's kind of organisation (unlisted kinds 1).

    The ranking is by score, best first; equal scores go to the application submitted first.

How the delegation is proposed
    1. An incomplete application is not eligible; the reason lists what it is missing.
    2. Balance first: when the mission sets a minimum per country, the best-ranked applications
       of each country are seated until the country has its minimum, as long as seats remain
       and no maximum (per country, per primary sector) would be exceeded. Such an application
       may rank below applications that end up without a seat: its reason says it was seated
       to meet its country's minimum. A country with too few eligible applications simply
       stays short of its minimum.
    3. Then by score: the remaining applications, best first, take the remaining seats, except
       where their country or their primary sector (the first sector they chose) already has
       its maximum. The maxima are hard: an application skipped for one keeps that reason, and
       when it scored higher than the lowest-scoring application that was seated, its reasons
       say so, so coordinators can see what the quota cost.
    4. The eligible applications without a seat form the waitlist, in ranking order, up to its
       size; the others are not selected. A waitlisted application skipped for a quota keeps
       its reason: it can only move up into a seat that frees that quota.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from iso3166 import countries_by_alpha2

from missionflow.domain.mission.selection_section import Rubric, ScoredQuestion, Selection

CRITERIA = ("completeness", "sector_fit", "questionnaire", "organisation_type")


class Decision(StrEnum):
    SELECTED = "selected"
    WAITLISTED = "waitlisted"
    NOT_SELECTED = "not_selected"
    NOT_ELIGIBLE = "not_eligible"


@dataclass(frozen=True)
class Candidate:
    """An application as the rules see it, built from its row by the caller."""

    id: str  # the application id (a uuid as text)
    organisation: str
    country: str  # ISO 3166 alpha-2
    sectors: tuple[str, ...]  # the first is the primary sector
    organisation_type: str  # an OrganisationType value
    answers: Mapping[str, Any]  # question id -> answer (int for integer, str for choice)
    complete: bool
    missing: tuple[str, ...]  # what is missing, in words, when incomplete
    submitted_at: datetime  # aware, UTC: breaks ties between equal scores

    @property
    def primary_sector(self) -> str | None:
        """The sector the per-sector quota counts: the first one the applicant chose."""
        return self.sectors[0] if self.sectors else None


@dataclass(frozen=True)
class Score:
    total: float  # 0 to 100, rounded to 2 decimals
    breakdown: dict[str, float]  # criterion -> what it contributed; they add up to the total


@dataclass(frozen=True)
class Proposed:
    candidate: Candidate
    score: Score
    rank: int  # 1-based, among all candidates, eligible or not
    decision: Decision
    waitlist_position: int | None  # 1-based, for WAITLISTED only
    reasons: tuple[str, ...]  # why this decision, in words for the coordinators


# --- scoring ---------------------------------------------------------------------------------


def score(selection: Selection, sectors: Sequence[str], candidate: Candidate) -> Score:
    """The candidate's score out of 100 and what each criterion contributed to it."""
    points = _criterion_points(selection.rubric, sectors, candidate)
    weights = {
        criterion: getattr(selection.rubric.weights, criterion)
        for criterion in CRITERIA
        if points[criterion] is not None
    }
    total_weight = sum(weights.values())
    contributions = {
        criterion: 100 * weights[criterion] * (points[criterion] or 0.0) / total_weight
        if criterion in weights and total_weight
        else 0.0
        for criterion in CRITERIA
    }
    return Score(
        total=round(sum(contributions.values()), 2),
        breakdown={criterion: round(value, 2) for criterion, value in contributions.items()},
    )


def _criterion_points(
    rubric: Rubric, sectors: Sequence[str], candidate: Candidate
) -> dict[str, float | None]:
    """Points from 0 to 1 per criterion; None for a criterion the rubric cannot judge."""
    return {
        "completeness": 1.0 if candidate.complete else 0.0,
        "sector_fit": _sector_fit(rubric, sectors, candidate.sectors),
        "questionnaire": _questionnaire(rubric, candidate.answers),
        "organisation_type": rubric.organisation_types.get(candidate.organisation_type, 1.0),
    }


def _sector_fit(rubric: Rubric, sectors: Sequence[str], chosen: Sequence[str]) -> float:
    """Matched like the application form does, ignoring case; a sector no longer in the call
    earns nothing."""
    spelling = {sector.casefold(): sector for sector in sectors}
    known = [spelling[sector.casefold()] for sector in chosen if sector.casefold() in spelling]
    return max((rubric.sector_points.get(sector, 1.0) for sector in known), default=0.0)


def _questionnaire(rubric: Rubric, answers: Mapping[str, Any]) -> float | None:
    if not rubric.questions:
        return None
    earned = [_answer_points(scored, answers.get(id_)) for id_, scored in rubric.questions.items()]
    return sum(earned) / len(earned)


def _answer_points(scored: ScoredQuestion, answer: Any) -> float:
    """An unanswered question, or an answer of the wrong kind, earns nothing."""
    if scored.points is not None:
        return scored.points.get(answer, 0.0) if isinstance(answer, str) else 0.0
    if scored.max is None or isinstance(answer, bool) or not isinstance(answer, int | float):
        return 0.0
    return min(max((answer - scored.min) / (scored.max - scored.min), 0.0), 1.0)


# --- the proposal ----------------------------------------------------------------------------


def propose(
    selection: Selection, sectors: Sequence[str], candidates: Sequence[Candidate]
) -> list[Proposed]:
    """Every candidate once, in rank order, with the decision the rules propose and why."""
    ranked = sorted(
        ((candidate, score(selection, sectors, candidate)) for candidate in candidates),
        key=lambda pair: (-pair[1].total, pair[0].submitted_at, pair[0].id),
    )
    seated, skipped = _seats(selection, ranked)
    lowest = min((ranked[rank - 1][1].total for rank in seated), default=None)
    proposals = []
    waitlisted = 0
    for rank, (candidate, candidate_score) in enumerate(ranked, 1):
        decision, position = Decision.NOT_ELIGIBLE, None
        if not candidate.complete:
            reasons: tuple[str, ...] = (_incomplete_reason(candidate),)
        elif rank in seated:
            decision, reasons = Decision.SELECTED, (seated[rank],)
        else:
            reasons = skipped[rank] + _outscored(candidate_score, lowest)
            if waitlisted < selection.waitlist_places:
                waitlisted += 1
                decision, position = Decision.WAITLISTED, waitlisted
                reasons += (f"Waitlist position {waitlisted} of {selection.waitlist_places}",)
            else:
                decision = Decision.NOT_SELECTED
                reasons += (_beyond_waitlist(selection.waitlist_places),)
        proposals.append(Proposed(candidate, candidate_score, rank, decision, position, reasons))
    return proposals


def _seats(
    selection: Selection, ranked: Sequence[tuple[Candidate, Score]]
) -> tuple[dict[int, str], dict[int, tuple[str, ...]]]:
    """Steps 2 and 3 of the proposal: the ranks that get a seat and why, and why each other
    eligible rank does not."""
    eligible = [rank for rank, (candidate, _) in enumerate(ranked, 1) if candidate.complete]
    tally = _Tally(selection)
    seated: dict[int, str] = {}
    for position, rank in enumerate(eligible, 1):
        candidate, candidate_score = ranked[rank - 1]
        if tally.below_minimum(candidate) and tally.has_room(candidate):
            tally.seat(candidate)
            seated[rank] = _seated_reason(selection, rank, len(ranked), candidate_score, position)
    skipped: dict[int, tuple[str, ...]] = {}
    for rank in eligible:
        candidate, candidate_score = ranked[rank - 1]
        if rank in seated:
            continue
        if tally.seats_left == 0:
            skipped[rank] = (f"All {selection.capacity} seats were taken before its turn",)
        elif quotas := tally.quotas_reached(candidate):
            skipped[rank] = quotas
        else:
            tally.seat(candidate)
            seated[rank] = _seated_reason(selection, rank, len(ranked), candidate_score)
    return seated, skipped


class _Tally:
    """The seats given so far, counted the way the quotas count them."""

    def __init__(self, selection: Selection) -> None:
        self.selection = selection
        self.seats_left = selection.capacity
        self.by_country: Counter[str] = Counter()
        self.by_sector: Counter[str] = Counter()

    def seat(self, candidate: Candidate) -> None:
        self.seats_left -= 1
        self.by_country[candidate.country] += 1
        if candidate.primary_sector is not None:
            self.by_sector[candidate.primary_sector] += 1

    def below_minimum(self, candidate: Candidate) -> bool:
        minimum = self.selection.min_per_country
        return minimum is not None and self.by_country[candidate.country] < minimum

    def has_room(self, candidate: Candidate) -> bool:
        return self.seats_left > 0 and not self.quotas_reached(candidate)

    def quotas_reached(self, candidate: Candidate) -> tuple[str, ...]:
        """The maxima that keep this candidate out, in words."""
        reached = []
        limit = self.selection.max_per_country
        if limit is not None and (count := self.by_country[candidate.country]) >= limit:
            reached.append(
                f"{country_name(candidate.country)} already has {count} of the {limit} seats "
                "allowed per country"
            )
        limit, sector = self.selection.max_per_sector, candidate.primary_sector
        if limit is not None and sector is not None and (count := self.by_sector[sector]) >= limit:
            reached.append(
                f"“{sector}”, its primary sector, already has {count} of the {limit} seats "
                "allowed per sector"
            )
        return tuple(reached)


def _seated_reason(
    selection: Selection, rank: int, of: int, candidate_score: Score, position: int | None = None
) -> str:
    """`position` among the eligible is given when the seat was given to meet a country's
    minimum: a coordinator should know when a seat was not earned on score alone."""
    standing = f"rank {rank} of {of}, score {candidate_score.total:.2f}"
    if position is not None and position > selection.capacity:
        return (
            f"Selected to meet the minimum of {selection.min_per_country} per country "
            f"({standing}): on score alone it would not have had one of the "
            f"{selection.capacity} seats"
        )
    return f"Selected on score: {standing}"


def _outscored(candidate_score: Score, lowest_selected: float | None) -> tuple[str, ...]:
    if lowest_selected is None or candidate_score.total <= lowest_selected:
        return ()
    return (
        f"Its score {candidate_score.total:.2f} is higher than the lowest selected score "
        f"{lowest_selected:.2f}",
    )


def _beyond_waitlist(places: int) -> str:
    if places == 0:
        return "Not selected: this mission keeps no waitlist"
    return f"Not selected: the {places} places of the waitlist went to higher-ranked applications"


def _incomplete_reason(candidate: Candidate) -> str:
    if not candidate.missing:
        return "Incomplete"
    return "Incomplete: missing " + "; ".join(candidate.missing)


# --- checking a delegation -------------------------------------------------------------------


def breaches(selection: Selection, chosen: Sequence[Candidate]) -> list[str]:
    """Every hard rule the chosen delegation breaks, in words; empty when it may be approved.

    The minimum per country is a target, not a rule, so falling short of it is no breach.
    """
    problems = []
    if len(chosen) > selection.capacity:
        problems.append(
            f"{len(chosen)} are selected, more than the {selection.capacity} seats of the "
            "delegation"
        )
    if (limit := selection.max_per_country) is not None:
        counts = Counter(candidate.country for candidate in chosen)
        problems.extend(
            f"{country_name(code)} has {count} selected, more than the {limit} allowed per country"
            for code, count in sorted(counts.items(), key=lambda item: country_name(item[0]))
            if count > limit
        )
    if (limit := selection.max_per_sector) is not None:
        counts = Counter(c.primary_sector for c in chosen if c.primary_sector is not None)
        problems.extend(
            f"“{sector}” has {count} selected with it as primary sector, more than the {limit} "
            "allowed per sector"
            for sector, count in sorted(counts.items())
            if count > limit
        )
    return problems


def country_name(code: str) -> str:
    """The country's ISO 3166 name; the code itself when it is not one."""
    country = countries_by_alpha2.get(code.upper())
    return country.name if country is not None else code
