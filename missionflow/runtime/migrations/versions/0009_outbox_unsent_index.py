"""outbox: an index on what a delivery claims

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 00:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_outbox_message_unsent", "outbox_message", ["mission_id", "status", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_message_unsent", table_name="outbox_message")
