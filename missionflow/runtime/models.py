"""Database tables. Alembic owns the schema (missionflow/migrations); these are its source."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from missionflow.runtime.audit import AuditEntry as AuditEntry  # registers its table
from missionflow.runtime.check_ins import CheckIn as CheckIn  # registers its table
from missionflow.runtime.columns import UTCDateTime as UTCDateTime  # the migrations name it here
from missionflow.runtime.columns import instant, utc_now
from missionflow.runtime.erased_addresses import ErasedAddress as ErasedAddress  # its table
from missionflow.runtime.matchmaking_records import AgendaSent as AgendaSent  # their tables
from missionflow.runtime.matchmaking_records import PreferenceMark as PreferenceMark
from missionflow.runtime.matchmaking_records import ScheduleRun as ScheduleRun
from missionflow.runtime.meeting_rating_table import MeetingRating as MeetingRating  # its table
from missionflow.runtime.people import Person as Person  # registers the people's tables
from missionflow.runtime.representatives import (  # registers its table
    Representative as Representative,
)
from missionflow.runtime.review_scores import ReviewScore as ReviewScore  # registers its table


class Mission(SQLModel, table=True):
    id: str = Field(primary_key=True, max_length=64)
    workflow_id: str = Field(unique=True, max_length=80)
    title: str = Field(max_length=200)
    organiser: str = Field(max_length=500)
    timezone: str = Field(max_length=64)
    phase: str = Field(max_length=32, index=True)
    file: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = instant(default_factory=utc_now)
    updated_at: datetime = instant(default_factory=utc_now)
    ended_at: datetime | None = instant(default=None)
    cancel_reason: str | None = Field(default=None, sa_column=Column(Text))
    personal_data_erased_at: datetime | None = instant(default=None)


class PhaseTransition(SQLModel, table=True):
    __tablename__ = "phase_transition"
    __table_args__ = (UniqueConstraint("mission_id", "phase", name="uq_phase_transition_phase"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    phase: str = Field(max_length=32)
    previous: str | None = Field(default=None, max_length=32)
    at: datetime = instant()
    recorded_at: datetime = instant(default_factory=utc_now)
    run_id: str = Field(max_length=64)
    note: str | None = Field(default=None, sa_column=Column(Text))


class SinkMessage(SQLModel, table=True):
    """A message caught by the development SMTP sink, shown at /dev/mailbox."""

    __tablename__ = "sink_message"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    received_at: datetime = instant(default_factory=utc_now, index=True)
    mail_from: str = Field(max_length=500)
    recipients: list[str] = Field(sa_column=Column(JSON, nullable=False))
    subject: str = Field(default="", sa_column=Column(Text, nullable=False))
    message_id: str | None = Field(default=None, max_length=500)
    template: str | None = Field(default=None, max_length=100, index=True)
    mission_id: str | None = Field(default=None, max_length=64, index=True)
    raw: str = Field(sa_column=Column(Text, nullable=False))


class Application(SQLModel, table=True):
    """An expression of interest. Written by the mission workflow's activity once the workflow
    has said the call is open, so a refused application leaves no row."""

    __table_args__ = (
        UniqueConstraint(
            "mission_id", "email_key", "organisation_key", name="uq_application_applicant"
        ),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    organisation: str = Field(max_length=300)
    organisation_key: str = Field(max_length=300, description="Casefolded, spaces collapsed.")
    organisation_type: str = Field(max_length=40)
    country: str = Field(max_length=2, index=True)
    city: str = Field(max_length=200)
    website: str | None = Field(default=None, max_length=500)
    contact_name: str = Field(max_length=200)
    contact_email: str = Field(max_length=320)
    email_key: str = Field(max_length=320, description="Casefolded contact email.")
    sectors: list[str] = Field(sa_column=Column(JSON, nullable=False))
    answers: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    consent: bool
    status: str = Field(max_length=20, index=True)
    complete: bool = Field(index=True)
    missing: list[str] = Field(sa_column=Column(JSON, nullable=False))
    language: str = Field(
        default="en",
        max_length=20,
        sa_column_kwargs={"server_default": "en"},
        description="The language the applicant applied in; every email and page to them uses it.",
    )
    submitted_at: datetime = instant()
    updated_at: datetime = instant()
    withdrawn_at: datetime | None = instant(default=None)
    consent_version: str | None = Field(default=None, max_length=40, description="None: unknown.")
    erased_at: datetime | None = instant(default=None)
    remote: bool = Field(
        default=False,
        sa_column_kwargs={"server_default": false()},
        description="Set by a coordinator: the delegate meets hosts by video.",
    )


class Slide(SQLModel, table=True):
    """A one-slide presentation. The API stores the upload first (too large for a workflow
    payload); the workflow's activity attaches it to the application once the call has accepted
    it, and a refused request deletes it again."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    application_id: uuid.UUID | None = Field(
        default=None, foreign_key="application.id", unique=True
    )
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=100)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_at: datetime = instant()


class OutboxMessage(SQLModel, table=True):
    """One email: rendered and queued with the change that caused it, then sent by an activity.

    States: queued → sending (claimed by a delivery, committed before any byte goes out) →
    sent or failed. A failure is data on the row: the SMTP answer, its code, when.
    """

    __tablename__ = "outbox_message"
    # What a delivery claims: a mission's unsent messages, oldest first. Without it the planner
    # reads every message the mission ever queued to find the few waiting.
    __table_args__ = (Index("ix_outbox_message_unsent", "mission_id", "status", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    application_id: uuid.UUID | None = Field(default=None, index=True)
    template: str = Field(max_length=64, index=True)
    idempotency_key: str = Field(max_length=300, unique=True)
    recipient: str = Field(max_length=320)
    recipient_name: str | None = Field(default=None, max_length=200)
    subject: str = Field(sa_column=Column(Text, nullable=False))
    text_body: str = Field(sa_column=Column(Text, nullable=False))
    html_body: str = Field(sa_column=Column(Text, nullable=False))
    headers: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    content: bytes | None = Field(
        default=None,
        sa_column=Column(LargeBinary),
        description="The whole message as sent, built when queued (None: build at sending).",
    )
    message_id: str = Field(max_length=200, unique=True)
    status: str = Field(max_length=10, index=True)
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    smtp_code: int | None = None
    created_at: datetime = instant(default_factory=utc_now)
    claimed_at: datetime | None = instant(default=None)
    sent_at: datetime | None = instant(default=None)
    failed_at: datetime | None = instant(default=None)


class InvitedOrganisation(SQLModel, table=True):
    """An invitee added after the start (a CSV from a coordinator). The mission file's own
    invitees stay in the file; the call speaks to both."""

    __tablename__ = "invitee"
    __table_args__ = (UniqueConstraint("mission_id", "email_key", name="uq_invitee_email"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    organisation: str = Field(max_length=500)
    email: str = Field(max_length=320)
    email_key: str = Field(max_length=320, description="Casefolded email.")
    name: str | None = Field(default=None, max_length=500)
    country: str | None = Field(default=None, max_length=2)
    added_at: datetime = instant()


class SelectionDecision(SQLModel, table=True):
    """The proposal for one application (score, rank, reasons) and the decision as it stands
    after the coordinators' overrides and approval."""

    __tablename__ = "selection_decision"

    application_id: uuid.UUID = Field(foreign_key="application.id", primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    score: float
    breakdown: dict[str, float] = Field(sa_column=Column(JSON, nullable=False))
    rank: int
    proposed: str = Field(max_length=20)
    decision: str = Field(max_length=20, index=True)
    waitlist_position: int | None = None
    reasons: list[str] = Field(sa_column=Column(JSON, nullable=False))
    override_reason: str | None = Field(default=None, sa_column=Column(Text))
    seat: str | None = Field(
        default=None, max_length=20, description="offered, confirmed, released"
    )
    respond_by: datetime | None = instant(default=None)
    seat_note: str | None = Field(default=None, max_length=20, description="Why it was released.")
    updated_at: datetime = instant()


class SelectionEvent(SQLModel, table=True):
    """The audit log of the selection: who decided what, when and why. Ids are derived from the
    event itself, so a retried activity writes each event once."""

    __tablename__ = "selection_event"

    id: uuid.UUID = Field(primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    at: datetime = instant()
    by: str | None = Field(default=None, max_length=200)
    action: str = Field(max_length=20)
    application_id: uuid.UUID | None = Field(default=None, foreign_key="application.id")
    previous: str | None = Field(default=None, max_length=20)
    decision: str | None = Field(default=None, max_length=20)
    reason: str | None = Field(default=None, sa_column=Column(Text))


class Host(SQLModel, table=True):
    """A host organisation of the matchmaking event, loaded by a coordinator; it answers and
    makes meeting requests through its private link."""

    __table_args__ = (UniqueConstraint("mission_id", "name_key", name="uq_host_name"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    name: str = Field(max_length=300)
    name_key: str = Field(max_length=300, description="Casefolded, spaces collapsed.")
    country: str = Field(max_length=2)
    sector: str = Field(max_length=200)
    description: str | None = Field(default=None, sa_column=Column(Text))
    contact_name: str = Field(max_length=200)
    contact_email: str = Field(max_length=320)
    unavailable: list[str] = Field(
        sa_column=Column(JSON, nullable=False), description="Slot ids it cannot meet in."
    )
    table: str | None = Field(
        default=None, max_length=64, description="The id of the table it always meets at."
    )
    remote: bool = Field(
        default=False,
        sa_column_kwargs={"server_default": false()},
        description="Meets by video: its meetings take no table and carry a link.",
    )
    added_at: datetime = instant()


class Meeting(SQLModel, table=True):
    """A meeting between a delegate and a host: requested, answered, then placed in a slot at a
    table. Requests between the same pair are one row (`pair_key`)."""

    __table_args__ = (UniqueConstraint("mission_id", "pair_key", name="uq_meeting_pair"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    pair_key: str = Field(max_length=80)
    requester_id: uuid.UUID
    requester_kind: str = Field(max_length=10, description="delegate or host")
    invitee_id: uuid.UUID
    invitee_kind: str = Field(max_length=10)
    priority: int
    note: str | None = Field(default=None, sa_column=Column(Text))
    status: str = Field(
        max_length=12,
        index=True,
        description="pending, accepted, declined, cancelled, or expired (unanswered in time)",
    )
    requested_at: datetime = instant()
    answered_at: datetime | None = instant(default=None)
    slot_id: str | None = Field(default=None, max_length=40)
    table: int | None = None
    starts_at: datetime | None = instant(default=None)
    ends_at: datetime | None = instant(default=None)
    unscheduled_reason: str | None = Field(default=None, sa_column=Column(Text))
    attendance: str | None = Field(default=None, max_length=10, description="held or no_show")
    attendees: list[str] = Field(
        default_factory=list,
        sa_column=Column(JSON, nullable=False, server_default="[]"),
        description="Who goes (contacts' and colleagues' ids); empty: the two contacts.",
    )


class VisitRegistration(SQLModel, table=True):
    """A delegate's place on a visit, or on its waitlist. The mission workflow decides who gets
    a place (capacity, order of arrival); this row records it and, later, the attendance."""

    __tablename__ = "visit_registration"
    __table_args__ = (
        UniqueConstraint("mission_id", "visit_id", "application_id", name="uq_visit_registration"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    visit_id: str = Field(max_length=64)
    application_id: uuid.UUID = Field(foreign_key="application.id")
    status: str = Field(max_length=12, description="registered, waitlisted or cancelled")
    waitlist_position: int | None = None
    registered_at: datetime = instant()
    updated_at: datetime = instant()
    attendance: str | None = Field(default=None, max_length=10, description="attended or no_show")
    attendance_at: datetime | None = instant(default=None)


class Feedback(SQLModel, table=True):
    """A participant's answer to the feedback request after the visits: one per participant,
    amended in place. The testimonial is published only with `consent_to_publish`."""

    __table_args__ = (
        UniqueConstraint("mission_id", "respondent_id", name="uq_feedback_respondent"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    respondent_kind: str = Field(max_length=10, description="delegate or host")
    respondent_id: uuid.UUID = Field(description="The application's or the host's id.")
    rating_matchmaking: int | None = None
    rating_visits: int | None = None
    rating_organisation: int | None = None
    met_partners: bool | None = None
    testimonial: str | None = Field(default=None, sa_column=Column(Text))
    consent_to_publish: bool = False
    late: bool = Field(default=False, description="First given after the feedback closed.")
    submitted_at: datetime = instant()
    updated_at: datetime = instant()


class FollowUpAnswer(SQLModel, table=True):
    """A delegate's answer to one follow-up survey: what came of the mission months later."""

    __tablename__ = "follow_up_answer"
    __table_args__ = (
        UniqueConstraint("mission_id", "application_id", "survey", name="uq_follow_up_answer"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    application_id: uuid.UUID = Field(foreign_key="application.id")
    survey: int = Field(description="1 for the first survey, in the mission file's order.")
    agreements: int = 0
    distribution_deals: int = 0
    mous: int = 0
    revisits: int = 0
    expected_revenue_eur: float | None = None
    comments: str | None = Field(default=None, sa_column=Column(Text))
    submitted_at: datetime = instant()
    updated_at: datetime = instant()


class Report(SQLModel, table=True):
    """One production of the mission's report, in every format; the newest version is served.
    Earlier versions are kept, so what the coordinators were sent can be read again."""

    __table_args__ = (UniqueConstraint("mission_id", "version", name="uq_report_version"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    mission_id: str = Field(foreign_key="mission.id", index=True, max_length=64)
    version: int
    reason: str = Field(max_length=200, description="Why it was produced, in words.")
    produced_at: datetime = instant()
    figures: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    html: str = Field(sa_column=Column(Text, nullable=False))
    csv: str = Field(sa_column=Column(Text, nullable=False))
    article: str = Field(sa_column=Column(Text, nullable=False), description="Markdown.")
    pdf: bytes | None = Field(
        default=None,
        sa_column=Column(LargeBinary, nullable=True),
        description="Printed from `html` when first needed (seconds of CPU): for the "
        "coordinators' email, or at the first download.",
    )
