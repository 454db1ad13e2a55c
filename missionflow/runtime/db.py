"""Engines and sessions for SQLite (development) and PostgreSQL (production), one code path.

The application uses SQLAlchemy's asyncio engine (API, activities and the SMTP sink all run on an
event loop); Alembic migrates through the matching synchronous driver.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.runtime.settings import PoolOptions

MIGRATIONS = Path(__file__).parent / "migrations"


def async_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use SQLite or PostgreSQL"
    )


def sync_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(drivername="sqlite").render_as_string(hide_password=False)
    return async_url(url)


def create_engine(url: str, pool: PoolOptions | None = None) -> AsyncEngine:
    """An engine with SQLite tuned for a worker and an API writing at once (WAL, busy wait).

    Connections to a server are pinged before use, as it may have dropped them (a restart); a
    SQLite file cannot, and the ping cost every session an extra trip through aiosqlite's
    thread. `pool` sizes the pool (SQLAlchemy's defaults otherwise: 5, 10 more, 30 s).
    """
    parsed = make_url(url)
    sqlite = parsed.get_backend_name() == "sqlite"
    sizes: dict[str, Any] = {}
    if pool is not None and parsed.database not in (None, "", ":memory:"):
        sizes = {
            "pool_size": pool.size,
            "max_overflow": pool.max_overflow,
            "pool_timeout": pool.timeout,
        }
    engine = create_async_engine(async_url(url), pool_pre_ping=not sqlite, **sizes)
    if engine.dialect.name == "sqlite":
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


_WRITE_LOCKS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


@asynccontextmanager
async def transaction(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One write transaction, committed on exit.

    SQLite takes one writer at a time and makes the others poll with growing sleeps (10 writers
    at once measured ~150 ms each); queueing this process's writers on a lock instead keeps each
    write at a few milliseconds. PostgreSQL needs no lock.
    """
    async with write_lock(factory.kw["bind"]), factory() as session, session.begin():
        yield session


@asynccontextmanager
async def write_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """This process's turn to write, on SQLite; for a writer that is not a `transaction`, such
    as the delivery's commits on its own connection. Outside the queue, such a writer met the
    others in SQLite's busy handler, which sleeps up to 100 ms a try. PostgreSQL: no wait."""
    if engine.dialect.name == "sqlite":
        async with _WRITE_LOCKS.setdefault(engine.sync_engine, asyncio.Lock()):
            yield
    else:
        yield


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    return config


def migrate(url: str) -> None:
    """Bring the schema to the newest migration; safe to run at every start."""
    database = make_url(url).database
    if make_url(url).get_backend_name() == "sqlite" and database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), "head")
