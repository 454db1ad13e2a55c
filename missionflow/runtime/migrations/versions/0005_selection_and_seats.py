"""selection decisions, seats and their audit log

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:38:31.215029
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import missionflow.runtime.models

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "selection_decision",
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("breakdown", sa.JSON(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("proposed", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("waitlist_position", sa.Integer(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("seat", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column(
            "respond_by", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("seat_note", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column(
            "updated_at", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
        ),
        sa.ForeignKeyConstraint(
            ["mission_id"],
            ["mission.id"],
        ),
        sa.PrimaryKeyConstraint("application_id"),
    )
    with op.batch_alter_table("selection_decision", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_selection_decision_decision"), ["decision"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_selection_decision_mission_id"), ["mission_id"], unique=False
        )

    op.create_table(
        "selection_event",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=True),
        sa.Column("previous", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
        ),
        sa.ForeignKeyConstraint(
            ["mission_id"],
            ["mission.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("selection_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_selection_event_mission_id"), ["mission_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("selection_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_event_mission_id"))

    op.drop_table("selection_event")
    with op.batch_alter_table("selection_decision", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_selection_decision_mission_id"))
        batch_op.drop_index(batch_op.f("ix_selection_decision_decision"))

    op.drop_table("selection_decision")
