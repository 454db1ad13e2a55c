"""report pdf printed on demand

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 22:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A batch operation: SQLite changes a column's nullability by copying the table.
    with op.batch_alter_table("report") as batch:
        batch.alter_column("pdf", existing_type=sa.LargeBinary(), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("report") as batch:
        batch.alter_column("pdf", existing_type=sa.LargeBinary(), nullable=False)
