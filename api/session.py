"""The request's database session, and its connection given back before every wait.

A request reads what it needs, then may wait on Temporal for seconds (an Update queued behind
others, a mission handing over to a new run). The connection its session holds would be kept
from every other request that long: twenty applicants at once exhausted a pool of fifteen so.
`release()` ends the session's read-only transaction before each such wait; the session begins
a new one, on a connection from the pool, if the request reads again afterwards.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

_CURRENT: ContextVar[AsyncSession | None] = ContextVar("missionflow_request_session", default=None)


@asynccontextmanager
async def request_session(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """The session of one request, known to `release()` while the request runs."""
    async with sessions() as session:
        token = _CURRENT.set(session)
        try:
            yield session
        finally:
            _CURRENT.reset(token)


async def release() -> None:
    """Give the request's connection back before waiting on something else.

    Raises:
        RuntimeError: the request has a write pending: a bug, since a write must be committed
            (or dropped) before the request waits, or the wait would hold its locks too.
    """
    session = _CURRENT.get()
    if session is None or not session.in_transaction():
        return
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a database write is pending while the request waits on Temporal")
    # Read-only: committing ends the transaction and returns the connection; the sessions do
    # not expire what they loaded on commit, so the rows read stay readable.
    await session.commit()
