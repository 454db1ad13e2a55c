"""Migration 0018 on a database with a placed meeting: no one has rated it yet, a rater rates a
meeting once per stage (a second row for the same rater, meeting and stage is refused, the
other stage is a row of its own), and the migration goes back down cleanly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from missionflow.runtime.db import alembic_config


def test_meeting_ratings_start_empty_and_hold_one_per_rater_meeting_and_stage(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0017")
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(UTC)
    meeting_id, delegate, host = uuid.uuid4().hex, uuid.uuid4().hex, uuid.uuid4().hex
    with engine.begin() as connection:
        connection.execute(
            insert(tables.tables["mission"]).values(
                id="old", workflow_id="mission-old", title="Old", organiser="Org",
                timezone="UTC", phase="reporting", file={}, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        connection.execute(
            insert(tables.tables["meeting"]).values(
                id=meeting_id, mission_id="old", pair_key=f"{delegate}:{host}",
                requester_id=delegate, requester_kind="delegate", invitee_id=host,
                invitee_kind="host", priority=3, status="accepted", requested_at=now,
                starts_at=now, ends_at=now,
            )
        )  # fmt: skip
    command.upgrade(alembic_config(url), "0018")
    tables = MetaData()
    tables.reflect(engine)
    ratings = tables.tables["meeting_rating"]
    row = dict(
        id=uuid.uuid4().hex, mission_id="old", meeting_id=meeting_id, stage=1,
        rater_kind="delegate", rater_id=delegate, outcome="follow_up_planned", comment=None,
        created_at=now, updated_at=now,
    )  # fmt: skip
    with engine.begin() as connection:
        assert connection.execute(select(ratings)).all() == []
        connection.execute(insert(ratings).values(**row))
        connection.execute(insert(ratings).values(**(row | {"id": uuid.uuid4().hex, "stage": 2})))
        connection.execute(
            insert(ratings).values(
                **(row | {"id": uuid.uuid4().hex, "rater_kind": "host", "rater_id": host})
            )
        )
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(ratings).values(**(row | {"id": uuid.uuid4().hex})))
    command.downgrade(alembic_config(url), "0017")
    assert "meeting_rating" not in inspect(engine).get_table_names()
    engine.dispose()
