"""Migration 0015 on a database with applications and reviewers: no one has scored yet, a
reviewer scores an application once (a second row for the same pair is refused), and the
migration goes back down cleanly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from missionflow.runtime.db import alembic_config


def test_review_scores_start_empty_and_hold_one_per_reviewer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0014")
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(UTC)
    application_id, person_id = uuid.uuid4().hex, uuid.uuid4().hex
    with engine.begin() as connection:
        connection.execute(
            insert(tables.tables["mission"]).values(
                id="old", workflow_id="mission-old", title="Old", organiser="Org",
                timezone="UTC", phase="selection", file={}, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        connection.execute(
            insert(tables.tables["application"]).values(
                id=application_id, mission_id="old", organisation="Cluster",
                organisation_key="cluster", organisation_type="sme", country="DE",
                city="Bonn", contact_name="Ana", contact_email="ana@example.org",
                email_key="ana@example.org", sectors=[], answers={}, consent=True,
                status="received", complete=True, missing=[], submitted_at=now, updated_at=now,
            )
        )  # fmt: skip
        connection.execute(
            insert(tables.tables["person"]).values(
                id=person_id, email="rita@example.org", display_name="Rita",
                password_hash=None, is_admin=False, created_at=now,
            )
        )  # fmt: skip
    command.upgrade(alembic_config(url), "0015")
    tables = MetaData()
    tables.reflect(engine)
    scores = tables.tables["review_score"]
    row = dict(
        id=uuid.uuid4().hex, mission_id="old", application_id=application_id,
        person_id=person_id, score=4, comment=None, created_at=now, updated_at=now,
    )  # fmt: skip
    with engine.begin() as connection:
        assert connection.execute(select(scores)).all() == []
        connection.execute(insert(scores).values(**row))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(scores).values(**(row | {"id": uuid.uuid4().hex})))
    command.downgrade(alembic_config(url), "0014")
    assert "review_score" not in inspect(engine).get_table_names()
    engine.dispose()
