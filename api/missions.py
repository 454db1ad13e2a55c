"""Starting and steering missions: the one place that pairs a database row with a workflow.

A mission exists when both its row and its workflow do. `start_mission` writes the row and starts
the workflow inside one transaction, so a refused or failed start leaves neither behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowQueryFailedError,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from api.session import release
from api.updates import Unavailable, note_unreachable, reachable, send_update
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
from missionflow.domain.matchmaking.places import RemoteInput, RemoteReceipt
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
from missionflow.domain.people import Role
from missionflow.domain.reporting.messages import AnswerReceipt, FeedbackInput, FollowUpInput
from missionflow.domain.selection.messages import Seat, SeatAnswer, SelectionRequest, SelectionView
from missionflow.domain.visits.messages import (
    VisitAttendanceInput,
    VisitChangeInput,
    VisitReceipt,
    VisitRegistrationInput,
)
from missionflow.runtime.models import Mission
from missionflow.runtime.people import Membership
from missionflow.runtime.temporal import MISSION_ID, MISSION_PHASE
from workflows.mission import MissionWorkflow


class MissionExists(Exception):
    def __init__(self, mission_id: str) -> None:
        super().__init__(f"A mission with id {mission_id!r} already exists.")


async def start_mission(
    client: Client,
    sessions: async_sessionmaker[AsyncSession],
    mission: MissionFile,
    *,
    task_queue: str,
    now: datetime,
    owner: uuid.UUID | None = None,
    **input_options: Any,
) -> WorkflowHandle[MissionWorkflow, MissionOutcome]:
    """Write the mission's row and start its workflow; both happen or neither does. `owner`, the
    person who starts it, if any, becomes its owner in the same transaction, so a mission is
    never left without the role its starter would look for."""
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
    await reachable(client)
    handle: WorkflowHandle[MissionWorkflow, MissionOutcome] | None = None
    try:
        async with sessions() as session, session.begin():
            session.add(row)
            if owner is not None:
                session.add(Membership(mission_id=mission.id, person_id=owner, role=Role.OWNER))
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
                note_unreachable(client, error)
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
    await reachable(client)
    handle = client.get_workflow_handle(workflow_id_for(mission_id))
    try:
        return await handle.query(MissionWorkflow.status)
    except (WorkflowQueryFailedError, RPCError) as error:
        if isinstance(error, RPCError):
            note_unreachable(client, error)
        raise Unavailable(f"The mission's live state cannot be read now: {error}") from error


async def cancel_mission(
    client: Client, mission_id: str, reason: str, by: str | None
) -> MissionStatus:
    return await send_update(
        client,
        mission_id,
        lambda h: h.execute_update(MissionWorkflow.cancel, CancelRequest(reason=reason, by=by)),
    )


async def extend_deadline(
    client: Client, mission_id: str, deadline: datetime, by: str | None
) -> MissionStatus:
    return await send_update(
        client,
        mission_id,
        lambda h: h.execute_update(
            MissionWorkflow.extend_deadline, DeadlineExtension(deadline=deadline, by=by)
        ),
    )


async def review_selection(
    client: Client, mission_id: str, request: SelectionRequest
) -> SelectionView:
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.review_selection, request)
    )


async def answer_seat(client: Client, mission_id: str, answer: SeatAnswer) -> Seat:
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.answer_seat, answer)
    )


async def add_hosts(client: Client, mission_id: str, batch: HostBatch) -> HostsLoaded:
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.add_hosts, batch)
    )


async def request_meeting(
    client: Client, mission_id: str, request: MeetingRequestInput
) -> MeetingReceipt:
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.request_meeting, request)
    )


async def answer_meeting(
    client: Client, mission_id: str, answer: MeetingAnswerInput
) -> MeetingReceipt:
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.answer_meeting, answer)
    )


async def set_remote(client: Client, mission_id: str, change: RemoteInput) -> RemoteReceipt:
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.set_remote, change)
    )


async def record_attendance(
    client: Client, mission_id: str, attendance: AttendanceInput
) -> MeetingReceipt:
    return await send_update(
        client,
        mission_id,
        lambda h: h.execute_update(MissionWorkflow.record_attendance, attendance),
    )


async def register_visit(
    client: Client, mission_id: str, request: VisitRegistrationInput
) -> VisitReceipt:
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.register_visit, request)
    )


async def change_visit(client: Client, mission_id: str, change: VisitChangeInput) -> Visit:
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.change_visit, change)
    )


async def record_visit_attendance(
    client: Client, mission_id: str, attendance: VisitAttendanceInput
) -> VisitReceipt:
    return await send_update(
        client,
        mission_id,
        lambda h: h.execute_update(MissionWorkflow.record_visit_attendance, attendance),
    )


async def add_invitees(client: Client, mission_id: str, batch: InviteeBatch) -> InviteeReceipt:
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.add_invitees, batch)
    )


async def give_feedback(client: Client, mission_id: str, answer: FeedbackInput) -> AnswerReceipt:
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.give_feedback, answer)
    )


async def answer_follow_up(client: Client, mission_id: str, answer: FollowUpInput) -> AnswerReceipt:
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.answer_follow_up, answer)
    )


async def submit_applications(
    client: Client, mission_id: str, submissions: Sequence[ApplicationSubmission]
) -> list[ApplicationReceipt]:
    """The Update alone (see `api.intake_gate`), one receipt per submission. Its id is
    its first application's, so sending it again (a retry after a lost answer) gets the first
    answer back from the server rather than a second acceptance."""
    answer = await send_update(
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
    return await send_update(
        client, mission_id, lambda h: h.execute_update(MissionWorkflow.amend_application, change)
    )


async def withdraw_application(
    client: Client, mission_id: str, withdrawal: ApplicationWithdrawal
) -> ApplicationReceipt:
    return await send_update(
        client,
        mission_id,
        lambda h: h.execute_update(MissionWorkflow.withdraw_application, withdrawal),
    )
