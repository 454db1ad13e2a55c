"""Migration 0014 on a database that already has people: they keep their accounts, no one has a
sign-in link yet, a token's digest is stored once, and the migration goes back down cleanly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import MetaData, create_engine, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from missionflow.runtime.db import alembic_config


def test_people_before_0014_keep_their_accounts_and_have_no_links(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'before.db'}"
    command.upgrade(alembic_config(url), "0013")
    engine = create_engine(url)
    tables = MetaData()
    tables.reflect(engine)
    now = datetime.now(UTC)
    person_id = uuid.uuid4().hex
    with engine.begin() as connection:
        connection.execute(
            insert(tables.tables["person"]).values(
                id=person_id, email="ana@example.org", display_name="Ana",
                password_hash=None, is_admin=False, created_at=now,
            )
        )  # fmt: skip
    command.upgrade(alembic_config(url), "0014")
    tables = MetaData()
    tables.reflect(engine)
    link = tables.tables["sign_in_link"]
    with engine.begin() as connection:
        assert connection.execute(select(tables.tables["person"].c.email)).scalars().all() == [
            "ana@example.org"
        ]
        assert connection.execute(select(link)).all() == []
        row = dict(
            id=uuid.uuid4().hex, person_id=person_id, token_hash="a" * 64, created_at=now,
            expires_at=now + timedelta(minutes=15), used_at=None,
        )  # fmt: skip
        connection.execute(insert(link).values(**row))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(insert(link).values(**(row | {"id": uuid.uuid4().hex})))
    command.downgrade(alembic_config(url), "0013")
    assert "sign_in_link" not in inspect(engine).get_table_names()
    engine.dispose()
