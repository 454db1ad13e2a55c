"""The matchmaking steps a b2match organiser steers, as a simulation rehearses them: preference
lists, requests that expire unanswered, nudges to those with no meeting yet; and how many of each
the mission's rows hold at the end.

A mission file whose matchmaking section sets none of `preferences_deadline`, `request_expiry`
and `nudge_every` (the 2017 mission predates them) is simulated with all three, derived from its
request window, so that a rehearsal walks every step the mission can take; a file that sets any
of them says how its event runs and is simulated as written, as is any file with `--as-written`.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.matchmaking.preferences import (
    MUST_MEET,
    NO_THANKS,
    PRIORITY,
    WOULD_LIKE,
    PreferenceMarkInput,
)
from missionflow.domain.matchmaking.request_policy import EXPIRED
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.runtime.check_ins import CheckIn
from missionflow.runtime.models import Host, Meeting, OutboxMessage, PreferenceMark

STEP_FIELDS = ("preferences_deadline", "request_expiry", "nudge_every")
NUDGE_TEMPLATE = "matchmaking_nudge"

Pair = frozenset[uuid.UUID]


def with_request_steps(mission: MissionFile) -> tuple[MissionFile, dict[str, str]]:
    """The mission with the steps its file leaves out, and what was added (nothing when the
    file sets any of them, or has no matchmaking event).

    The lists close a quarter into the request window, so the requests they make are answered
    and can still expire before the deadline; a request expires after half the window, so the
    ones left unanswered do expire; nudges go out every quarter of it."""
    event = mission.matchmaking
    if event is None or any(getattr(event, name) is not None for name in STEP_FIELDS):
        return mission, {}
    opens = event.requests_open_at
    window = event.requests_deadline - opens
    added = {
        "preferences_deadline": (opens + window / 4).replace(second=0, microsecond=0).isoformat(),
        "request_expiry": _duration(window / 2),
        "nudge_every": _duration(window / 4),
    }
    data = mission.model_dump(mode="json")
    data["matchmaking"].update(added)
    return load_mission(data), added


def _duration(span: timedelta) -> str:
    """Whole days (kept in the venue's calendar), or whole hours for a window under days."""
    days = span // timedelta(days=1)
    return f"P{days}D" if days else f"PT{max(1, span // timedelta(hours=1))}H"


def preference_marks(
    rng: random.Random,
    delegates: Sequence[uuid.UUID],
    hosts: Sequence[Host],
    sectors: dict[uuid.UUID, list[str]],
    asked: set[Pair],
) -> list[PreferenceMarkInput]:
    """Delegates mark one to four hosts they have not asked by hand, of their sectors first
    (must meet one time in three, else would like), and some say no thanks to another; each
    host answers the wishes it got in kind (mutual) about half the time, says no thanks to one
    in ten and leaves the rest (one-sided), and one host in four wishes a delegate of its own."""
    marks: dict[tuple[uuid.UUID, uuid.UUID], str] = {}

    def free(a: uuid.UUID, b: uuid.UUID) -> bool:
        return frozenset((a, b)) not in asked and (a, b) not in marks and (b, a) not in marks

    for delegate in delegates:
        open_hosts = [h for h in hosts if free(delegate, h.id)]
        own = [h for h in open_hosts if h.sector in sectors.get(delegate, [])]
        others = [h for h in open_hosts if h not in own]
        wanted = rng.randint(1, 4)
        chosen = rng.sample(own, min(len(own), wanted))
        chosen += rng.sample(others, min(len(others), wanted - len(chosen)))
        for host in chosen:
            marks[(delegate, host.id)] = MUST_MEET if rng.random() < 1 / 3 else WOULD_LIKE
        unwanted = [h for h in others if h not in chosen]
        if unwanted and rng.random() < 0.3:
            marks[(delegate, rng.choice(unwanted).id)] = NO_THANKS
    for host in hosts:
        for delegate in delegates:
            if marks.get((delegate, host.id)) in PRIORITY:
                answer = rng.random()
                if answer < 0.5:
                    marks[(host.id, delegate)] = MUST_MEET if answer < 0.15 else WOULD_LIKE
                elif answer < 0.6:
                    marks[(host.id, delegate)] = NO_THANKS
        fitting = [d for d in delegates if host.sector in sectors.get(d, []) and free(host.id, d)]
        if fitting and rng.random() < 0.25:
            marks[(host.id, rng.choice(fitting))] = WOULD_LIKE
    return [
        PreferenceMarkInput(participant_id=by, other_id=on, mark=mark)  # type: ignore[arg-type]
        for (by, on), mark in marks.items()
    ]


def mutual_pairs(marks: Sequence[PreferenceMarkInput]) -> set[Pair]:
    """The pairs both of whose sides wish to meet: the lists make each an accepted meeting."""
    wishing = {(m.participant_id, m.other_id) for m in marks if m.mark in PRIORITY}
    return {frozenset(pair) for pair in wishing if pair[::-1] in wishing}


async def step_counts(db: AsyncSession, mission_id: str) -> dict[str, Any]:
    """What the steps left in the mission's rows: the marks by kind, the meetings the lists made
    (mutual: accepted at once; one-sided: requested), the quiet requests (to someone who said
    no_thanks) that expired, told to their requester alone, placed meetings of a pair with a
    no_thanks (none, or the lists leaked), requests expired, nudges emailed, arrivals."""
    marks = (
        await db.exec(select(PreferenceMark).where(PreferenceMark.mission_id == mission_id))
    ).all()
    meetings = (await db.exec(select(Meeting).where(Meeting.mission_id == mission_id))).all()
    wishes: dict[Pair, int] = Counter()
    refused: set[Pair] = set()
    unwelcome: set[tuple[uuid.UUID, uuid.UUID]] = set()  # (who said no_thanks, to whom)
    for mark in marks:
        pair = frozenset((mark.participant_id, mark.other_id))
        if mark.mark in PRIORITY:
            wishes[pair] += 1
        else:
            refused.add(pair)
            unwelcome.add((mark.participant_id, mark.other_id))
    listed = [(wishes[frozenset((m.requester_id, m.invitee_id))], m) for m in meetings]
    nudges = (
        await db.exec(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.mission_id == mission_id, OutboxMessage.template == NUDGE_TEMPLATE)
        )
    ).one()
    arrivals = (
        await db.exec(
            select(func.count()).select_from(CheckIn).where(CheckIn.mission_id == mission_id)
        )
    ).one()
    by_mark = Counter(mark.mark for mark in marks)
    return {
        "expired": sum(m.status == EXPIRED for m in meetings),
        "nudges": nudges,
        "checked_in": arrivals,
        "preferences": {
            **{mark: by_mark[mark] for mark in (MUST_MEET, WOULD_LIKE, NO_THANKS)},
            "mutual_meetings": sum(n == 2 and m.status == "accepted" for n, m in listed),
            "one_sided_requests": sum(n == 1 for n, _ in listed),
            "quiet_expired": sum(
                m.status == EXPIRED and (m.invitee_id, m.requester_id) in unwelcome
                for m in meetings
            ),
            "no_thanks_placed": sum(
                frozenset((m.requester_id, m.invitee_id)) in refused
                for m in meetings
                if m.slot_id is not None
            ),
        },
    }
