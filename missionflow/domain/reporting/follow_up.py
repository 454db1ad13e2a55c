"""The follow-up surveys' figures in the report: what delegates said came of the mission,
months later (`figures` puts them under "follow_up")."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from missionflow.domain.reporting.rates import rate

OUTCOMES = ("agreements", "distribution_deals", "mous", "revisits")
"""The follow-up survey's counts; the expected revenue, which may be left blank, is apart."""


@dataclass(frozen=True)
class FollowUpFacts:
    application_id: uuid.UUID
    survey: int
    agreements: int = 0
    distribution_deals: int = 0
    mous: int = 0
    revisits: int = 0
    expected_revenue_eur: float | None = None


def follow_up_figures(
    follow_ups: Sequence[FollowUpFacts], surveys: int, members: Collection[uuid.UUID]
) -> dict[str, Any]:
    """Outcomes as delegates last reported them: each survey asks what came of the mission so
    far, so a delegate's newest answer replaces their earlier ones instead of adding to them.
    `surveys` is how many the mission file plans; `members` the delegation's ids."""
    rows = []
    for number in range(1, max([surveys, *(f.survey for f in follow_ups)]) + 1):
        answers = [f for f in follow_ups if f.survey == number]
        rows.append(
            {
                "survey": number,
                "responses": rate(
                    sum(f.application_id in members for f in answers), len(members), "delegates"
                ),
                **_outcomes(answers),
            }
        )
    latest: dict[uuid.UUID, FollowUpFacts] = {}
    for answer in sorted(follow_ups, key=lambda f: f.survey):
        latest[answer.application_id] = answer
    return {
        "surveys": rows,
        "respondents": len(latest),
        "latest": _outcomes(list(latest.values())),
    }


def _outcomes(answers: Sequence[FollowUpFacts]) -> dict[str, Any]:
    totals: dict[str, Any] = {name: sum(getattr(f, name) for f in answers) for name in OUTCOMES}
    revenue = [f.expected_revenue_eur for f in answers if f.expected_revenue_eur is not None]
    totals["expected_revenue_eur"] = round(sum(revenue), 2) if revenue else None
    return totals
