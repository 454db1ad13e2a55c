"""Resending a failed email through the mission's workflow, on the time-skipping server with a
real SMTP server: the message refused for good (550) goes out once when resent, even when two
resends arrive at once; a sent one, an unknown one and one after the mission ended are refused.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from refusing_mailbox import RefusingMailbox, refusing_mailbox
from sqlmodel import select
from support import eventually
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from test_selection_review import apply, small_mission

from api.missions import start_mission
from missionflow.domain.mission.messages import CancelRequest, EmailRequeued, EmailResend
from missionflow.domain.refusals import CONFLICT, NOT_FOUND
from missionflow.runtime.models import OutboxMessage
from workflows.mission import MissionWorkflow

REFUSED = "refused.cluster@example.org"
ACCEPTED = "accepted.cluster@example.org"


@pytest.fixture
async def mailbox() -> AsyncIterator[RefusingMailbox]:
    """Replaces the accepting mailbox of tests/conftest.py for this module's settings."""
    async with refusing_mailbox() as box:
        yield box


async def _confirmation(session_factory, to: str, status: str) -> OutboxMessage:
    async with session_factory() as session:
        row = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.recipient == to))
        ).first()
    assert row is not None, "not queued yet"
    assert row.status == status, (row.status, row.last_error)
    return row


async def _refusal(update) -> ApplicationError:
    with pytest.raises(WorkflowUpdateFailedError) as failed:
        await update
    cause = failed.value.cause
    assert isinstance(cause, ApplicationError)
    return cause


async def test_a_failed_email_resent_twice_at_once_goes_out_once(
    time_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    now = await time_env.get_current_time()
    mission = small_mission(now)
    mailbox.refused.add(REFUSED)
    async with worker_for(time_env):
        handle = await start_mission(
            time_env.client, session_factory, mission, task_queue=task_queue, now=now
        )
        await apply(handle, "Refused Cluster", "DE")
        await apply(handle, "Accepted Cluster", "FR")
        failed = await eventually(
            lambda: _confirmation(session_factory, REFUSED, "failed"), within=30
        )
        await eventually(lambda: _confirmation(session_factory, ACCEPTED, "sent"))
        assert failed.smtp_code == 550 and failed.last_error == "550 5.1.1 no such user"
        assert mailbox.sent("application_received", REFUSED) == []

        mailbox.refused.clear()  # the address works now: the coordinator asks again
        resend = EmailResend(email_id=failed.id, by="Anna Verbeke")
        answers = await asyncio.gather(
            handle.execute_update(MissionWorkflow.resend_email, resend),
            handle.execute_update(MissionWorkflow.resend_email, resend),
            return_exceptions=True,
        )
        requeued = [a for a in answers if isinstance(a, EmailRequeued)]
        refused = [a for a in answers if isinstance(a, WorkflowUpdateFailedError)]
        assert len(requeued) == 1 and len(refused) == 1, answers
        assert requeued[0].template == "application_received"
        cause = refused[0].cause
        assert isinstance(cause, ApplicationError) and cause.type == CONFLICT
        assert "only a failed one is sent again" in cause.message

        row = await eventually(lambda: _confirmation(session_factory, REFUSED, "sent"))
        assert row.attempts == 2 and row.smtp_code is None and row.last_error is None
        assert row.failed_at is None and row.sent_at is not None
        await asyncio.sleep(1)  # a second delivery would have come by now
        (message,) = mailbox.sent("application_received", REFUSED)
        assert message["Message-ID"] == failed.message_id

        again = await _refusal(handle.execute_update(MissionWorkflow.resend_email, resend))
        assert again.type == CONFLICT and "is sent already" in again.message
        other = await _refusal(
            handle.execute_update(
                MissionWorkflow.resend_email, EmailResend(email_id=uuid.UUID(int=1))
            )
        )
        assert other.type == NOT_FOUND
        assert len(mailbox.sent("application_received", ACCEPTED)) == 1

        await handle.execute_update(
            MissionWorkflow.cancel, CancelRequest(reason="The venue closed", by="Anna")
        )
        ended = await _refusal(handle.execute_update(MissionWorkflow.resend_email, resend))
        assert ended.type == CONFLICT and "cancelled" in ended.message
        await handle.terminate("test over")
