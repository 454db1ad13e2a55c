"""What travels after the event: feedback, follow-up answers and the report.

Each workflow, update, query and activity takes one model (never loose arguments), so a field
can be added later; they go through Temporal's pydantic data converter.
"""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, Field

from missionflow.domain.reporting.meeting_ratings import EventRatings, FollowUpRatings


class ReportingProgress(BaseModel):
    feedback_requested: bool = False
    feedback_reminded: bool = False
    reports: int = Field(default=0, description="Versions of the report produced so far.")
    stale_since: AwareDatetime | None = Field(
        default=None, description="When the first answer since the last report arrived."
    )
    surveys_sent: int = 0
    final: bool = Field(default=False, description="The closing report was produced and sent.")


class FeedbackInput(BaseModel):
    respondent_id: uuid.UUID = Field(description="The application's or the host's id.")
    respondent_kind: str = Field(pattern="^(delegate|host)$")
    rating_matchmaking: int | None = Field(default=None, ge=1, le=5)
    rating_visits: int | None = Field(default=None, ge=1, le=5)
    rating_organisation: int | None = Field(default=None, ge=1, le=5)
    met_partners: bool | None = None
    testimonial: str | None = Field(default=None, max_length=3000)
    consent_to_publish: bool = False
    meeting_ratings: EventRatings = None


class FollowUpInput(BaseModel):
    application_id: uuid.UUID
    survey: int = Field(ge=1)
    agreements: int = Field(default=0, ge=0, le=10_000)
    distribution_deals: int = Field(default=0, ge=0, le=10_000)
    mous: int = Field(default=0, ge=0, le=10_000)
    revisits: int = Field(default=0, ge=0, le=10_000)
    expected_revenue_eur: float | None = Field(default=None, ge=0, le=1e12)
    comments: str | None = Field(default=None, max_length=3000)
    meeting_ratings: FollowUpRatings = None


class AnswerRecord(BaseModel):
    """The input of the activities that write feedback or a follow-up answer."""

    mission_id: str
    at: AwareDatetime
    closes_at: AwareDatetime | None = Field(
        default=None, description="When the feedback closed; later feedback is marked late."
    )
    feedback: FeedbackInput | None = None
    follow_up: FollowUpInput | None = None


class AnswerReceipt(BaseModel):
    respondent_id: uuid.UUID
    changed: bool
    late: bool = False
    created: bool = Field(
        default=False, description="The first answer (the API says 201), not an amendment."
    )


class ReportingNotice(BaseModel):
    """The input of the feedback, survey and report activities."""

    mission_id: str
    at: AwareDatetime
    closes_at: AwareDatetime | None = Field(
        default=None, description="When the feedback (or the survey) closes."
    )
    survey: int = Field(default=0, description="The follow-up survey's number, from 1.")
    reason: str = ""
    version: int = Field(default=0, description="The report version to produce, from 1.")
    final: bool = False
    email: bool = Field(default=False, description="Send the coordinators the report.")


class ReportSummary(BaseModel):
    version: int
    delegates: int
    feedback_responses: int
    testimonials_published: int
