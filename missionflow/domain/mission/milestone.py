"""An instant on the mission's timeline, named and in its own zone: what the workflow waits
for and what the status query and the Temporal UI say of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from missionflow.domain.instants import describe, local
from missionflow.domain.mission.messages import InstantView


@dataclass(frozen=True, slots=True)
class Milestone:
    name: str
    label: str
    at: datetime
    zone: str
    end_of_day: bool = False

    @property
    def text(self) -> str:
        return describe(self.at, self.zone, end_of_day=self.end_of_day)

    def view(self) -> InstantView:
        return InstantView(
            name=self.name,
            label=self.label,
            utc=self.at,
            local=local(self.at, self.zone).isoformat(),
            zone=self.zone,
            text=self.text,
        )
