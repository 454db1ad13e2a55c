"""Migration 0019 on a database with a host and an application: both meet in person at any
table afterwards (no table, not remote), a host can then be given a table, and the migration
goes back down cleanly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import MetaData, create_engine, insert, inspect, select, update

from missionflow.runtime.db import alembic_config


def test_hosts_and_delegates_start_in_person_at_any_table(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0018")
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(UTC)
    host_id, application_id = uuid.uuid4().hex, uuid.uuid4().hex
    with engine.begin() as connection:
        connection.execute(
            insert(tables.tables["mission"]).values(
                id="old", workflow_id="mission-old", title="Old", organiser="Org",
                timezone="UTC", phase="matchmaking", file={}, created_at=now, updated_at=now,
            )
        )  # fmt: skip
        connection.execute(
            insert(tables.tables["host"]).values(
                id=host_id, mission_id="old", name="Acme", name_key="acme", country="US",
                sector="Biotech", contact_name="Bo", contact_email="bo@example.org",
                unavailable=[], added_at=now,
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
    command.upgrade(alembic_config(url), "0019")
    tables = MetaData()
    tables.reflect(engine)
    host, application = tables.tables["host"], tables.tables["application"]
    with engine.begin() as connection:
        assert connection.execute(select(host.c.table, host.c.remote)).all() == [(None, False)]
        assert connection.execute(select(application.c.remote)).scalars().all() == [False]
        connection.execute(update(host).values(table="a1"))
        assert connection.execute(select(host.c.table)).scalars().all() == ["a1"]
    command.downgrade(alembic_config(url), "0018")
    assert "remote" not in {c["name"] for c in inspect(engine).get_columns("host")}
    assert "table" not in {c["name"] for c in inspect(engine).get_columns("host")}
    assert "remote" not in {c["name"] for c in inspect(engine).get_columns("application")}
    engine.dispose()
