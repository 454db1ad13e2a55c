"""Meetings written straight to the database beside `feedback_people`'s mission, for the tests
of meeting outcome ratings (activities and pages) that run no workflow."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from feedback_people import People
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.runtime.models import Meeting


async def add_meeting(
    factory: async_sessionmaker[AsyncSession],
    people: People,
    delegate: uuid.UUID,
    at: datetime,
    *,
    status: str = "accepted",
    placed: bool = True,
    attendance: str | None = None,
) -> uuid.UUID:
    """A meeting of `delegate` with the mission's host, asked by the delegate, at `at` when
    placed."""
    row = Meeting(
        mission_id=people.mission.id,
        pair_key=uuid.uuid4().hex,  # pairs are not what these tests are about
        requester_id=delegate,
        requester_kind="delegate",
        invitee_id=people.host,
        invitee_kind="host",
        priority=3,
        note="About thin films",
        status=status,
        requested_at=at - timedelta(days=30),
        starts_at=at if placed else None,
        ends_at=at + timedelta(minutes=20) if placed else None,
        attendance=attendance,
    )
    async with factory() as session, session.begin():
        session.add(row)
    return row.id
