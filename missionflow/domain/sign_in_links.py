"""Signing in by a link sent by email: how long a link works, how many an address may ask for,
and what the workflow that sends one is given.

A link signs its holder in once, so whoever reads the mailbox is the person: it stays short-lived
(`LINK_LIFETIME`) and scarce (`LINKS_PER_WINDOW`), so that a stranger typing someone's address
cannot fill their mailbox, and a leaked old email signs no one in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from pydantic import BaseModel

LINK_LIFETIME = timedelta(minutes=15)
LINKS_PER_WINDOW = 3
LINK_WINDOW = timedelta(minutes=15)


class SignInLinkEmail(BaseModel):
    """The one email to send for a link. The link itself (its token in `url`) travels sealed
    by the payload codec, like every payload: only its digest is in the database, so the
    workflow's input is the one place the sender can find it."""

    link_id: uuid.UUID
    email: str
    name: str
    url: str
    expires_at: datetime


def workflow_id(link_id: uuid.UUID) -> str:
    return f"sign-in-link-{link_id}"


def may_send_link(
    sent: Iterable[datetime],
    now: datetime,
    *,
    limit: int = LINKS_PER_WINDOW,
    window: timedelta = LINK_WINDOW,
) -> bool:
    """Whether one more link may go to an address that was sent links at `sent`."""
    return sum(1 for at in sent if now - at < window) < limit
