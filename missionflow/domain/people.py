"""Who may do what on a mission: the four roles of its people, and the sign-in lockout.

A role is a set of actions rather than a rank: a reviewer sees only the applications assigned to
them, which no other role is limited to, so "reviewer" sits neither above nor below "viewer". A
personal token scoped to a role narrows its person's rights to what both allow
(`allowed_actions`), and never widens them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    COORDINATOR = "coordinator"
    REVIEWER = "reviewer"
    VIEWER = "viewer"


class Action(StrEnum):
    READ = "read"
    """The mission, its lists, emails, agenda and report."""
    READ_APPLICATIONS = "read_applications"
    """Every application, with its contact data."""
    REVIEW_ASSIGNED = "review_assigned"
    """The applications assigned to oneself, without contact data."""
    READ_PERSONAL_DATA = "read_personal_data"
    """A person's whole record (the GDPR export)."""
    STEER = "steer"
    """Cancel, extend, override and approve the selection, load hosts, resend, assign reviews."""
    MANAGE_PEOPLE = "manage_people"
    """Add people to the mission with a role, and remove them."""


PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(Action),
    Role.COORDINATOR: frozenset(Action) - {Action.MANAGE_PEOPLE},
    Role.REVIEWER: frozenset({Action.REVIEW_ASSIGNED}),
    Role.VIEWER: frozenset({Action.READ, Action.READ_APPLICATIONS}),
}


def may(role: Role, action: Action) -> bool:
    return action in PERMISSIONS[role]


def allowed_actions(roles: Iterable[Role | None]) -> frozenset[Action]:
    """What someone may do when each of `roles` must allow it (a membership and a token's
    scope); None stands for no limit (an administrator, a token for every role)."""
    allowed = frozenset(Action)
    for role in roles:
        if role is not None:
            allowed &= PERMISSIONS[role]
    return allowed


SIGN_IN_FAILURES = 5
"""Failed sign-ins for one email within `SIGN_IN_WINDOW` before it is locked."""
SIGN_IN_WINDOW = timedelta(minutes=15)


def sign_in_retry_after(
    failures: Iterable[datetime],
    now: datetime,
    *,
    limit: int = SIGN_IN_FAILURES,
    window: timedelta = SIGN_IN_WINDOW,
) -> int | None:
    """Seconds until an email may try to sign in again, or None when it may now.

    `failures` are the failed attempts since its last success. Locked when `limit` of them fall
    within `window` of `now`; it opens again when the oldest of those leaves the window, so a
    guesser gets at most `limit` tries per window, and the owner waits no longer than that.
    """
    recent = sorted(at for at in failures if now - at < window)
    if len(recent) < limit:
        return None
    opens = recent[-limit] + window
    return max(1, int((opens - now).total_seconds() + 0.999))
