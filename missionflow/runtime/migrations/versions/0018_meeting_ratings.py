"""meeting outcome ratings: one per rater, meeting and stage (after the event, at the follow-up)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 23:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from missionflow.runtime.columns import UTCDateTime

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meeting_rating",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("meeting_id", sa.Uuid(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("rater_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("rater_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.ForeignKeyConstraint(["mission_id"], ["mission.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "rater_id", "stage", name="uq_meeting_rating"),
    )
    with op.batch_alter_table("meeting_rating") as batch:
        for column in ("meeting_id", "mission_id"):
            batch.create_index(f"ix_meeting_rating_{column}", [column], unique=False)


def downgrade() -> None:
    op.drop_table("meeting_rating")  # its indexes go with it
