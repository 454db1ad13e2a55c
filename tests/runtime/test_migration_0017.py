"""Migration 0017 on a database with a mission: no preference list yet, one mark per participant
and other participant (a second row for the same pair is refused), and back down cleanly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from missionflow.runtime.db import alembic_config


def test_preference_marks_start_empty_and_hold_one_mark_per_pair(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0016")
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
    command.upgrade(alembic_config(url), "0017")
    tables = MetaData()
    tables.reflect(engine)
    marks = tables.tables["preference_mark"]
    row = dict(
        mission_id="old", participant_id=uuid.uuid4().hex, other_id=uuid.uuid4().hex,
        participant_kind="delegate", mark="must_meet", marked_at=now,
    )  # fmt: skip
    with engine.begin() as connection:
        assert connection.execute(select(marks)).all() == []
        connection.execute(insert(marks).values(**row))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(marks).values(**(row | {"mark": "no_thanks"})))
    command.downgrade(alembic_config(url), "0016")
    assert "preference_mark" not in inspect(engine).get_table_names()
    engine.dispose()
