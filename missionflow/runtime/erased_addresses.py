"""The addresses of people erased from a mission, as digests: the mission file's invitees are
written in the file, which erasure cannot change, so the call asks here before writing to one."""

from __future__ import annotations

from sqlmodel import Field, SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.erasure import address_digest


class ErasedAddress(SQLModel, table=True):
    __tablename__ = "erased_address"

    mission_id: str = Field(foreign_key="mission.id", primary_key=True, max_length=64)
    digest: str = Field(primary_key=True, max_length=64)


async def remember(session: AsyncSession, mission_id: str, email_key: str) -> None:
    """Add the erased address to the caller's transaction, once."""
    digest = address_digest(mission_id, email_key)
    if await session.get(ErasedAddress, (mission_id, digest)) is None:
        session.add(ErasedAddress(mission_id=mission_id, digest=digest))


async def erased_digests(session: AsyncSession, mission_id: str) -> set[str]:
    query = select(ErasedAddress.digest).where(ErasedAddress.mission_id == mission_id)
    return set((await session.exec(query)).all())
