"""The matchmaking's records beside its meetings: each participant's preference marks, the
agenda last sent to each, and each run of the scheduler (re-exported by `models`)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from missionflow.runtime.columns import instant


class PreferenceMark(SQLModel, table=True):
    """One participant's mark on one of the other side in their preference list: must_meet,
    would_like or no_thanks (`missionflow.domain.matchmaking.preferences`). Read only by its
    author and the coordinators: the other side never learns of it."""

    __tablename__ = "preference_mark"

    mission_id: str = Field(foreign_key="mission.id", primary_key=True, max_length=64)
    participant_id: uuid.UUID = Field(primary_key=True)
    other_id: uuid.UUID = Field(primary_key=True)
    participant_kind: str = Field(max_length=10, description="delegate or host")
    mark: str = Field(max_length=12)
    marked_at: datetime = instant()


class AgendaSent(SQLModel, table=True):
    """The agenda last sent to a participant: a new schedule emails only those whose agenda
    differs, and their calendar file keeps its UIDs with the next SEQUENCE."""

    __tablename__ = "agenda_sent"

    mission_id: str = Field(foreign_key="mission.id", primary_key=True, max_length=64)
    participant_id: uuid.UUID = Field(primary_key=True)
    sequence: int
    items: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    sent_at: datetime = instant()


class ScheduleRun(SQLModel, table=True):
    """The figures of one run of the matchmaking scheduler (`Schedule.stats`), written with the
    meetings it placed: the latest one is what the report and the coordinators see."""

    __tablename__ = "schedule_run"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    version: int = Field(description="The schedule's version (1 the first published).")
    requested: int
    scheduled: int
    upper_bound: int = Field(description="No valid schedule places more meetings.")
    value: int = Field(description="The sum of the priorities placed.")
    value_bound: int | None = Field(default=None, description="Proven most value; None: unknown.")
    breaks: int
    breaks_bound: int | None = Field(
        default=None, description="Proven fewest breaks at this value and fairness; None: unknown."
    )
    idle_slots: int
    break_difference: int
    max_break_difference: int
    break_difference_bound: int | None = None
    method: str = Field(max_length=10, description="fast or exact")
    solve_seconds: float
    created_at: datetime = instant()
