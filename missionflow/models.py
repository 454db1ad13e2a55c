"""Database tables. Alembic owns the schema (missionflow/migrations); these are its source."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always gives back an aware UTC datetime, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("refusing to store a naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


def _instant(**kwargs: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kwargs)


class Mission(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    workflow_id: str = Field(unique=True, max_length=80)
    title: str = Field(max_length=200)
    organiser: str = Field(max_length=500)
    timezone: str = Field(max_length=64)
    phase: str = Field(max_length=32, index=True)
    file: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _instant(default_factory=utc_now)
    updated_at: datetime = _instant(default_factory=utc_now)
    ended_at: datetime | None = _instant(default=None)
    cancel_reason: str | None = Field(default=None, sa_column=Column(Text))


class PhaseTransition(SQLModel, table=True):
    __tablename__ = "phase_transition"
    __table_args__ = (UniqueConstraint("mission_id", "phase", name="uq_phase_transition_phase"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    phase: str = Field(max_length=32)
    previous: str | None = Field(default=None, max_length=32)
    at: datetime = _instant()
    recorded_at: datetime = _instant(default_factory=utc_now)
    run_id: str = Field(max_length=64)
    note: str | None = Field(default=None, sa_column=Column(Text))


class SinkMessage(SQLModel, table=True):
    """A message caught by the development SMTP sink, shown at /dev/mailbox."""

    __tablename__ = "sink_message"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    received_at: datetime = _instant(default_factory=utc_now, index=True)
    mail_from: str = Field(max_length=500)
    recipients: list[str] = Field(sa_column=Column(JSON, nullable=False))
    subject: str = Field(default="", sa_column=Column(Text, nullable=False))
    message_id: str | None = Field(default=None, max_length=500)
    template: str | None = Field(default=None, max_length=100, index=True)
    mission_id: str | None = Field(default=None, max_length=64, index=True)
    raw: str = Field(sa_column=Column(Text, nullable=False))
