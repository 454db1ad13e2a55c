"""Migration 0020 on a database with a meeting: the meeting's attendees are empty afterwards
(the two contacts go, as before), an organisation can then name a colleague who goes, and the
migration goes back down cleanly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import MetaData, create_engine, insert, inspect, select, update

from missionflow.runtime.db import alembic_config


def test_meetings_before_are_between_the_two_contacts(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0019")
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(UTC)
    delegate, host = uuid.uuid4(), uuid.uuid4()
    with engine.begin() as connection:
        connection.execute(
            insert(tables.tables["mission"]).values(
                id="old", workflow_id="mission-old", title="Old", organiser="Org",
                timezone="UTC", phase="matchmaking", file={}, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        connection.execute(
            insert(tables.tables["meeting"]).values(
                id=uuid.uuid4().hex, mission_id="old", pair_key=f"{delegate}:{host}",
                requester_id=delegate.hex, requester_kind="delegate", invitee_id=host.hex,
                invitee_kind="host", priority=2, status="accepted", requested_at=now,
            )
        )  # fmt: skip
    command.upgrade(alembic_config(url), "0020")
    tables = MetaData()
    tables.reflect(engine)
    meeting, representative = tables.tables["meeting"], tables.tables["representative"]
    colleague = uuid.uuid4()
    with engine.begin() as connection:
        assert connection.execute(select(meeting.c.attendees)).scalars().all() == [[]]
        connection.execute(
            insert(representative).values(
                id=colleague.hex, mission_id="old", organisation_id=delegate.hex,
                side="delegate", name="Cleo", email="cleo@example.org", role="CTO", added_at=now,
            )
        )  # fmt: skip
        connection.execute(update(meeting).values(attendees=[str(colleague), str(host)]))
        assert connection.execute(select(meeting.c.attendees)).scalars().all() == [
            [str(colleague), str(host)]
        ]
    command.downgrade(alembic_config(url), "0019")
    assert "representative" not in inspect(engine).get_table_names()
    assert "attendees" not in {c["name"] for c in inspect(engine).get_columns("meeting")}
    engine.dispose()
