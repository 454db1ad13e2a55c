"""What travels between the API, the mission workflow and its activities.

Each workflow, update, query and activity takes one of these models (never loose arguments), so a
field can be added later without breaking missions that are already running. They go through
Temporal's pydantic data converter.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from missionflow.applications import ApplicationAmendment, ApplicationForm, ApplicationStatus
from missionflow.mission_file import Invitee, MissionFile, Visit
from missionflow.phases import Phase

DEFAULT_UPDATES_PER_RUN = 1000
"""Continue-as-new after this many Updates in one run: half the server's cap of 2,000 per run,
and about 5,000 history events, well under the 10,240-event warning (DESIGN.md)."""

QUIET_HANDOVER_EVENTS = 2_000
"""A run whose history is longer than this continues as new when it enters a phase. Phases begin
at the mission's own instants, when few requests are in flight; Temporal's suggestion to
continue comes wherever the history crosses its threshold, often amid a burst of Updates. An
Update reaching a run as it completes makes the time-skipping test server (unlike the real one,
which hands the Update to the next run) refuse the completion, and the worker then replays the
whole run: seconds for `simulate`, in the middle of a burst."""


class PhaseEntry(BaseModel):
    phase: Phase
    at: AwareDatetime
    note: str | None = None


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


class SelectionEntry(BaseModel):
    """An application in play for a seat (proposed, waitlisted or overridden), as the workflow
    keeps it to check approvals against the quotas without reading the database."""

    application_id: uuid.UUID
    country: str
    sector: str = Field(description="The primary sector, the one `max_per_sector` counts.")
    rank: int
    score: float
    decision: str


class Seat(BaseModel):
    """A seat offered to an applicant after approval, and what became of it."""

    application_id: uuid.UUID
    country: str
    sector: str
    rank: int
    state: str = Field(description="offered, confirmed or released")
    offered_at: AwareDatetime
    respond_by: AwareDatetime
    reminded: bool = False
    answered_at: AwareDatetime | None = None
    released_because: str | None = Field(
        default=None, description="declined, withdrawn, expired or locked"
    )


class SelectionProgress(BaseModel):
    reviewed: bool = Field(
        default=False,
        description="The mission waits for the coordinators' approval; missions started before "
        "selection was built moved on at the decision instant.",
    )
    proposed: bool = False
    entries: list[SelectionEntry] = Field(default_factory=list)
    review_reminders: int = Field(default=0, description="Review emails sent after the first.")
    approved_at: AwareDatetime | None = None
    approved_by: str | None = None
    seats: list[Seat] = Field(default_factory=list)
    waitlist: list[SelectionEntry] = Field(
        default_factory=list, description="Waitlisted applications not offered a seat yet, by rank."
    )
    locked: bool = False


class MatchmakingProgress(BaseModel):
    enabled: bool = Field(
        default=False,
        description="Requests, scheduling and agendas run; missions started before they existed "
        "only walk the event's instants.",
    )
    reminded: bool = False
    version: int = Field(default=0, description="Schedules published so far.")
    changes: int = Field(default=0, description="Late changes since the last published schedule.")
    placed: str | None = Field(default=None, description="The last schedule's figures, in words.")


class VisitPlace(BaseModel):
    """A delegate's place on a visit as the workflow decides it: by order of arrival within
    the visit's capacity, then on its waitlist."""

    visit_id: str
    application_id: uuid.UUID
    status: str = Field(description="registered, waitlisted or cancelled")
    at: AwareDatetime


class VisitsProgress(BaseModel):
    enabled: bool = Field(
        default=False,
        description="Registrations, the itinerary, reminders and changes run; missions started "
        "before they existed only walk the visits' instants.",
    )
    places: list[VisitPlace] = Field(default_factory=list, description="In order of arrival.")
    itinerary_sent: bool = False
    reminded: list[str] = Field(
        default_factory=list, description="`<visit id>@<start>` of each reminder round sent."
    )
    sequences: dict[str, int] = Field(
        default_factory=dict, description="Changes made to each visit: its calendar SEQUENCE."
    )


class ReportingProgress(BaseModel):
    enabled: bool = Field(
        default=False,
        description="Feedback, the report and the surveys run; missions started before they "
        "existed only walk the reporting instants.",
    )
    feedback_requested: bool = False
    feedback_reminded: bool = False
    reports: int = Field(default=0, description="Versions of the report produced so far.")
    stale_since: AwareDatetime | None = Field(
        default=None, description="When the first answer since the last report arrived."
    )
    surveys_sent: int = 0
    final: bool = Field(default=False, description="The closing report was produced and sent.")


class MissionState(BaseModel):
    """Everything a mission has decided so far; carried whole across continue-as-new."""

    started_at: AwareDatetime
    deadline: AwareDatetime = Field(description="The call's deadline, as extended.")
    phase: Phase = Phase.CALL_OPEN
    entered: list[PhaseEntry] = Field(description="Every phase entered, in order, with when.")
    recorded: int = Field(default=0, description="How many of `entered` are in the database.")
    cancel_reason: str | None = None
    cancelled_by: str | None = None
    updates_handled: int = Field(default=0, description="Updates accepted, over all runs.")
    call: CallProgress = Field(default_factory=CallProgress)
    selection: SelectionProgress = Field(default_factory=SelectionProgress)
    matchmaking: MatchmakingProgress = Field(default_factory=MatchmakingProgress)
    visits: VisitsProgress = Field(default_factory=VisitsProgress)
    reporting: ReportingProgress = Field(default_factory=ReportingProgress)


class MissionInput(BaseModel):
    mission: MissionFile
    state: MissionState | None = Field(
        default=None, description="Set when the mission continues as new; None on the first run."
    )
    max_updates_per_run: int = Field(default=DEFAULT_UPDATES_PER_RUN, ge=1)
    handover_events: int = Field(
        default=QUIET_HANDOVER_EVENTS,
        ge=0,
        description="Continue as new on entering a phase once the history is longer than this.",
    )


class CancelRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=2000)
    by: str | None = Field(default=None, max_length=200)


class DeadlineExtension(BaseModel):
    deadline: AwareDatetime
    by: str | None = Field(default=None, max_length=200)


class InstantView(BaseModel):
    """One instant of the mission, in UTC and in the zone it belongs to."""

    name: str
    label: str
    utc: AwareDatetime
    local: str = Field(description="ISO 8601 in the instant's own zone, with its offset.")
    zone: str
    text: str = Field(description="As a coordinator reads it, e.g. 22 Mar 2017 24:00 CET.")


class SeatCounts(BaseModel):
    confirmed: int
    pending: int = Field(description="Offered, not answered yet.")
    released: int
    waitlist: int


class MissionStatus(BaseModel):
    mission_id: str
    title: str
    phase: Phase
    waiting_for: str = Field(description="In words, what the mission waits for next.")
    next: InstantView | None
    deadline: InstantView
    instants: list[InstantView]
    phases: list[PhaseEntry]
    cancel_reason: str | None = None
    updates_handled: int = 0
    applications: int = Field(default=0, description="Received and not withdrawn.")
    withdrawn: int = 0
    seats: SeatCounts | None = Field(default=None, description="Once the delegation is approved.")


class MissionOutcome(BaseModel):
    mission_id: str
    phase: Phase
    ended_at: datetime
    cancel_reason: str | None = None


class ApplicationSubmission(BaseModel):
    """An application the API has checked against the call; the workflow decides if it is on
    time. The id is chosen by the API so a retried request names the same application."""

    application_id: uuid.UUID
    form: ApplicationForm
    slide_id: uuid.UUID | None = Field(default=None, description="A slide the API has stored.")


class ApplicationSubmissions(BaseModel):
    """Submissions that reached one API process together and go to the workflow as one Update
    (see `missionflow.intake_gate`); each gets its own receipt, in order."""

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
        description="When the workflow accepted a submission it leaves to its sender to write; "
        "None from runs (and Updates) that write before answering.",
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


class SelectionOverride(BaseModel):
    """A coordinator's decision for one application, with the facts the quotas need (read by
    the API from the proposal in the database)."""

    application_id: uuid.UUID
    decision: str
    reason: str = Field(max_length=2000)
    country: str = ""
    sector: str = ""
    rank: int = 0
    score: float = 0.0
    withdrawn: bool = False


class SelectionRequest(BaseModel):
    """Overrides, and whether they approve the delegation."""

    overrides: list[SelectionOverride] = Field(default_factory=list)
    approve: bool = False
    by: str | None = Field(default=None, max_length=200)


class SelectionNotice(BaseModel):
    """The input of the selection activities."""

    mission_id: str
    at: AwareDatetime
    by: str | None = None
    reminder: int = 0
    overrides: list[SelectionOverride] = Field(default_factory=list)
    entries: list[SelectionEntry] = Field(default_factory=list)
    approved: bool = False
    seats: list[Seat] = Field(default_factory=list, description="Offered on approval.")


class SelectionView(BaseModel):
    """What a review Update answers: the delegation as it now stands."""

    approved: bool
    selected: int
    waitlisted: int
    entries: list[SelectionEntry]


class SeatAnswer(BaseModel):
    """An applicant confirms (accept) or declines their seat."""

    application_id: uuid.UUID
    accept: bool


class SeatChange(BaseModel):
    """Something that happened to one seat, for the database, the audit log and the emails."""

    application_id: uuid.UUID
    event: str = Field(
        description="confirmed, declined, withdrawn, expired, locked, promoted or reminded"
    )
    respond_by: AwareDatetime | None = None


class SeatNotice(BaseModel):
    mission_id: str
    at: AwareDatetime
    changes: list[SeatChange]
    final: bool = Field(default=False, description="The delegation locks: tell the coordinators.")


class HostBatch(BaseModel):
    """Hosts a coordinator loads, checked by the API against the event's slots."""

    hosts: list[dict[str, Any]]


class HostNotice(BaseModel):
    mission_id: str
    at: AwareDatetime
    hosts: list[dict[str, Any]]


class HostsLoaded(BaseModel):
    added: int
    updated: int


class MeetingRequestInput(BaseModel):
    request_id: uuid.UUID = Field(description="Chosen by the API, so a retry names the same one.")
    requester_id: uuid.UUID
    requester_kind: str
    invitee_id: uuid.UUID
    invitee_kind: str
    priority: int = Field(ge=1, le=3)
    note: str | None = Field(default=None, max_length=1000)


class MeetingAnswerInput(BaseModel):
    meeting_id: uuid.UUID
    participant_id: uuid.UUID
    action: str = Field(pattern="^(accept|decline|cancel)$")
    by_coordinator: bool = False


class AttendanceInput(BaseModel):
    meeting_id: uuid.UUID
    attendance: str = Field(pattern="^(held|no_show)$")


class MeetingRecord(BaseModel):
    """The input of the activities that write a request or an answer."""

    mission_id: str
    at: AwareDatetime
    request: MeetingRequestInput | None = None
    answer: MeetingAnswerInput | None = None
    attendance: AttendanceInput | None = None


class MeetingReceipt(BaseModel):
    meeting_id: uuid.UUID
    status: str
    changed: bool
    merged: bool = False


class MatchmakingNotice(BaseModel):
    mission_id: str
    at: AwareDatetime
    version: int = 0


class ScheduleReport(BaseModel):
    requested: int
    scheduled: int
    upper_bound: int
    agendas_sent: int


class CallSummary(BaseModel):
    total: int
    complete: int
    incomplete: int
    withdrawn: int
    by_country: list[tuple[str, int]]
    by_sector: list[tuple[str, int]]


class MissionNotice(BaseModel):
    mission_id: str
    at: AwareDatetime
    phase: Phase
    reason: str


class DeliveryRequest(BaseModel):
    mission_id: str
    limit: int = Field(default=1000, ge=1, description="Messages claimed by one call at most.")


class DeliveryReport(BaseModel):
    """What one call did. Call again at once while `remaining > deferred` (untouched work is
    waiting); when only deferred rows remain, call again after a pause: the server asked for it."""

    sent: int = 0
    failed: int = Field(default=0, description="Refused for good (5xx) in this call.")
    deferred: int = Field(default=0, description="Refused for now (4xx), queued again.")
    remaining: int = Field(default=0, description="Rows of the mission still unsent afterwards.")


class PhaseRecord(BaseModel):
    """The input of the activity that writes a phase transition to the database."""

    mission_id: str
    phase: Phase
    previous: Phase | None
    at: AwareDatetime
    note: str | None = None
    run_id: str


# Visits, feedback, the report and the follow-up


class VisitRegistrationInput(BaseModel):
    visit_id: str
    application_id: uuid.UUID
    cancel: bool = Field(default=False, description="Give the place (or waitlist place) up.")


class VisitChangeInput(BaseModel):
    """A coordinator's change to a visit; fields left None stay as they are."""

    visit_id: str
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    address: str | None = Field(default=None, min_length=1, max_length=500)
    meeting_point: str | None = Field(default=None, min_length=1, max_length=500)
    cancelled: bool | None = None
    note: str | None = Field(default=None, max_length=2000, description="Told to the delegates.")
    by: str | None = Field(default=None, max_length=200)


class VisitAttendanceInput(BaseModel):
    visit_id: str
    application_id: uuid.UUID
    attendance: str = Field(pattern="^(attended|no_show)$")


class VisitReceipt(BaseModel):
    visit_id: str
    application_id: uuid.UUID
    status: str = Field(description="registered, waitlisted, cancelled, attended or no_show")
    waitlist_position: int | None = None
    changed: bool


class VisitNotice(BaseModel):
    """The input of the visit activities. `changes` are the places the workflow just decided
    (a registration, a cancellation, a promotion from the waitlist)."""

    mission_id: str
    at: AwareDatetime
    visits: list[Visit] = Field(
        default_factory=list,
        description="The visits as they stand (coordinators may have changed them since the "
        "mission file was written); the workflow is their one source.",
    )
    places: list[VisitPlace] = Field(default_factory=list)
    changes: list[VisitPlace] = Field(default_factory=list)
    visit_id: str | None = None
    change: VisitChangeInput | None = None
    attendance: VisitAttendanceInput | None = None
    sequence: int = Field(default=0, description="The visit's calendar SEQUENCE after a change.")
    sequences: dict[str, int] = Field(
        default_factory=dict, description="Every changed visit's SEQUENCE, for the itinerary."
    )


class FeedbackInput(BaseModel):
    respondent_id: uuid.UUID = Field(description="The application's or the host's id.")
    respondent_kind: str = Field(pattern="^(delegate|host)$")
    rating_matchmaking: int | None = Field(default=None, ge=1, le=5)
    rating_visits: int | None = Field(default=None, ge=1, le=5)
    rating_organisation: int | None = Field(default=None, ge=1, le=5)
    met_partners: bool | None = None
    testimonial: str | None = Field(default=None, max_length=3000)
    consent_to_publish: bool = False


class FollowUpInput(BaseModel):
    application_id: uuid.UUID
    survey: int = Field(ge=1)
    agreements: int = Field(default=0, ge=0, le=10_000)
    distribution_deals: int = Field(default=0, ge=0, le=10_000)
    mous: int = Field(default=0, ge=0, le=10_000)
    revisits: int = Field(default=0, ge=0, le=10_000)
    expected_revenue_eur: float | None = Field(default=None, ge=0, le=1e12)
    comments: str | None = Field(default=None, max_length=3000)


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
