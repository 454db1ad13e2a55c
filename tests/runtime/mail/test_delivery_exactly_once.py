"""Exactly once in effect: an unreachable server, a cut, a cancel during the "sent" commit, a
claim taken over by a newer attempt or a rerun neither loses a message nor sends one twice.

Against the same recording aiosmtpd server as the delivery tests, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from aiosmtplib import SMTPException
from outbox_support import Delivered, Recorder, activities_for, queue_many, serve, statuses
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.exceptions import ApplicationError

import activities.email as email_activities
from missionflow.domain.mission.messages import DeliveryReport, DeliveryRequest
from missionflow.runtime.models import OutboxMessage


async def test_an_unreachable_server_loses_nothing_and_later_sends_everything_once(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    unused_port: int,
) -> None:
    queued = await queue_many(session_factory, mission_id, 10)
    delivery = activities_for(engine, unused_port)

    with pytest.raises((SMTPException, OSError)):
        await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    rows = await statuses(session_factory)
    assert len(rows) == 10
    assert {row.status for row in rows.values()} <= {"queued", "sending"}

    server = await serve(recorder, unused_port)
    try:
        report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))
    finally:
        server.close()
        await server.wait_closed()

    assert report == DeliveryReport(sent=10, failed=0, deferred=0, remaining=0)
    assert recorder.message_ids() == Counter({row.message_id: 1 for row in queued})


async def test_a_delivery_cut_mid_batch_resumes_without_duplicates_or_losses(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    """Cancel the activity while the server is taking the 5th message (as a worker shutdown
    does): what the server took and what the rows say must agree, and a new attempt sends the
    rest."""
    queued = await queue_many(session_factory, mission_id, 12)
    delivery = activities_for(engine, smtp_port)
    attempt = asyncio.create_task(delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id)))

    async def cut_at_the_fifth(_: Delivered) -> None:
        if len(recorder.delivered) == 5:
            attempt.cancel()

    recorder.on_data = cut_at_the_fifth

    with pytest.raises(asyncio.CancelledError):
        await attempt

    rows = await statuses(session_factory)
    server_has = set(recorder.message_ids())
    assert {r.message_id for r in rows.values() if r.status == "sent"} == server_has
    assert len(server_has) == 5
    assert {r.status for r in rows.values() if r.message_id not in server_has} == {"sending"}

    recorder.on_data = None
    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=7, failed=0, deferred=0, remaining=0)
    assert recorder.message_ids() == Counter({row.message_id: 1 for row in queued})


async def test_a_cancel_during_the_sent_commit_still_ends_that_message(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one instant a cancel could lose a message: the row committed as sent, the final "."
    not yet written. The step finishes first, then the cancellation goes through."""
    queued = await queue_many(session_factory, mission_id, 8)
    settle = email_activities._settle
    sent_commits = 0

    async def cancel_at_the_third(
        db: AsyncConnection, row: OutboxMessage, previous: str, **values: object
    ) -> bool:
        nonlocal sent_commits
        if values.get("status") == "sent":
            sent_commits += 1
            if sent_commits == 3:
                attempt.cancel()
        return await settle(db, row, previous, **values)

    monkeypatch.setattr(email_activities, "_settle", cancel_at_the_third)
    delivery = activities_for(engine, smtp_port)
    attempt = asyncio.create_task(delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id)))

    with pytest.raises(asyncio.CancelledError):
        await attempt

    rows = await statuses(session_factory)
    assert {r.message_id for r in rows.values() if r.status == "sent"} == set(
        recorder.message_ids()
    )
    assert len(recorder.delivered) == 3
    monkeypatch.setattr(email_activities, "_settle", settle)
    await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))
    assert recorder.message_ids() == Counter({row.message_id: 1 for row in queued})


async def test_a_message_is_committed_sent_before_the_server_has_it(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    """aiosmtpd calls handle_DATA once it has read the final ".": the row must say sent by then."""
    await queue_many(session_factory, mission_id, 5)
    seen: list[str] = []

    async def row_status(delivered: Delivered) -> None:
        async with session_factory() as session:
            statement = select(OutboxMessage.status).where(
                OutboxMessage.message_id == delivered.message["Message-ID"]
            )
            seen.append((await session.exec(statement)).one())

    recorder.on_data = row_status
    await activities_for(engine, smtp_port).deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert seen == ["sent"] * 5


async def test_a_delivery_whose_claim_was_taken_over_stops_before_the_final_dot(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    """A zombie attempt (Temporal retried the activity elsewhere, the old one still runs) must
    not send a message the newer attempt claimed: it cannot mark it sent, so it never ends it."""
    queued = await queue_many(session_factory, mission_id, 4)

    async def newer_claim(address: str) -> None:
        if address == "applicant-2@example.org":
            async with session_factory() as session:
                await session.exec(  # type: ignore[call-overload]
                    update(OutboxMessage)
                    .where(col(OutboxMessage.recipient) == address)
                    .values(attempts=col(OutboxMessage.attempts) + 1)
                )
                await session.commit()

    recorder.on_rcpt = newer_claim
    delivery = activities_for(engine, smtp_port)

    with pytest.raises(ApplicationError, match="claimed again"):
        await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert [d.recipients[0] for d in recorder.delivered] == [
        "applicant-0@example.org",
        "applicant-1@example.org",
    ]
    recorder.on_rcpt = None
    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=2, failed=0, deferred=0, remaining=0)
    assert recorder.message_ids() == Counter({row.message_id: 1 for row in queued})


async def test_a_rerun_after_everything_is_sent_sends_nothing(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    await queue_many(session_factory, mission_id, 3)
    delivery = activities_for(engine, smtp_port)
    await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=0, failed=0, deferred=0, remaining=0)
    assert len(recorder.delivered) == 3 and recorder.connections == 1
