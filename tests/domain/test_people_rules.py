"""The roles' permission table and the sign-in lockout, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from missionflow.domain.people import (
    SIGN_IN_WINDOW,
    Action,
    Role,
    allowed_actions,
    may,
    sign_in_retry_after,
)

NOW = datetime(2017, 3, 22, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [
        (Role.OWNER, Action.MANAGE_PEOPLE, True),
        (Role.COORDINATOR, Action.MANAGE_PEOPLE, False),
        (Role.COORDINATOR, Action.STEER, True),
        (Role.VIEWER, Action.READ, True),
        (Role.VIEWER, Action.STEER, False),
        (Role.VIEWER, Action.READ_PERSONAL_DATA, False),
        (Role.REVIEWER, Action.REVIEW_ASSIGNED, True),
        (Role.REVIEWER, Action.READ, False),
        (Role.REVIEWER, Action.READ_APPLICATIONS, False),
    ],
)
def test_what_each_role_may_do(role: Role, action: Action, allowed: bool) -> None:
    assert may(role, action) is allowed


def test_a_token_narrows_a_role_and_never_widens_it() -> None:
    assert allowed_actions([Role.OWNER, Role.VIEWER]) == allowed_actions([Role.VIEWER])
    assert allowed_actions([Role.VIEWER, Role.OWNER]) == allowed_actions([Role.VIEWER])
    assert allowed_actions([Role.COORDINATOR, Role.REVIEWER]) == {Action.REVIEW_ASSIGNED}
    assert allowed_actions([None]) == set(Action), "an administrator's unscoped token"
    assert allowed_actions([Role.COORDINATOR, None]) == allowed_actions([Role.COORDINATOR])


def test_five_failures_in_the_window_lock_until_the_oldest_leaves_it() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (10, 8, 6, 4, 2)]
    assert sign_in_retry_after(failures[1:], NOW) is None, "four failures: one try left"
    assert sign_in_retry_after(failures, NOW) == 5 * 60
    later = NOW + timedelta(minutes=5)
    assert sign_in_retry_after(failures, later) is None, "the oldest has left the window"


def test_failures_older_than_the_window_do_not_count() -> None:
    old = [NOW - SIGN_IN_WINDOW - timedelta(seconds=s) for s in range(10)]
    assert sign_in_retry_after(old, NOW) is None
    assert sign_in_retry_after([*old, NOW], NOW) is None


def test_a_lock_about_to_open_still_waits_a_second() -> None:
    failures = [NOW - SIGN_IN_WINDOW + timedelta(milliseconds=1)] * 5
    assert sign_in_retry_after(failures, NOW) == 1
