"""Migration 0016 on a database with a mission: nobody has checked in yet, a participant checks
in once (a second row for the same one is refused), and the migration goes back down cleanly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from missionflow.runtime.db import alembic_config


def test_check_ins_start_empty_and_hold_one_per_participant(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0015")
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(UTC)
    with engine.begin() as connection:
        connection.execute(
            insert(tables.tables["mission"]).values(
                id="old", workflow_id="mission-old", title="Old", organiser="Org",
                timezone="UTC", phase="matchmaking", file={}, created_at=now, updated_at=now,
            )
        )  # fmt: skip
    command.upgrade(alembic_config(url), "0016")
    tables = MetaData()
    tables.reflect(engine)
    check_ins = tables.tables["check_in"]
    row = dict(
        mission_id="old", participant_id=uuid.uuid4().hex, side="host",
        checked_in_at=now, checked_in_by="Cora Coordinator <cora@example.org>",
    )  # fmt: skip
    with engine.begin() as connection:
        assert connection.execute(select(check_ins)).all() == []
        connection.execute(insert(check_ins).values(**row))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(check_ins).values(**row))

    command.downgrade(alembic_config(url), "0015")
    assert "check_in" not in inspect(engine).get_table_names()
    engine.dispose()
