"""A participant marked remote (a delegate, or a host after loading), or in person again.

A local activity from the mission workflow's `set_remote` Update, like requests and answers:
the workflow has said the event is not over; this checks the participant and the event's video
link against the database and writes. The meetings are placed again by the workflow when a
schedule is out (`instance_of` keeps their slots, the tables follow).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities.applications import mission_file
from activities.refusal import refused
from missionflow.domain.matchmaking.places import RemoteReceipt, RemoteRecord, remote_refusal
from missionflow.domain.refusals import INVALID, NOT_FOUND
from missionflow.runtime import participants
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.models import Application, Host


class PlaceActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = sessions(engine)

    @activity.defn(name="set_remote")
    async def set_remote(self, record: RemoteRecord) -> RemoteReceipt:
        change = record.change
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, record.mission_id)
            assert mission.matchmaking is not None  # the workflow's validator checked it
            row: Host | Application | None = await session.get(Host, change.participant_id)
            if row is None:
                row = await session.get(Application, change.participant_id)
                if row is not None and not await participants.in_delegation(session, row.id):
                    row = None
            if row is None or row.mission_id != mission.id:
                raise refused("No such host or delegate in this mission.", NOT_FOUND)
            table = row.table if isinstance(row, Host) else None
            why = remote_refusal(mission.matchmaking, remote=change.remote, table=table)
            if why is not None:
                raise refused(why, INVALID, "remote")
            changed = row.remote != change.remote
            row.remote = change.remote
            session.add(row)
            return RemoteReceipt(participant_id=row.id, remote=row.remote, changed=changed)
