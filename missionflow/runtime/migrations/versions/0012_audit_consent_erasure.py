"""person's rights: the mission audit log, the consent version applied under, erasure marks

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import missionflow.runtime.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_entry",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["mission_id"], ["mission.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_entry_mission_at", "audit_entry", ["mission_id", "at"])
    op.create_table(
        "erased_address",
        sa.Column("mission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["mission_id"], ["mission.id"]),
        sa.PrimaryKeyConstraint("mission_id", "digest"),
    )
    # Applications made before consent had versions keep NULL: which text they agreed to is
    # unknown, and the export says so rather than guess.
    with op.batch_alter_table("application") as batch:
        batch.add_column(
            sa.Column("consent_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True)
        )
        batch.add_column(
            sa.Column(
                "erased_at", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=True
            )
        )
    with op.batch_alter_table("mission") as batch:
        batch.add_column(
            sa.Column(
                "personal_data_erased_at",
                missionflow.runtime.models.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("mission") as batch:
        batch.drop_column("personal_data_erased_at")
    with op.batch_alter_table("application") as batch:
        batch.drop_column("erased_at")
        batch.drop_column("consent_version")
    op.drop_table("erased_address")
    op.drop_index("ix_audit_entry_mission_at", table_name="audit_entry")
    op.drop_table("audit_entry")
