"""Fixtures of the outbox and delivery tests: a recording SMTP server on a free loopback port,
and the mission the queued messages belong to (in the test database, SQLite or PostgreSQL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from mail_contexts import MISSION
from outbox_support import Recorder, serve
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.runtime.models import Mission


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def smtp_port(recorder: Recorder) -> AsyncIterator[int]:
    server = await serve(recorder, 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.fixture
async def mission_id(session_factory: async_sessionmaker[AsyncSession]) -> str:
    async with session_factory() as session:
        session.add(
            Mission(
                id=MISSION["id"],
                workflow_id=f"mission-{MISSION['id']}",
                title=MISSION["title"],
                organiser=MISSION["organiser"],
                timezone=MISSION["timezone"],
                phase="call_open",
                file={},
            )
        )
        await session.commit()
    return MISSION["id"]
