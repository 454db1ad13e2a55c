"""schedule runs: the figures of each run of the matchmaking scheduler

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import missionflow.runtime.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "schedule_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("requested", sa.Integer(), nullable=False),
        sa.Column("scheduled", sa.Integer(), nullable=False),
        sa.Column("upper_bound", sa.Integer(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("value_bound", sa.Integer(), nullable=True),
        sa.Column("breaks", sa.Integer(), nullable=False),
        sa.Column("breaks_bound", sa.Integer(), nullable=True),
        sa.Column("idle_slots", sa.Integer(), nullable=False),
        sa.Column("break_difference", sa.Integer(), nullable=False),
        sa.Column("max_break_difference", sa.Integer(), nullable=False),
        sa.Column("break_difference_bound", sa.Integer(), nullable=True),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("solve_seconds", sa.Float(), nullable=False),
        sa.Column(
            "created_at", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(["mission_id"], ["mission.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_schedule_run_mission_id"), "schedule_run", ["mission_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_schedule_run_mission_id"), table_name="schedule_run")
    op.drop_table("schedule_run")
