"""What starts, steers and reports a mission as a whole: its input, status, outcome and
the notices of its phases and outbox.

Each workflow, update, query and activity takes one model (never loose arguments), so a field
can be added later; they go through Temporal's pydantic data converter.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.domain.mission.state import MissionState, PhaseEntry

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


class MissionNotice(BaseModel):
    mission_id: str
    at: AwareDatetime
    phase: Phase
    reason: str


class RetentionNotice(BaseModel):
    """The retention period of a mission has ended: erase everyone's personal data."""

    mission_id: str
    at: AwareDatetime = Field(description="When the period ended (the workflow's clock).")


class ErasureSummary(BaseModel):
    erased: dict[str, int] = Field(
        default_factory=dict, description="What was erased, as counts (rows, emails, copies)."
    )
    reports_rewritten: int = Field(default=0, description="Report versions reduced to counts.")


class DeliveryRequest(BaseModel):
    mission_id: str
    limit: int = Field(default=1000, ge=1, description="Messages claimed by one call at most.")


class DeliveryReport(BaseModel):
    """What one call did. Call again at once while `remaining > deferred` (rows not offered yet
    are waiting, or the server takes messages again); when only deferred rows remain, call
    again after a pause: the server asked for one."""

    sent: int = 0
    failed: int = Field(default=0, description="Refused for good (5xx) in this call.")
    deferred: int = Field(
        default=0,
        description="Refused for now (4xx) in this call; when the server refused all it was "
        "offered, every unsent row it has refused so.",
    )
    remaining: int = Field(default=0, description="Rows of the mission still unsent afterwards.")


class EmailResend(BaseModel):
    """A coordinator asks the mission to send a failed email again."""

    email_id: uuid.UUID
    by: str | None = Field(default=None, max_length=200)


class EmailRequeue(BaseModel):
    """The input of the activity that puts a failed email back in the queue."""

    mission_id: str
    email_id: uuid.UUID


class EmailRequeued(BaseModel):
    """What a resend answers: the email is queued again, for the postman's next delivery."""

    email_id: uuid.UUID
    template: str
    status: str = "queued"


class PhaseRecord(BaseModel):
    """The input of the activity that writes a phase transition to the database."""

    mission_id: str
    phase: Phase
    previous: Phase | None
    at: AwareDatetime
    note: str | None = None
    run_id: str


# Visits, feedback, the report and the follow-up
