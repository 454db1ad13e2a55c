"""several people per organisation: the colleagues an organisation names, and who goes to
each meeting

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from missionflow.runtime.columns import UTCDateTime

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "representative",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("side", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("added_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mission_id"], ["mission.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_representative_mission_id", "representative", ["mission_id"])
    op.create_index("ix_representative_organisation_id", "representative", ["organisation_id"])
    # Meetings before: the two contacts go (an empty list says so).
    with op.batch_alter_table("meeting") as batch:
        batch.add_column(
            sa.Column("attendees", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )


def downgrade() -> None:
    with op.batch_alter_table("meeting") as batch:
        batch.drop_column("attendees")
    op.drop_index("ix_representative_organisation_id", table_name="representative")
    op.drop_index("ix_representative_mission_id", table_name="representative")
    op.drop_table("representative")
