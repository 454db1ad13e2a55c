"""Arrivals at the matchmaking event, written by a local activity inside the `check_in` Update:
the workflow has said the desk is open; this checks that the participant takes part and writes
their arrival once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity

from activities.refusal import refused
from missionflow.domain.matchmaking.check_in import CheckInReceipt, CheckInRecord
from missionflow.domain.matchmaking.rules import DELEGATE
from missionflow.domain.refusals import NOT_FOUND
from missionflow.runtime import participants
from missionflow.runtime.check_ins import CheckIn
from missionflow.runtime.db import sessions, transaction


class CheckInActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = sessions(engine)

    @activity.defn(name="record_check_in")
    async def record_check_in(self, record: CheckInRecord) -> CheckInReceipt:
        """A second scan changes nothing and answers the first arrival. Two scans at once: the
        second insert breaks the primary key, the attempt is retried and finds the first."""
        arrival = record.check_in
        async with transaction(self._sessions) as session:
            person = await participants.find(session, record.mission_id, arrival.participant_id)
            if person is None or (
                person.kind == DELEGATE and not await participants.in_delegation(session, person.id)
            ):
                raise refused("No participant of this event has this code.", NOT_FOUND, "code")
            row = await session.get(CheckIn, (record.mission_id, person.id))
            already = row is not None
            if row is None:
                row = CheckIn(
                    mission_id=record.mission_id,
                    participant_id=person.id,
                    side=person.kind,
                    checked_in_at=record.at,
                    checked_in_by=arrival.by,
                )
                session.add(row)
            return CheckInReceipt(
                participant_id=person.id,
                name=person.name,
                side=person.kind,
                checked_in_at=row.checked_in_at,
                already=already,
            )
