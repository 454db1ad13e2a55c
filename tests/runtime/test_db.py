"""The schema and the record activity on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy.exc import StatementError
from sqlmodel import SQLModel, select

from activities.records import RecordActivities
from missionflow.domain.mission.messages import PhaseRecord
from missionflow.domain.mission.phases import Phase
from missionflow.runtime.db import create_engine, migrate, sync_url
from missionflow.runtime.models import Mission, PhaseTransition
from missionflow.runtime.settings import Settings


def test_migrations_match_the_models(database_url: str) -> None:
    """Alembic owns the schema: a model change without its migration fails here."""
    engine = create_sync_engine(sync_url(database_url))
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    assert differences == []


def test_migrating_twice_is_harmless(database_url: str) -> None:
    migrate(database_url)


async def _mission(session_factory, mission_id: str = "m-1") -> None:
    async with session_factory() as session:
        session.add(
            Mission(
                id=mission_id,
                workflow_id=f"mission-{mission_id}",
                title="T",
                organiser="O",
                timezone="Europe/Brussels",
                phase="call_open",
                file={"id": mission_id},
            )
        )
        await session.commit()


async def test_instants_come_back_aware_in_utc(session_factory) -> None:
    await _mission(session_factory)
    brussels = timezone(timedelta(hours=1))
    async with session_factory() as session:
        row = await session.get(Mission, "m-1")
        assert row is not None
        row.ended_at = datetime(2017, 3, 23, 0, 0, tzinfo=brussels)
        session.add(row)
        await session.commit()
    async with session_factory() as session:
        row = await session.get(Mission, "m-1")
    assert row is not None and row.ended_at == datetime(2017, 3, 22, 23, 0, tzinfo=UTC)
    assert row.ended_at.utcoffset() == timedelta(0)


async def test_a_naive_instant_is_refused(session_factory) -> None:
    async with session_factory() as session:
        session.add(
            Mission(
                id="naive",
                workflow_id="mission-naive",
                title="T",
                organiser="O",
                timezone="UTC",
                phase="call_open",
                file={},
                created_at=datetime(2017, 3, 22, 23, 0),
            )
        )
        with pytest.raises(StatementError, match="naive datetime"):
            await session.commit()


async def test_record_phase_writes_once_however_often_it_runs(engine, session_factory) -> None:
    await _mission(session_factory)
    records = RecordActivities(engine)
    at = datetime(2017, 3, 22, 23, 0, tzinfo=UTC)
    entry = PhaseRecord(
        mission_id="m-1", phase=Phase.SELECTION, previous=Phase.CALL_OPEN, at=at, run_id="run-1"
    )
    for _ in range(3):  # an activity retried after its write, or a replayed workflow
        await records.record_phase(entry)
    cancelled = entry.model_copy(
        update={"phase": Phase.CANCELLED, "previous": Phase.SELECTION, "note": "No flights"}
    )
    await records.record_phase(cancelled)
    async with session_factory() as session:
        rows = (await session.exec(select(PhaseTransition))).all()
        row = await session.get(Mission, "m-1")
    assert sorted(r.phase for r in rows) == ["cancelled", "selection"]
    assert row is not None and row.phase == "cancelled"
    assert row.cancel_reason == "No flights" and row.ended_at == at


async def test_record_phase_for_an_unknown_mission_fails_loudly(engine) -> None:
    records = RecordActivities(engine)
    entry = PhaseRecord(
        mission_id="ghost", phase=Phase.SELECTION, previous=None, at=datetime.now(UTC), run_id="r"
    )
    with pytest.raises(Exception, match="ghost has no row"):
        await records.record_phase(entry)


def test_pool_sizes_come_from_settings_with_defaults_per_database(database_url: str) -> None:
    sqlite = database_url.startswith("sqlite")
    default = Settings(database_url=database_url).database_pool()
    assert (default.size, default.max_overflow, default.timeout) == (5 if sqlite else 10, 10, 5.0)
    chosen = Settings(
        database_url=database_url,
        database_pool_size=3,
        database_max_overflow=0,
        database_pool_timeout=0.5,
    ).database_pool()
    engine = create_engine(database_url, chosen)
    try:
        assert engine.pool.size() == 3
        assert engine.pool._max_overflow == 0  # the pool has no public reader of it
        assert engine.pool.timeout() == 0.5
    finally:
        engine.sync_engine.dispose()
