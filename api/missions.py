"""Starting and steering missions: the one place that pairs a database row with a workflow.

A mission exists when both its row and its workflow do. `start_mission` writes the row and starts
the workflow inside one transaction, so a refused or failed start leaves neither behind.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
    WorkflowUpdateFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from api.session import release
from missionflow.domain.call.messages import (
    ApplicationChange,
    ApplicationReceipt,
    ApplicationSubmission,
    ApplicationSubmissions,
    ApplicationWithdrawal,
    InviteeBatch,
    InviteeReceipt,
)
from missionflow.domain.matchmaking.messages import (
    AttendanceInput,
    HostBatch,
    HostsLoaded,
    MeetingAnswerInput,
    MeetingReceipt,
    MeetingRequestInput,
)
from missionflow.domain.mission import lifecycle
from missionflow.domain.mission.event_sections import Visit
from missionflow.domain.mission.file import MissionFile, workflow_id_for
from missionflow.domain.mission.messages import (
    CancelRequest,
    DeadlineExtension,
    MissionInput,
    MissionOutcome,
    MissionStatus,
)
from missionflow.domain.mission.phases import Phase
from missionflow.domain.refusals import BUSY, CONFLICT, INVALID, NOT_FOUND
from missionflow.domain.reporting.messages import AnswerReceipt, FeedbackInput, FollowUpInput
from missionflow.domain.selection.messages import Seat, SeatAnswer, SelectionRequest, SelectionView
from missionflow.domain.visits.messages import (
    VisitAttendanceInput,
    VisitChangeInput,
    VisitReceipt,
    VisitRegistrationInput,
)
from missionflow.runtime.models import Mission
from missionflow.runtime.temporal import MISSION_ID, MISSION_PHASE
from workflows.mission import MissionWorkflow

T = TypeVar("T")


class MissionExists(Exception):
    def __init__(self, mission_id: str) -> None:
        super().__init__(f"A mission with id {mission_id!r} already exists.")


class Unavailable(Exception):
    """Temporal could not answer; the API says 503 and the caller may retry."""


class Refused(Exception):
    """The mission refused a request: `kind` is CONFLICT (409), INVALID (422) or NOT_FOUND."""

    def __init__(self, message: str, *, kind: str, field: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.field = field


async def start_mission(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    mission: MissionFile,
    *,
    task_queue: str,
    now: datetime,
    **input_options: Any,
) -> WorkflowHandle[MissionWorkflow, MissionOutcome]:
    """Write the mission's row and start its workflow; both happen or neither does."""
    row = Mission(
        id=mission.id,
        workflow_id=mission.workflow_id,
        title=mission.title,
        organiser=mission.organiser,
        timezone=mission.timezone,
        phase=Phase.CALL_OPEN.value,
        file=mission.model_dump(mode="json"),
        created_at=now,
        updated_at=now,
    )
    await _reachable(client)
    handle: WorkflowHandle[MissionWorkflow, MissionOutcome] | None = None
    try:
        async with sessions() as session, session.begin():
            session.add(row)
            try:
                await session.flush()
            except IntegrityError:
                raise MissionExists(mission.id) from None
            try:
                handle = await client.start_workflow(
                    MissionWorkflow.run,
                    MissionInput(mission=mission, **input_options),
                    id=mission.workflow_id,
                    task_queue=task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                    search_attributes=TypedSearchAttributes(
                        [
                            SearchAttributePair(MISSION_ID, mission.id),
                            SearchAttributePair(MISSION_PHASE, Phase.CALL_OPEN.value),
                        ]
                    ),
                    static_summary=f"{mission.title} ({mission.organiser})",
                    static_details=_timeline_markdown(mission, now),
                )
            except WorkflowAlreadyStartedError:
                raise MissionExists(mission.id) from None
            except RPCError as error:
                _note_unreachable(client, error)
                raise Unavailable(f"Temporal did not start the mission: {error.message}") from error
    except BaseException:
        if handle is not None:
            await handle.terminate(reason="its database row could not be written")
        raise
    assert handle is not None
    return handle


def _timeline_markdown(mission: MissionFile, now: datetime) -> str:
    state = lifecycle.begin(mission, now)
    lines = [f"- **{m.label}**: {m.text}" for m in lifecycle.timeline(mission, state)]
    return f"Mission `{mission.id}` to {mission.destination}\n\n" + "\n".join(lines)


async def mission_status(client: Client, mission_id: str) -> MissionStatus:
    await release()
    await _reachable(client)
    handle = client.get_workflow_handle(workflow_id_for(mission_id))
    try:
        return await handle.query(MissionWorkflow.status)
    except (WorkflowQueryFailedError, RPCError) as error:
        if isinstance(error, RPCError):
            _note_unreachable(client, error)
        raise Unavailable(f"The mission's live state cannot be read now: {error}") from error


async def cancel_mission(
    client: Client, mission_id: str, reason: str, by: str | None
) -> MissionStatus:
    return await _update(
        client,
        mission_id,
        lambda h: h.execute_update(MissionWorkflow.cancel, CancelRequest(reason=reason, by=by)),
    )


async def extend_deadline(
    client: Client, mission_id: str, deadline: datetime, by: str | None
) -> MissionStatus:
    return await _update(
        client,
        mission_id,
        lambda h: h.execute_update(
            MissionWorkflow.extend_deadline, DeadlineExtension(deadline=deadline, by=by)
        ),
    )


async def review_selection(
    client: Client, mission_id: str, request: SelectionRequest
) -> SelectionView:
    return await _update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.review_selection, request)
    )


async def answer_seat(client: Client, mission_id: str, answer: SeatAnswer) -> Seat:
    return await _update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.answer_seat, answer)
    )


async def add_hosts(client: Client, mission_id: str, batch: HostBatch) -> HostsLoaded:
    return await _update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.add_hosts, batch)
    )


async def request_meeting(
    client: Client, mission_id: str, request: MeetingRequestInput
) -> MeetingReceipt:
    return await _update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.request_meeting, request)
    )


async def answer_meeting(
    client: Client, mission_id: str, answer: MeetingAnswerInput
) -> MeetingReceipt:
    return await _update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.answer_meeting, answer)
    )


async def record_attendance(
    client: Client, mission_id: str, attendance: AttendanceInput
) -> MeetingReceipt:
    return await _update(
        client,
        mission_id,
        lambda h: h.execute_update(MissionWorkflow.record_attendance, attendance),
    )


async def register_visit(
    client: Client, mission_id: str, request: VisitRegistrationInput
) -> VisitReceipt:
    return await _update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.register_visit, request)
    )


async def change_visit(client: Client, mission_id: str, change: VisitChangeInput) -> Visit:
    return await _update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.change_visit, change)
    )


async def record_visit_attendance(
    client: Client, mission_id: str, attendance: VisitAttendanceInput
) -> VisitReceipt:
    return await _update(
        client,
        mission_id,
        lambda h: h.execute_update(MissionWorkflow.record_visit_attendance, attendance),
    )


async def add_invitees(client: Client, mission_id: str, batch: InviteeBatch) -> InviteeReceipt:
    return await _update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.add_invitees, batch)
    )


async def give_feedback(client: Client, mission_id: str, answer: FeedbackInput) -> AnswerReceipt:
    return await _update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.give_feedback, answer)
    )


async def answer_follow_up(client: Client, mission_id: str, answer: FollowUpInput) -> AnswerReceipt:
    return await _update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.answer_follow_up, answer)
    )


UPDATE_PATIENCE = 30.0
"""Seconds a request keeps trying before it answers 503: about what an HTTP client waits."""

RETRY_SPACING = (0.02, 0.25)
"""The first and the longest wait between two tries. A handover takes about a second; spacing
the tries up to a second left applicants waiting up to a second more once the next run took
Updates, while a refused try costs the server little."""


async def _update(
    client: Client,
    mission_id: str,
    send: Callable[[WorkflowHandle[Any, Any]], Awaitable[T]],
) -> T:
    """Send an Update, trying again while Temporal answers "not now" rather than yes or no.

    Three answers are load, not a decision, so the request waits and tries again rather than
    failing a coordinator or an applicant: the server's cap on in-flight Updates per workflow
    (RESOURCE_EXHAUSTED on the eleventh), a run handing over to the next (BUSY from a validator),
    and an Update the server aborted because the workflow task carrying it was refused
    (WorkflowNotReady). That last one happens when a request races the completion of another
    workflow task; the aborted Update was never applied, so sending it again is safe.
    """
    await release()
    await _reachable(client)
    handle = client.get_workflow_handle(workflow_id_for(mission_id))
    delay, longest = RETRY_SPACING
    loop = asyncio.get_running_loop()
    give_up = loop.time() + UPDATE_PATIENCE
    while loop.time() < give_up:
        try:
            return await send(handle)
        except WorkflowUpdateFailedError as error:
            if not _busy(error):
                raise _refusal(error) from error
        except RPCError as error:
            if error.status != RPCStatusCode.RESOURCE_EXHAUSTED and not _aborted(error):
                if error.status == RPCStatusCode.NOT_FOUND or "already completed" in error.message:
                    raise Refused(
                        "The mission has ended; it takes no more requests.", kind=CONFLICT
                    ) from error
                _note_unreachable(client, error)
                raise Unavailable(f"Temporal did not take the request: {error.message}") from error
        await asyncio.sleep(delay)
        delay = min(delay * 2, longest)
    raise Unavailable("The mission is busy; try again in a moment.")


PROBE_TIMEOUT = timedelta(seconds=1)
"""How long the quick check of a Temporal found unreachable waits for its answer."""

_unreachable: weakref.WeakSet[Client] = weakref.WeakSet()
"""Clients whose last request found Temporal unreachable (UNAVAILABLE once the client's own
retries, about 10 s of them, were spent)."""


async def _reachable(client: Client) -> None:
    """Answer at once while Temporal is known to be down, rather than spend the client's retries
    again on every request: a rush of applicants queued behind one another would wait 10 s per
    Update in turn (measured: 30 applicants, the last 503 after 27 s). A quick health check,
    not retried, tells when it is back; then requests go through as before."""
    if client not in _unreachable:
        return
    try:
        back = await client.service_client.check_health(timeout=PROBE_TIMEOUT)
    except RPCError as error:
        raise Unavailable(f"Temporal is not reachable: {error.message}") from error
    if not back:
        raise Unavailable("Temporal is not serving.")
    _unreachable.discard(client)


def _note_unreachable(client: Client, error: RPCError) -> None:
    if error.status == RPCStatusCode.UNAVAILABLE:
        _unreachable.add(client)


def _aborted(error: RPCError) -> bool:
    """The server aborted the Update with its workflow task (WorkflowNotReady)."""
    return error.status == RPCStatusCode.FAILED_PRECONDITION and any(
        detail.Is(WorkflowNotReadyFailure.DESCRIPTOR) for detail in error.grpc_status.details
    )


def _busy(error: WorkflowUpdateFailedError) -> bool:
    return isinstance(error.cause, ApplicationError) and error.cause.type == BUSY


def _refusal(error: WorkflowUpdateFailedError) -> Exception:
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in (CONFLICT, INVALID, NOT_FOUND):
        field = cause.details[0] if cause.details else None
        return Refused(cause.message, kind=cause.type, field=field)
    return error


async def submit_applications(
    client: Client, mission_id: str, submissions: Sequence[ApplicationSubmission]
) -> list[ApplicationReceipt]:
    """The Update alone (see `api.intake_gate`), one receipt per submission. Its id is
    its first application's, so sending it again (a retry after a lost answer) gets the first
    answer back from the server rather than a second acceptance."""
    answer = await _update(
        client,
        mission_id,
        lambda h: h.execute_update(
            MissionWorkflow.submit_applications,
            ApplicationSubmissions(submissions=list(submissions)),
            id=f"applications-{submissions[0].application_id}",
        ),
    )
    return answer.receipts


async def amend_application(
    client: Client, mission_id: str, change: ApplicationChange
) -> ApplicationReceipt:
    return await _update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.amend_application, change)
    )


async def withdraw_application(
    client: Client, mission_id: str, withdrawal: ApplicationWithdrawal
) -> ApplicationReceipt:
    return await _update(
        client,
        mission_id,
        lambda h: h.execute_update(MissionWorkflow.withdraw_application, withdrawal),
    )
