"""fixed tables and remote participants: a host's table and whether it meets by video, and
whether a delegate does

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Everyone loaded before met in person at any table.
    with op.batch_alter_table("host") as batch:
        batch.add_column(
            sa.Column("table", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(
            sa.Column("remote", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("application") as batch:
        batch.add_column(
            sa.Column("remote", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("application") as batch:
        batch.drop_column("remote")
    with op.batch_alter_table("host") as batch:
        batch.drop_column("remote")
        batch.drop_column("table")
