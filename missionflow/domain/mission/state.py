"""Everything a mission has decided so far, carried whole across continue-as-new."""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, Field

from missionflow.domain.call.messages import CallProgress
from missionflow.domain.matchmaking.messages import MatchmakingProgress
from missionflow.domain.mission.phases import Phase
from missionflow.domain.reporting.messages import ReportingProgress
from missionflow.domain.selection.messages import SelectionProgress
from missionflow.domain.visits.messages import VisitsProgress


class PhaseEntry(BaseModel):
    phase: Phase
    at: AwareDatetime
    note: str | None = None


class MissionState(BaseModel):
    """Everything a mission has decided so far; carried whole across continue-as-new."""

    started_at: AwareDatetime
    deadline: AwareDatetime = Field(description="The call's deadline, as extended.")
    phase: Phase = Phase.CALL_OPEN
    entered: list[PhaseEntry] = Field(description="Every phase entered, in order, with when.")
    recorded: int = Field(default=0, description="How many of `entered` are in the database.")
    cancel_reason: str | None = None
    cancelled_by: str | None = None
    updates_handled: int = Field(default=0, description="Updates accepted, over all runs.")
    call: CallProgress = Field(default_factory=CallProgress)
    selection: SelectionProgress = Field(default_factory=SelectionProgress)
    matchmaking: MatchmakingProgress = Field(default_factory=MatchmakingProgress)
    visits: VisitsProgress = Field(default_factory=VisitsProgress)
    reporting: ReportingProgress = Field(default_factory=ReportingProgress)
