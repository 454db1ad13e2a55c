"""Several people per organisation (migration 0020): the colleagues an organisation names
besides its contact, and who goes to each meeting.

The contact (an application's, a host's) is the organisation's manager: their private link
books and answers for any colleague. A colleague is a participant of their own in the
scheduler (`attendees.py`): their id is the one a request names in `on_behalf_of`, and a
meeting's `attendees` lists who goes (empty: the two contacts, as before the colleagues).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.call.applications import Colleague
from missionflow.domain.erasure import ERASED, ERASED_ADDRESS
from missionflow.runtime.columns import instant, utc_now


class Representative(SQLModel, table=True):
    """A colleague who comes with an organisation (a delegate's application or a host)."""

    __tablename__ = "representative"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    organisation_id: uuid.UUID = Field(index=True, description="The application or the host.")
    side: str = Field(max_length=10, description="delegate or host")
    name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    role: str | None = Field(default=None, max_length=200, description="Their role or title.")
    added_at: datetime = instant(default_factory=utc_now)


async def of_organisations(
    session: AsyncSession, mission_id: str, organisations: Iterable[uuid.UUID] | None = None
) -> Sequence[Representative]:
    """The colleagues of the mission's organisations (of `organisations` only, when given), by
    organisation then name."""
    query = select(Representative).where(Representative.mission_id == mission_id)
    if organisations is not None:
        query = query.where(col(Representative.organisation_id).in_(list(organisations)))
    return (
        await session.exec(
            query.order_by(col(Representative.organisation_id), col(Representative.name))
        )
    ).all()


async def refused_people(
    session: AsyncSession, mission_id: str, organisation_id: uuid.UUID, people: Iterable[uuid.UUID]
) -> list[uuid.UUID]:
    """Those of `people` who are neither the organisation (its contact) nor one of its
    colleagues: a manager books only for their own organisation."""
    own = {r.id for r in await of_organisations(session, mission_id, [organisation_id])}
    return [p for p in people if p != organisation_id and p not in own]


async def attendees_with(
    session: AsyncSession,
    mission_id: str,
    attendees: list[str],
    organisation_id: uuid.UUID,
    people: Sequence[uuid.UUID],
) -> list[str]:
    """A meeting's attendees with the organisation's side replaced by `people` (who its manager
    said goes); unchanged when nobody is named, so a side never named sends its contact."""
    if not people:
        return attendees
    colleagues = await of_organisations(session, mission_id, [organisation_id])
    own = {str(organisation_id)} | {str(c.id) for c in colleagues}
    return [a for a in attendees if a not in own] + [str(p) for p in dict.fromkeys(people)]


async def erase(session: AsyncSession, mission_id: str, organisation_id: uuid.UUID) -> None:
    """An organisation's erasure reaches its colleagues: their names, addresses and roles go,
    their rows stay (the meetings that name them keep their shape)."""
    for row in await of_organisations(session, mission_id, [organisation_id]):
        row.name, row.email, row.role = ERASED, ERASED_ADDRESS, None
        session.add(row)


async def name_colleagues(
    session: AsyncSession,
    mission_id: str,
    organisation_id: uuid.UUID,
    side: str,
    colleagues: Sequence[Colleague],
) -> list[Representative]:
    """Add or update the organisation's colleagues, matched by email (any case), so one given
    again keeps their id; the others are left as they are. Returns those not given."""
    kept = {
        r.email.casefold(): r
        for r in await of_organisations(session, mission_id, [organisation_id])
    }
    for colleague in colleagues:
        row = kept.pop(str(colleague.email).casefold(), None) or Representative(
            mission_id=mission_id, organisation_id=organisation_id, side=side, name="", email=""
        )
        row.name, row.email, row.role = colleague.name, str(colleague.email), colleague.role
        session.add(row)
    return list(kept.values())
