"""The matchmaking schedule from the database's rows: the scheduler's instance built from the
accepted meetings, and placed (see `missionflow.domain.matchmaking.scheduling`)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence

from temporalio import activity

from missionflow.domain.matchmaking import scheduling
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.messages import MatchmakingNotice
from missionflow.domain.matchmaking.result import Stats
from missionflow.domain.matchmaking.rules import SlotTime
from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.mission.event_tables import table_count, table_numbers
from missionflow.runtime.models import Meeting, ScheduleRun
from missionflow.runtime.participants import Participant
from missionflow.runtime.representatives import Representative


def instance_of(
    event: Matchmaking,
    slots: Sequence[SlotTime],
    people: dict[uuid.UUID, Participant],
    meetings: Sequence[Meeting],
    *,
    keep_placed: bool,
    colleagues: Sequence[Representative] = (),
) -> Instance:
    """The accepted `meetings` to place; `keep_placed`: those already placed stay fixed (a
    meeting now remote in its slot, at no table). A host's fixed table (by id) becomes its
    number; remote participants' meetings take none. `colleagues`: the organisations' other
    people, each a participant of their own with their organisation's absences, table and
    remoteness; a meeting's `attendees` say who goes for each side (none named: the contact)."""
    numbers = table_numbers(event.tables)
    going = [_going(m, colleagues) for m in meetings]
    seen = {person for a, b, more in going for person in (a, b, *more)}
    organisation = {c.id: people[c.organisation_id] for c in colleagues if c.id in seen}
    return Instance.model_validate(
        {
            "slots": [
                {"id": s.id, "start": s.start.isoformat(), "end": s.end.isoformat()} for s in slots
            ],
            "tables": table_count(event.tables),
            "participants": [
                {
                    "id": str(person),
                    "side": p.kind,
                    "max_meetings": event.max_meetings_per_participant,
                    "unavailable": list(p.unavailable),
                    "table": numbers.get(p.table) if p.table else None,
                    "remote": p.remote,
                }
                for person, p in [*((p.id, p) for p in people.values()), *organisation.items()]
            ],
            "meetings": [
                {
                    "id": str(m.id),
                    "a": str(a),
                    "b": str(b),
                    "colleagues": [str(c) for c in more],
                    "priority": m.priority,
                }
                for m, (a, b, more) in zip(meetings, going, strict=True)
            ],
            "fixed": [
                {"meeting": str(m.id), "slot": m.slot_id, "table": None if far else m.table}
                for m in meetings
                for far in [people[m.requester_id].remote or people[m.invitee_id].remote]
                # a meeting in person again needs a table: placed anew
                if keep_placed and m.slot_id is not None and (far or m.table is not None)
            ],
        }
    )


def _going(
    meeting: Meeting, colleagues: Sequence[Representative]
) -> tuple[uuid.UUID, uuid.UUID, list[uuid.UUID]]:
    """Who goes to the meeting: the first of the requester's side, the first of the invitee's,
    then the others of both (the meeting's `colleagues`). A side with nobody named in
    `attendees` (every meeting before colleagues) sends its contact."""
    named = {uuid.UUID(a) for a in meeting.attendees}
    sides = []
    for organisation in (meeting.requester_id, meeting.invitee_id):
        own = {organisation} | {c.id for c in colleagues if c.organisation_id == organisation}
        first = sorted(named & own, key=lambda p, o=organisation: (p != o, str(p)))
        sides.append(first or [organisation])
    (a, *ours), (b, *theirs) = sides
    return a, b, [*ours, *theirs]


def place(
    instance: Instance, progress: Callable[[int, int], None] | None = None
) -> scheduling.Schedule:
    """The schedule of `instance`, telling `progress(done, total)` as it goes. CPU-bound (the
    exact phase runs up to `instance.time_limit` seconds): run it off the event loop, with
    `place_in_thread`."""
    try:
        return scheduling.schedule(instance, progress=progress)
    except scheduling.InvalidInstance:
        # Kept assignments that no longer fit (a host reloaded with new unavailability):
        # place everything afresh rather than not at all.
        return scheduling.schedule(instance.model_copy(update={"fixed": []}), progress=progress)


async def place_in_thread(instance: Instance) -> scheduling.Schedule:
    """`place` in a worker thread, so the activity worker's event loop keeps running (other
    activities, heartbeats) while the scheduler works; its progress heartbeats the activity,
    handed to the loop (an async activity's heartbeat must be called from its loop)."""
    loop = asyncio.get_running_loop()
    beating = activity.in_activity()

    def progress(done: int, total: int) -> None:
        if beating:
            loop.call_soon_threadsafe(activity.heartbeat, done, total)

    return await asyncio.to_thread(place, instance, progress)


def schedule_run(mission_id: str, notice: MatchmakingNotice, stats: Stats) -> ScheduleRun:
    """The figures of this run, kept in the transaction that places its meetings. A retry after
    that transaction committed (the worker lost before reporting) adds a second row of the same
    version; readers take the latest (`schedule_runs.latest`)."""
    return ScheduleRun(
        mission_id=mission_id, version=notice.version, created_at=notice.at, **stats.model_dump()
    )
