"""The mission's audit log: who exercised or answered a person's rights, and when.

Entries name people by role ("coordinator", "applicant", "retention") and subjects by id,
never by email or name: the log outlives an erasure and must not undo it.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.runtime.columns import instant, utc_now

EXPORTED = "personal_data.exported"
ERASED = "personal_data.erased"

COORDINATOR = "coordinator"
APPLICANT = "applicant"
RETENTION = "retention"
"""Who acted, by role; the system itself when the retention period of a mission ends."""


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    # What the coordinators' list reads: one mission's entries, newest first.
    __table_args__ = (Index("ix_audit_entry_mission_at", "mission_id", "at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", max_length=64)
    at: datetime = instant(default_factory=utc_now)
    by: str = Field(max_length=200)
    action: str = Field(max_length=64)
    subject: str | None = Field(
        default=None, max_length=100, description="An id (an application's), never a name."
    )
    detail: str | None = Field(default=None, sa_column=Column(Text))


def record(
    session: AsyncSession,
    mission_id: str,
    *,
    by: str,
    action: str,
    subject: str | None = None,
    detail: str | None = None,
) -> AuditEntry:
    """Add an entry to the caller's transaction: it is written exactly when what it records is."""
    entry = AuditEntry(mission_id=mission_id, by=by, action=action, subject=subject, detail=detail)
    session.add(entry)
    return entry
