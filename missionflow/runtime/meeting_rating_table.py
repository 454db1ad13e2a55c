"""The table of meeting outcome ratings (migration 0016), apart from the code that reads and
writes it (`runtime.meeting_ratings`) so that `runtime.models` can register it without a
circle."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from missionflow.runtime.columns import instant


class MeetingRating(SQLModel, table=True):
    __tablename__ = "meeting_rating"
    __table_args__ = (
        UniqueConstraint("meeting_id", "rater_id", "stage", name="uq_meeting_rating"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    meeting_id: uuid.UUID = Field(foreign_key="meeting.id", index=True)
    stage: int = Field(description="1 after the event, 2 at the follow-up surveys.")
    rater_kind: str = Field(max_length=10, description="delegate or host")
    rater_id: uuid.UUID = Field(description="The application's or the host's id.")
    outcome: str = Field(max_length=40)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = instant()
    updated_at: datetime = instant()
