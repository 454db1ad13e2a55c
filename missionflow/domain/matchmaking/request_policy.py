"""The mission file's rules for meeting requests, without I/O: when a pending request expires,
how many requests a participant may have waiting and send, and when participants with no
accepted meeting are nudged.

Expiry is swept, not timed one by one: a 2,000-participant event makes thousands of requests,
and a timer each would fill the workflow's history. The workflow wakes at the earliest expiry
rounded up to `SWEEP_GRAIN`, and one activity expires every request then due; so at most one
wake-up per grain, however many requests. A request is past its time at its exact instant all
the same: an answer after it is refused (`overdue`), and it no longer counts as pending.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from missionflow.domain.durations import IsoDuration
from missionflow.domain.instants import describe
from missionflow.domain.matchmaking.messages import MatchmakingProgress


class Matchmaking(Protocol):
    """What these rules read of the mission file's Matchmaking section, which checks its own
    fields with them (so this module cannot import it)."""

    timezone: str
    requests_open_at: datetime
    requests_deadline: datetime
    request_expiry: IsoDuration | None
    max_pending_requests: int | None
    max_sent_requests: int | None
    nudge_every: IsoDuration | None


EXPIRED = "expired"
SWEEP_GRAIN = timedelta(minutes=15)
MAX_NUDGES = 60
"""Rounds of nudges at most in one request window: `nudge_every` is "every few days"."""

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def expires_at(event: Matchmaking, requested_at: datetime) -> datetime | None:
    """When a request made at `requested_at` expires unanswered; None: requests never expire.

    Days move the venue's calendar (P3D from 10:00 is 10:00 three days later, DST or not)."""
    if event.request_expiry is None:
        return None
    return event.request_expiry.shift(requested_at, event.timezone)


def overdue(event: Matchmaking, requested_at: datetime, now: datetime) -> bool:
    """A pending request whose time ran out, swept or not yet."""
    expiry = expires_at(event, requested_at)
    return expiry is not None and expiry <= now


def sweep_at(expiry: datetime) -> datetime:
    """The sweep that expires a request due at `expiry`: the next boundary of the grain."""
    steps = -((_EPOCH - expiry) // SWEEP_GRAIN)  # ceiling division
    return _EPOCH + steps * SWEEP_GRAIN


def next_sweep(
    event: Matchmaking, current: datetime | None, requested_at: datetime
) -> datetime | None:
    """The workflow's next sweep once a request made at `requested_at` is pending."""
    expiry = expires_at(event, requested_at)
    if expiry is None:
        return current
    due = sweep_at(expiry)
    return due if current is None else min(current, due)


def expiry_said(event: Matchmaking, requested_at: datetime) -> str:
    """The refusal of an answer to a request past its time."""
    if (expiry := expires_at(event, requested_at)) is None:  # request_expiry since removed
        return "This meeting request expired, unanswered."
    return f"This meeting request expired on {describe(expiry, event.timezone)}, unanswered."


def limit_refusal(event: Matchmaking, *, pending: int, sent: int) -> tuple[str, str] | None:
    """The limit a participant with `pending` requests waiting and `sent` made in all would
    pass with one more, as (field, message); None: they may ask."""
    if event.max_pending_requests is not None and pending >= event.max_pending_requests:
        return (
            "max_pending_requests",
            f"max_pending_requests: you have {pending} request{_s(pending)} waiting for an "
            "answer (the most this event allows); ask again once one is answered or expires.",
        )
    if event.max_sent_requests is not None and sent >= event.max_sent_requests:
        return (
            "max_sent_requests",
            f"max_sent_requests: you have sent {sent} meeting request{_s(sent)} (the most this "
            "event allows).",
        )
    return None


def settings_refusal(event: Matchmaking) -> tuple[str, str] | None:
    """What is wrong with the section's request fields, as (field, message)."""
    for name in ("request_expiry", "nudge_every"):
        duration = getattr(event, name)
        if duration is not None and duration.is_zero:
            return name, f"{name} must be longer than zero"
    if event.nudge_every is not None:
        rounds = len(nudge_rounds(event))
        if not rounds:
            return (
                "nudge_every",
                f"{event.nudge_every} is as long as the request window or longer: no nudge "
                "would be sent before requests close",
            )
        if rounds > MAX_NUDGES:
            return (
                "nudge_every",
                f"{event.nudge_every} would nudge participants more than {MAX_NUDGES} times "
                "before requests close; nudge every few days",
            )
    return None


def nudge_rounds(event: Matchmaking) -> list[datetime]:
    """Every `nudge_every` from requests_open_at, strictly before requests_deadline (at most
    MAX_NUDGES + 1, which the mission file refuses)."""
    if event.nudge_every is None or event.nudge_every.is_zero:
        return []
    rounds: list[datetime] = []
    at = event.nudge_every.shift(event.requests_open_at, event.timezone)
    while at < event.requests_deadline and len(rounds) <= MAX_NUDGES:
        rounds.append(at)
        at = event.nudge_every.shift(at, event.timezone)
    return rounds


def due_nudge(event: Matchmaking, done: int, now: datetime) -> int:
    """The round to send now (numbered from 1), or 0. After an outage only the latest round due
    goes out: participants are nudged once, not once per round missed."""
    due = [number for number, at in enumerate(nudge_rounds(event), start=1) if at <= now]
    return due[-1] if due and due[-1] > done else 0


def planned(event: Matchmaking, progress: MatchmakingProgress) -> list[tuple[str, str, datetime]]:
    """The instants the workflow wakes for: the next sweep and the next nudge, as
    (milestone name, label, instant). Empty for a mission file without these fields."""
    instants = []
    if progress.expiry_due is not None:
        instants.append(
            ("request_expiry", "the next sweep of expired meeting requests", progress.expiry_due)
        )
    rounds = nudge_rounds(event)[progress.nudged :]
    if rounds:
        label = f"nudge {progress.nudged + 1} of the participants with no meeting yet"
        instants.append(("matchmaking_nudge", label, rounds[0]))
    return instants


def _s(count: int) -> str:
    return "" if count == 1 else "s"
