"""Migration 0012 on a database with applications made before consent had versions: they keep
an unknown version (NULL), never a version they did not see, and are not erased."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import MetaData, create_engine, insert, select

from missionflow.runtime.db import alembic_config


def test_applications_before_0012_have_an_unknown_consent_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0011")
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(UTC)
    application_id = uuid.uuid4().hex
    with engine.begin() as connection:
        connection.execute(
            insert(tables.tables["mission"]).values(
                id="old", workflow_id="mission-old", title="Old", organiser="Org",
                timezone="UTC", phase="completed", file={}, created_at=now, updated_at=now,
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
    command.upgrade(alembic_config(url), "0012")
    tables = MetaData()
    tables.reflect(engine)
    application = tables.tables["application"]
    with engine.connect() as connection:
        row = connection.execute(
            select(application.c.consent_version, application.c.erased_at)
        ).one()
        assert tuple(row) == (None, None)
        assert connection.execute(select(tables.tables["audit_entry"])).all() == []
    engine.dispose()
