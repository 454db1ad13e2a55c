"""What a person's data export holds (GDPR article 15), field by field: the shapes
`person_data` fills from the rows and the private routes return."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field


class ApplicationFields(BaseModel):
    """What an application holds, as the API's application view and this export both show it:
    one list of fields, so the two cannot drift apart."""

    id: uuid.UUID
    mission_id: str
    complete: bool
    missing: list[str] = Field(description="What still keeps the application from complete.")
    organisation: str
    organisation_type: str
    country: str
    city: str
    website: str | None
    contact_name: str
    contact_email: str
    sectors: list[str]
    answers: dict[str, Any]
    submitted_at: AwareDatetime
    updated_at: AwareDatetime
    withdrawn_at: AwareDatetime | None


class ApplicationData(ApplicationFields):
    status: str
    consent: bool = Field(description="The consent given when applying.")
    consent_version: str | None = Field(
        description="The version of the consent text agreed to; null: unknown (applied before "
        "consent texts had versions)."
    )
    erased_at: datetime | None = Field(description="When this person's data was erased.")
    language: str


class InvitationData(BaseModel):
    """The invitee row a coordinator added with this person's address, if any."""

    organisation: str
    email: str
    name: str | None
    country: str | None
    added_at: datetime


class SlideData(BaseModel):
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime
    download_url: str = Field(
        description="The slide itself, with the same private link token (or coordinator token)."
    )


class EmailData(BaseModel):
    id: uuid.UUID
    template: str
    recipient: str
    recipient_name: str | None
    subject: str
    status: str = Field(description="queued, sending, sent or failed")
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    failed_at: datetime | None
    last_error: str | None
    text_body: str
    html_body: str


class SelectionData(BaseModel):
    score: float
    breakdown: dict[str, float]
    rank: int
    proposed: str
    decision: str
    waitlist_position: int | None
    reasons: list[str]
    override_reason: str | None
    seat: str | None
    respond_by: datetime | None
    seat_note: str | None
    updated_at: datetime


class SelectionEventData(BaseModel):
    """One step of the selection's audit log about this application (the coordinator who took
    it is left out: that is the coordinator's data, not the applicant's)."""

    at: datetime
    action: str
    previous: str | None
    decision: str | None
    reason: str | None


class MeetingData(BaseModel):
    id: uuid.UUID
    requested_by_me: bool
    with_organisation: str | None = Field(description="The other side's organisation name only.")
    with_kind: str = Field(description="delegate or host")
    priority: int
    note: str | None
    status: str
    requested_at: datetime
    answered_at: datetime | None
    slot_id: str | None
    table: int | None
    starts_at: datetime | None
    ends_at: datetime | None
    unscheduled_reason: str | None
    attendance: str | None


class AgendaData(BaseModel):
    """The agenda last emailed to this person, as it was sent."""

    sequence: int
    items: list[dict[str, Any]]
    sent_at: datetime


class VisitRegistrationData(BaseModel):
    visit_id: str
    status: str
    waitlist_position: int | None
    registered_at: datetime
    updated_at: datetime
    attendance: str | None
    attendance_at: datetime | None


class FeedbackData(BaseModel):
    rating_matchmaking: int | None
    rating_visits: int | None
    rating_organisation: int | None
    met_partners: bool | None
    testimonial: str | None
    consent_to_publish: bool
    late: bool
    submitted_at: datetime
    updated_at: datetime


class FollowUpData(BaseModel):
    survey: int
    agreements: int
    distribution_deals: int
    mous: int
    revisits: int
    expected_revenue_eur: float | None
    comments: str | None
    submitted_at: datetime
    updated_at: datetime


class ColleagueData(BaseModel):
    id: uuid.UUID
    name: str
    email: str
    role: str | None
    added_at: datetime


class PersonData(BaseModel):
    """Everything the mission keeps about one applicant, as one JSON document."""

    exported_at: datetime
    application: ApplicationData
    invitation: InvitationData | None
    slide: SlideData | None
    emails: list[EmailData] = Field(description="Every email to this person, oldest first.")
    selection: SelectionData | None = Field(
        description="The selection's decision; for the applicant, once the delegation is "
        "approved (before, the proposal is the coordinators' working document)."
    )
    selection_events: list[SelectionEventData]
    meetings: list[MeetingData]
    agenda: AgendaData | None
    visit_registrations: list[VisitRegistrationData]
    feedback: FeedbackData | None
    follow_up_answers: list[FollowUpData]
    colleagues: list[ColleagueData] = Field(
        default_factory=list, description="Who the applicant named as coming too."
    )
