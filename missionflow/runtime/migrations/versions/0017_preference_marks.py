"""preference lists of the matchmaking event: one mark per participant and other participant

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 23:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from missionflow.runtime.columns import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "preference_mark",
        sa.Column("mission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("participant_id", sa.Uuid(), nullable=False),
        sa.Column("other_id", sa.Uuid(), nullable=False),
        sa.Column("participant_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("mark", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("marked_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["mission_id"], ["mission.id"]),
        sa.PrimaryKeyConstraint("mission_id", "participant_id", "other_id"),
    )


def downgrade() -> None:
    op.drop_table("preference_mark")
