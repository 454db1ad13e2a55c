"""The tables of missionflow's people: accounts, their roles per mission, their sessions and
personal tokens, sign-in attempts and review assignments (migration 0013), one-time sign-in links
(migration 0014).

Secrets are never stored: a password as its Argon2id hash, a session cookie and a personal
token as the SHA-256 of a random value. Those values are 32 random bytes, so a fast hash is
enough for them; a password, chosen by a person, needs the slow one.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from missionflow.runtime.columns import instant, utc_now

PERSONAL_TOKEN_PREFIX = "mfp_"
"""Starts every personal token, so that a refused one is told apart from a wrong bootstrap token,
and secret scanners can recognise a leaked one."""

_HASHER = PasswordHasher()
_DECOY = _HASHER.hash(secrets.token_urlsafe(16))


class Person(SQLModel, table=True):
    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320, unique=True, description="Stored in lower case.")
    display_name: str = Field(max_length=200)
    password_hash: str | None = Field(default=None, max_length=200)
    is_admin: bool = False
    created_at: datetime = instant(default_factory=utc_now)


class Membership(SQLModel, table=True):
    """A person's role on one mission."""

    __table_args__ = (UniqueConstraint("mission_id", "person_id", name="uq_membership_person"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    role: str = Field(max_length=20)
    created_at: datetime = instant(default_factory=utc_now)


class PersonalToken(SQLModel, table=True):
    __tablename__ = "personal_token"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    role: str | None = Field(default=None, max_length=20, description="None: the person's own.")
    mission_id: str | None = Field(
        default=None, foreign_key="mission.id", max_length=64, description="None: every mission."
    )
    created_at: datetime = instant(default_factory=utc_now)
    last_used_at: datetime | None = instant(default=None)
    revoked_at: datetime | None = instant(default=None)


class PersonSession(SQLModel, table=True):
    """A signed-in browser. Kept on the server so that signing out ends it at once."""

    __tablename__ = "person_session"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = instant(default_factory=utc_now)
    expires_at: datetime = instant()
    revoked_at: datetime | None = instant(default=None)


class SignInAttempt(SQLModel, table=True):
    """One try to sign in, by the email given, whether or not anyone has it."""

    __tablename__ = "sign_in_attempt"
    __table_args__ = (Index("ix_sign_in_attempt_email_at", "email", "at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(max_length=320)
    at: datetime = instant(default_factory=utc_now)
    succeeded: bool


class SignInLink(SQLModel, table=True):
    """A link emailed to sign in once, without a password. Its token is stored as a digest, like a
    session's, so that a copy of the database signs no one in."""

    __tablename__ = "sign_in_link"
    __table_args__ = (Index("ix_sign_in_link_person_id_created_at", "person_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    person_id: uuid.UUID = Field(foreign_key="person.id")
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = instant(default_factory=utc_now)
    expires_at: datetime = instant()
    used_at: datetime | None = instant(default=None)


class ReviewAssignment(SQLModel, table=True):
    """An application a reviewer is to see and score."""

    __tablename__ = "review_assignment"
    __table_args__ = (UniqueConstraint("application_id", "person_id", name="uq_review_assignment"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    application_id: uuid.UUID = Field(foreign_key="application.id", index=True)
    person_id: uuid.UUID = Field(foreign_key="person.id", index=True)
    created_at: datetime = instant(default_factory=utc_now)


def new_person(*, email: str, display_name: str, password: str, is_admin: bool) -> Person:
    """A person to add, their email in lower case and their password hashed."""
    return Person(
        email=normal_email(email),
        display_name=display_name,
        password_hash=_HASHER.hash(password),
        is_admin=is_admin,
    )


def password_matches(password_hash: str | None, password: str) -> bool:
    """Whether `password` is the one hashed; with no hash (an unknown email, an account without
    a password) a decoy is checked all the same, so the answer takes as long either way."""
    try:
        return _HASHER.verify(password_hash or _DECOY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_secret(prefix: str = "") -> tuple[str, str]:
    """A fresh random value to hand out once, and the digest to store for it."""
    value = prefix + secrets.token_urlsafe(32)
    return value, secret_digest(value)


def secret_digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def normal_email(email: str) -> str:
    return email.strip().lower()
