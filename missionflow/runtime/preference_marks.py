"""The preference lists as stored: the activities write and convert them, the API reads a
participant's own list, and the reminder leaves out the requests their invitee said no_thanks to.
Every read here is of one participant's own marks or of the whole mission's for the engine: no
read gives one side the marks the other side made about them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.matchmaking.preferences import NO_THANKS
from missionflow.runtime.models import PreferenceMark


async def own_marks(
    session: AsyncSession, mission_id: str, participant_id: uuid.UUID
) -> Sequence[PreferenceMark]:
    """A participant's list, oldest mark first."""
    return (
        await session.exec(
            select(PreferenceMark)
            .where(PreferenceMark.mission_id == mission_id)
            .where(PreferenceMark.participant_id == participant_id)
            .order_by(col(PreferenceMark.marked_at), col(PreferenceMark.other_id))
        )
    ).all()


async def every_mark(session: AsyncSession, mission_id: str) -> Sequence[PreferenceMark]:
    return (
        await session.exec(select(PreferenceMark).where(PreferenceMark.mission_id == mission_id))
    ).all()


async def unwelcome(session: AsyncSession, mission_id: str) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """(who said no_thanks, to whom): requests from the second to the first are not reminded."""
    rows = (
        await session.exec(
            select(PreferenceMark)
            .where(PreferenceMark.mission_id == mission_id)
            .where(PreferenceMark.mark == NO_THANKS)
        )
    ).all()
    return {(row.participant_id, row.other_id) for row in rows}
