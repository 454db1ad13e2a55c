"""missions, phase transitions and the dev mailbox

Revision ID: 0001
Revises:
Create Date: 2026-11-23 13:32:00.495912
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import missionflow.runtime.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "mission",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("workflow_id", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("organiser", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("timezone", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("phase", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("file", sa.JSON(), nullable=False),
        sa.Column(
            "created_at", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("ended_at", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workflow_id"),
    )
    with op.batch_alter_table("mission", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mission_phase"), ["phase"], unique=False)

    op.create_table(
        "sink_message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column(
            "received_at", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("mail_from", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("template", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column("mission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sink_message", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sink_message_mission_id"), ["mission_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sink_message_received_at"), ["received_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sink_message_template"), ["template"], unique=False)

    op.create_table(
        "phase_transition",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("phase", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("previous", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("at", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "recorded_at", missionflow.runtime.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("run_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["mission_id"],
            ["mission.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mission_id", "phase", name="uq_phase_transition_phase"),
    )
    with op.batch_alter_table("phase_transition", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phase_transition_mission_id"), ["mission_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("phase_transition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phase_transition_mission_id"))

    op.drop_table("phase_transition")
    with op.batch_alter_table("sink_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sink_message_template"))
        batch_op.drop_index(batch_op.f("ix_sink_message_received_at"))
        batch_op.drop_index(batch_op.f("ix_sink_message_mission_id"))

    op.drop_table("sink_message")
    with op.batch_alter_table("mission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mission_phase"))

    op.drop_table("mission")
