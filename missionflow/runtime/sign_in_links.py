"""The one-time sign-in links' rows: handing one out to a person who asks, and spending one.

Spending is one conditional UPDATE (`used_at IS NULL AND expires_at > now`), so of two requests
with the same link at the same instant, one signs in and the other is refused, on SQLite and on
PostgreSQL alike, without reading the row first.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.sign_in_links import LINK_LIFETIME, LINK_WINDOW, may_send_link
from missionflow.runtime.people import Person, SignInLink, new_secret, normal_email, secret_digest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedLink:
    row: SignInLink
    person: Person
    token: str
    """Known only here, and to the email: the row keeps its digest."""


class LinkState(StrEnum):
    """What a link can no longer do, or that it still can."""

    USABLE = "usable"
    UNKNOWN = "unknown"
    SPENT = "spent"
    EXPIRED = "expired"


async def issue_link(session: AsyncSession, email: str, now: datetime) -> IssuedLink | None:
    """A new link for the person with this email, in the caller's transaction; None when no one
    has the address or it was sent `LINKS_PER_WINDOW` links lately (logged, nothing stored)."""
    person = (
        await session.exec(
            # On PostgreSQL the person's row is locked, so two requests at once cannot both
            # count two links and add a third and fourth; SQLite has one writer anyway.
            select(Person).where(Person.email == normal_email(email)).with_for_update()
        )
    ).first()
    if person is None:
        return None
    await session.exec(
        delete(SignInLink).where(
            col(SignInLink.person_id) == person.id, col(SignInLink.expires_at) <= now
        )
    )  # an expired link is never read again: the table keeps what is in use
    sent = await session.exec(
        select(SignInLink.created_at).where(
            SignInLink.person_id == person.id, col(SignInLink.created_at) > now - LINK_WINDOW
        )
    )
    if not may_send_link(sent.all(), now):
        log.warning("sign-in link not sent: person %s asked for too many lately", person.id)
        return None
    token, digest = new_secret()
    row = SignInLink(
        person_id=person.id, token_hash=digest, created_at=now, expires_at=now + LINK_LIFETIME
    )
    session.add(row)
    await session.flush()
    return IssuedLink(row, person, token)


async def spend_link(session: AsyncSession, token: str, now: datetime) -> uuid.UUID | None:
    """Mark the link used, in the caller's transaction; the person it signs in, or None when
    it is unknown, used or expired (`link_state` tells which)."""
    spent = await session.exec(
        update(SignInLink)
        .where(
            col(SignInLink.token_hash) == secret_digest(token),
            col(SignInLink.used_at).is_(None),
            col(SignInLink.expires_at) > now,
        )
        .values(used_at=now)
        .returning(col(SignInLink.person_id))
    )
    return spent.scalar_one_or_none()


async def link_state(session: AsyncSession, token: str, now: datetime) -> LinkState:
    row = (
        await session.exec(select(SignInLink).where(SignInLink.token_hash == secret_digest(token)))
    ).first()
    if row is None:
        return LinkState.UNKNOWN
    if row.used_at is not None:
        return LinkState.SPENT
    return LinkState.USABLE if row.expires_at > now else LinkState.EXPIRED


async def link_email_sendable(session: AsyncSession, link_id: uuid.UUID, now: datetime) -> bool:
    """Whether the link's email is still worth sending: neither used nor expired (a retry that
    comes too late sends nothing)."""
    row = await session.get(SignInLink, link_id)
    return row is not None and row.used_at is None and row.expires_at > now
