"""What travels for the call: applications, invitees and the call's notices.

Each workflow, update, query and activity takes one model (never loose arguments), so a field
can be added later; they go through Temporal's pydantic data converter.
"""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel, Field

from missionflow.domain.call.applications import (
    ApplicationAmendment,
    ApplicationForm,
    ApplicationStatus,
)
from missionflow.domain.mission.call_section import Invitee


class CallProgress(BaseModel):
    """What the call has told people so far, so nothing is sent twice across runs."""

    announced: bool = False
    deadline_set_at: AwareDatetime | None = Field(
        default=None,
        description="When the current deadline was set; reminders planned before "
        "it (against an older deadline) are not sent late.",
    )
    reminders_sent: list[str] = Field(
        default_factory=list, description="`<deadline>/<offset>` of each reminder round done."
    )
    extensions: list[AwareDatetime] = Field(
        default_factory=list, description="Deadlines set by extensions, in order."
    )
    extensions_told: int = Field(default=0, description="How many extensions were announced.")
    closed: bool = False
    received: int = 0
    withdrawn: int = 0


class ApplicationSubmission(BaseModel):
    """An application the API has checked against the call; the workflow decides if it is on
    time. The id is chosen by the API so a retried request names the same application."""

    application_id: uuid.UUID
    form: ApplicationForm
    slide_id: uuid.UUID | None = Field(default=None, description="A slide the API has stored.")


class ApplicationSubmissions(BaseModel):
    """Submissions that reached one API process together and go to the workflow as one Update
    (see `api.intake_gate`); each gets its own receipt, in order."""

    submissions: list[ApplicationSubmission] = Field(min_length=1)


class ApplicationChange(BaseModel):
    application_id: uuid.UUID
    amendment: ApplicationAmendment
    slide_id: uuid.UUID | None = None


class ApplicationWithdrawal(BaseModel):
    application_id: uuid.UUID
    reason: str | None = Field(default=None, max_length=2000)


class ApplicationReceipt(BaseModel):
    application_id: uuid.UUID
    status: ApplicationStatus
    changed: bool = Field(
        description="Whether this request changed anything: False for a repeated submission or "
        "withdrawal."
    )
    complete: bool
    missing: list[str]
    at: AwareDatetime | None = Field(
        default=None,
        description="When the workflow accepted a submission, which its sender then writes; "
        "None for an amendment or a withdrawal, written before the answer.",
    )


class ApplicationRecord(BaseModel):
    """The input of the activities that write an application: what, when, for which mission."""

    mission_id: str
    at: AwareDatetime
    deadline: AwareDatetime
    submission: ApplicationSubmission | None = None
    change: ApplicationChange | None = None
    withdrawal: ApplicationWithdrawal | None = None


class ApplicationBatch(BaseModel):
    """Submissions accepted together, written by one activity in one transaction (group
    commit). Each record keeps the instant its own Update was handled."""

    mission_id: str
    records: list[ApplicationRecord] = Field(min_length=1)


class ApplicationReceipts(BaseModel):
    """One receipt per record of an `ApplicationBatch`, or per submission of
    `ApplicationSubmissions`, in the same order."""

    receipts: list[ApplicationReceipt]


class Admissions(BaseModel):
    """How many of an `ApplicationBatch` are admitted: their own rows written. An applicant who
    had applied before, through another request, is not."""

    admitted: int


class CallNotice(BaseModel):
    """The input of the activities that write the call's emails to the outbox."""

    mission_id: str
    at: AwareDatetime
    deadline: AwareDatetime
    previous_deadline: AwareDatetime | None = None
    reminder: str | None = Field(default=None, description="The reminder's offset, e.g. P2D.")


class InviteeBatch(BaseModel):
    """Invitees a coordinator adds while the call is open."""

    invitees: list[Invitee]
    by: str | None = None


class InviteeNotice(BaseModel):
    mission_id: str
    at: AwareDatetime
    opens: AwareDatetime
    deadline: AwareDatetime
    invitees: list[Invitee]
    announce: bool = Field(description="The call is open: announce it to the new invitees now.")


class InviteeReceipt(BaseModel):
    added: int
    already_invited: int
    announced: int


class CallSummary(BaseModel):
    total: int
    complete: int
    incomplete: int
    withdrawn: int
    by_country: list[tuple[str, int]]
    by_sector: list[tuple[str, int]]
