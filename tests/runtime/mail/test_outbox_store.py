"""The outbox: a message is queued once per key, in the caller's transaction, and a twin
queued at the same moment or in the same statement finds the stored row.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from mail_contexts import MAIL_FROM, MISSION, context
from outbox_support import queue_one, statuses
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.runtime.mail.outbox import add_all, compose
from missionflow.runtime.models import OutboxMessage


async def test_queue_is_idempotent_per_key(
    session_factory: async_sessionmaker[AsyncSession], mission_id: str
) -> None:
    async with session_factory() as session:
        first = await queue_one(session, mission_id, "deadline_reminder", "ana@example.es")
        await session.commit()
    async with session_factory() as session:
        again = await queue_one(
            session,
            mission_id,
            "deadline_reminder",
            "ana@example.es",
            context=context("deadline_reminder", time_left="1 day"),
        )
        await session.commit()

    rows = await statuses(session_factory)
    assert list(rows) == ["ana@example.es"]
    assert again.id == first.id and again.message_id == first.message_id
    assert "2 days" in rows["ana@example.es"].subject  # unchanged, not re-rendered
    assert first.message_id.endswith("@example.org>") and first.status == "queued"
    assert first.headers == {
        "From": MISSION["organiser"],
        "X-Missionflow-Template": "deadline_reminder",
        "X-Missionflow-Mission": mission_id,
        "Reply-To": "Anna Verbeke <anna.verbeke@example.org>, "
        "Marco Bellini <marco.bellini@example.org>",
        "Auto-Submitted": "auto-generated",
    }


async def test_queue_belongs_to_the_callers_transaction(
    session_factory: async_sessionmaker[AsyncSession], mission_id: str
) -> None:
    async with session_factory() as session:
        await queue_one(session, mission_id, "deadline_reminder", "ana@example.es")
        await session.rollback()

    assert await statuses(session_factory) == {}


async def test_queue_racing_an_uncommitted_twin_returns_the_twin(
    session_factory: async_sessionmaker[AsyncSession], mission_id: str
) -> None:
    """Two transactions queue the same message at once: the second waits for the first (on
    PostgreSQL's unique index, on SQLite's write lock), then finds its row instead of failing."""
    async with session_factory() as first, session_factory() as second:
        one = await queue_one(first, mission_id, "deadline_reminder", "ana@example.es")
        racing = asyncio.create_task(
            queue_one(second, mission_id, "deadline_reminder", "ana@example.es")
        )
        await asyncio.sleep(0.3)
        assert not racing.done()  # blocked behind the first transaction's insert
        await first.commit()
        two = await racing
        await second.commit()

    assert two.id == one.id and two.message_id == one.message_id
    assert len(await statuses(session_factory)) == 1


async def test_add_all_queues_each_key_once_in_order(
    session_factory: async_sessionmaker[AsyncSession], mission_id: str
) -> None:
    """Many messages in one statement: a key queued before, or twice in the list, is stored
    once, and each position answers the stored row."""
    async with session_factory() as session:
        earlier = await queue_one(session, mission_id, "deadline_reminder", "ana@example.es")
        await session.commit()

    def composed(recipient: str) -> OutboxMessage:
        return compose(
            mission_id=mission_id,
            template="deadline_reminder",
            recipient=recipient,
            recipient_name=None,
            context=context("deadline_reminder"),
            idempotency_key=f"{mission_id}:deadline_reminder:{recipient}",
            reply_to=[],
            from_name=MISSION["organiser"],
            sender=MAIL_FROM,
            now=datetime.now(UTC),
        )

    rows = [composed(r) for r in ("bo@example.se", "ana@example.es", "cy@example.fr")]
    twin = composed("bo@example.se")
    async with session_factory() as session:
        stored = await add_all(session, [*rows, twin])
        await session.commit()

    assert [row.message_id for row in stored] == [
        rows[0].message_id,
        earlier.message_id,
        rows[2].message_id,
        rows[0].message_id,
    ]
    assert sorted(await statuses(session_factory)) == [
        "ana@example.es",
        "bo@example.se",
        "cy@example.fr",
    ]
