"""A mission's invitees as the database holds them: the mission file's own, then those
coordinators added later (`InvitedOrganisation` rows), each email once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.call.applications import email_key
from missionflow.domain.erasure import address_digest, is_erased_address
from missionflow.domain.mission.call_section import Invitee
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime.erased_addresses import erased_digests
from missionflow.runtime.models import InvitedOrganisation


async def invitees_of(session: AsyncSession, mission: MissionFile) -> list[Invitee]:
    """The mission file's invitees, then those coordinators added, each email once."""
    return [listed.invitee for listed in await listed_invitees(session, mission)]


@dataclass(frozen=True)
class ListedInvitee:
    invitee: Invitee
    added_at: datetime | None
    """None for the mission file's own invitees."""


async def listed_invitees(session: AsyncSession, mission: MissionFile) -> list[ListedInvitee]:
    """Everyone invited, but those erased since (`missionflow.runtime.erasure`): the mission
    file still lists them, and an invitation or reminder must never reach them again."""
    erased = await erased_digests(session, mission.id)
    everyone = {
        key: ListedInvitee(i, None)
        for i in mission.call.invitees
        if address_digest(mission.id, key := email_key(str(i.email))) not in erased
    }
    query = (
        select(InvitedOrganisation)
        .where(InvitedOrganisation.mission_id == mission.id)
        .order_by(col(InvitedOrganisation.added_at), col(InvitedOrganisation.email_key))
    )
    for row in (await session.exec(query)).all():
        if is_erased_address(row.email):
            continue
        invitee = Invitee(
            organisation=row.organisation, email=row.email, name=row.name, country=row.country
        )
        everyone.setdefault(row.email_key, ListedInvitee(invitee, row.added_at))
    return list(everyone.values())
