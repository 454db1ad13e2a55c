"""people and roles: accounts, memberships, sessions, personal tokens, sign-in attempts, review
assignments

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from missionflow.runtime.columns import UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def _instant(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def _indexes(table: str, *columns: str) -> None:
    with op.batch_alter_table(table) as batch:
        for column in columns:
            batch.create_index(f"ix_{table}_{column}", [column], unique=False)


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", _text(320), nullable=False),
        sa.Column("display_name", _text(200), nullable=False),
        sa.Column("password_hash", _text(200), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        _instant("created_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "sign_in_attempt",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", _text(320), nullable=False),
        _instant("at"),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_sign_in_attempt_email_at", "sign_in_attempt", ["email", "at"])
    op.create_table(
        "membership",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", _text(64), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("role", _text(20), nullable=False),
        _instant("created_at"),
        sa.ForeignKeyConstraint(["mission_id"], ["mission.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mission_id", "person_id", name="uq_membership_person"),
    )
    _indexes("membership", "mission_id", "person_id")
    op.create_table(
        "person_session",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", _text(64), nullable=False),
        sa.Column("csrf_token", _text(64), nullable=False),
        _instant("created_at"),
        _instant("expires_at"),
        _instant("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    _indexes("person_session", "person_id")
    op.create_table(
        "personal_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", _text(64), nullable=False),
        sa.Column("name", _text(200), nullable=False),
        sa.Column("role", _text(20), nullable=True),
        sa.Column("mission_id", _text(64), nullable=True),
        _instant("created_at"),
        _instant("last_used_at", nullable=True),
        _instant("revoked_at", nullable=True),
        sa.ForeignKeyConstraint(["mission_id"], ["mission.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    _indexes("personal_token", "person_id")
    op.create_table(
        "review_assignment",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mission_id", _text(64), nullable=False),
        sa.Column("application_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        _instant("created_at"),
        sa.ForeignKeyConstraint(["application_id"], ["application.id"]),
        sa.ForeignKeyConstraint(["mission_id"], ["mission.id"]),
        sa.ForeignKeyConstraint(["person_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("application_id", "person_id", name="uq_review_assignment"),
    )
    _indexes("review_assignment", "application_id", "mission_id", "person_id")


def downgrade() -> None:
    for table in (
        "review_assignment",
        "personal_token",
        "person_session",
        "membership",
        "sign_in_attempt",
        "person",
    ):
        op.drop_table(table)  # its indexes go with it
