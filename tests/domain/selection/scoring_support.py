"""Selection rules and candidates, as the scoring, proposal and breach tests make them.

`selection(capacity, rubric, **rules)` is by default scored `BY_POINTS`, so that a test sets
each candidate's score (`candidate(id, points, ...)`) directly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from missionflow.domain.mission.selection_section import OrganisationType, Selection
from missionflow.domain.selection.scoring import Candidate

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


MEMBERS = {"members": {"max": 200}}
LABEL = {"label": {"points": {"Gold": 1, "Silver": 0.6, "None": 0}}}
