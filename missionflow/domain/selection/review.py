"""The coordinators' review of the proposed delegation, as pure functions on the mission state.

The workflow keeps only the applications in play for a seat (selected and waitlisted, plus any
a coordinator moved), so an approval is checked against capacity and the hard quotas in the
Update's validator, before anything reaches history, without reading the database.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.domain.mission.selection_section import Selection
from missionflow.domain.mission.state import MissionState
from missionflow.domain.selection.messages import SelectionEntry, SelectionOverride
from missionflow.domain.selection.scoring import Candidate, Decision, Proposed, breaches

IN_PLAY = (Decision.SELECTED.value, Decision.WAITLISTED.value)
SETTABLE = (Decision.SELECTED.value, Decision.WAITLISTED.value, Decision.NOT_SELECTED.value)


def in_play(proposal: Sequence[Proposed]) -> list[SelectionEntry]:
    return [
        SelectionEntry(
            application_id=item.candidate.id,
            country=item.candidate.country,
            sector=item.candidate.sectors[0] if item.candidate.sectors else "",
            rank=item.rank,
            score=item.score.total,
            decision=item.decision.value,
        )
        for item in proposal
        if item.decision.value in IN_PLAY
    ]


def overridden(
    entries: Sequence[SelectionEntry], overrides: Sequence[SelectionOverride]
) -> list[SelectionEntry]:
    """The entries once each override is applied in order; an application moved out of play
    (not selected) leaves the list."""
    result = {entry.application_id: entry for entry in entries}
    for override in overrides:
        current = result.pop(override.application_id, None)
        if override.decision not in IN_PLAY:
            continue
        result[override.application_id] = (
            current.model_copy(update={"decision": override.decision})
            if current is not None
            else SelectionEntry(
                application_id=override.application_id,
                country=override.country,
                sector=override.sector,
                rank=override.rank,
                score=override.score,
                decision=override.decision,
            )
        )
    return sorted(result.values(), key=lambda entry: entry.rank)


def waitlist_positions(entries: Sequence[SelectionEntry]) -> dict[str, int]:
    """Waitlisted applications by rank: position 1 is offered the first seat released."""
    waiting = [e for e in entries if e.decision == Decision.WAITLISTED.value]
    return {str(e.application_id): n for n, e in enumerate(sorted(waiting, key=_rank), start=1)}


def review_refusal(
    mission: MissionFile,
    state: MissionState,
    overrides: Sequence[SelectionOverride],
    *,
    approve: bool,
) -> tuple[str, str, str | None] | None:
    """Why the review request cannot be taken, as (kind, message, field), or None.

    The kind is `conflict` when the mission is not where a review can happen (before the
    proposal, after approval) and `invalid` when the request itself is wrong.
    """
    review = state.selection
    if review.approved_at is not None:
        return "conflict", "The delegation is already approved.", None
    if state.phase is not Phase.SELECTION:
        return "conflict", f"The mission is in {state.phase.value}, not in selection.", None
    if not review.proposed:
        return "conflict", "The proposed delegation is not ready yet.", None
    for index, override in enumerate(overrides):
        field = f"overrides.{index}"
        if override.decision not in SETTABLE:
            return "invalid", f"A decision is one of {', '.join(SETTABLE)}.", f"{field}.decision"
        if not override.reason.strip():
            return "invalid", "Say why the decision is overridden.", f"{field}.reason"
        if override.withdrawn and override.decision in IN_PLAY:
            return "invalid", "This application was withdrawn.", f"{field}.application_id"
    if approve:
        problems = quota_breaches(mission.selection, overridden(review.entries, overrides))
        if problems:
            return "invalid", "The delegation breaks its quotas: " + "; ".join(problems), None
    return None


def quota_breaches(selection: Selection, entries: Sequence[SelectionEntry]) -> list[str]:
    """What the selected entries break of the delegation's capacity and hard quotas, in words;
    empty when it may be approved as it stands."""
    return breaches(selection, _candidates(entries))


def approved(
    state: MissionState, entries: Sequence[SelectionEntry], by: str | None, now: datetime
) -> MissionState:
    selection = state.selection.model_copy(
        update={"entries": list(entries), "approved_at": now, "approved_by": by}
    )
    return state.model_copy(update={"selection": selection})


def withdrawn(state: MissionState, application_id: uuid.UUID) -> MissionState:
    """A withdrawn application leaves the proposal before approval (its seats come with the
    confirmation phase)."""
    review = state.selection
    if review.approved_at is not None:
        return state
    entries = [e for e in review.entries if e.application_id != application_id]
    return state.model_copy(update={"selection": review.model_copy(update={"entries": entries})})


def _candidates(entries: Sequence[SelectionEntry]) -> list[Candidate]:
    """The selected entries as the quota rules read them: only country and sector count."""
    return [
        Candidate(
            id=str(entry.application_id),
            organisation="",
            country=entry.country,
            sectors=(entry.sector,) if entry.sector else (),
            organisation_type="other",
            answers={},
            complete=True,
            missing=(),
            submitted_at=_EPOCH,
        )
        for entry in entries
        if entry.decision == Decision.SELECTED.value
    ]


def _rank(entry: SelectionEntry) -> int:
    return entry.rank


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
