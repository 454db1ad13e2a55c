"""Activities that write the mission's record: its phase transitions.

Each write is idempotent (a retried activity, a replayed workflow or a continued run writes the
same row once), because Temporal delivers an activity at least once.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from missionflow.domain.mission.messages import PhaseRecord
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.models import Mission, PhaseTransition, utc_now


class RecordActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._sessions = sessions(engine)

    @activity.defn(name="record_phase")
    async def record_phase(self, record: PhaseRecord) -> None:
        """Write the transition (once) and the mission's current phase, in one transaction."""
        insert = postgresql_insert if self._engine.dialect.name == "postgresql" else sqlite_insert
        row = PhaseTransition(
            mission_id=record.mission_id,
            phase=record.phase.value,
            previous=record.previous.value if record.previous else None,
            at=record.at,
            run_id=record.run_id,
            note=record.note,
        )
        values = row.model_dump()
        values["at"] = record.at
        async with transaction(self._sessions) as session:
            mission = await session.get(Mission, record.mission_id)
            if mission is None:
                # The API commits the mission's row right after starting the workflow; a retry
                # finds it. A mission started without a row is a bug, visible as retries in the UI.
                raise ApplicationError(f"mission {record.mission_id} has no row in the database")
            await session.exec(  # type: ignore[call-overload]
                insert(PhaseTransition)
                .values(**values)
                .on_conflict_do_nothing(index_elements=["mission_id", "phase"])
            )
            changes: dict[str, object] = {"phase": record.phase.value, "updated_at": utc_now()}
            if record.phase.is_terminal:
                changes["ended_at"] = record.at
                changes["cancel_reason"] = record.note if record.phase == "cancelled" else None
            await session.exec(  # type: ignore[call-overload]
                update(Mission).where(Mission.id == record.mission_id).values(**changes)
            )
