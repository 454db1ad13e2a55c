"""Putting a failed email back in the outbox, for the postman to send as it sends any other.

A resend only changes the row's state: the delivery itself stays `activities.email`'s, with
its claim, its fencing and its one send per message. The move from "failed" to "queued" is one
conditional statement (`WHERE status = 'failed'`), so two resends of the same message at once
move it once: the second finds it queued (or sent by then) and is refused.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from temporalio import activity

from activities.refusal import refused
from missionflow.domain.erasure import ERASED_ADDRESS
from missionflow.domain.mission.messages import EmailRequeue, EmailRequeued
from missionflow.domain.refusals import CONFLICT, NOT_FOUND
from missionflow.domain.resending import FAILED, resend_refusal
from missionflow.runtime.db import write_lock
from missionflow.runtime.models import OutboxMessage


class OutboxActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    @activity.defn(name="requeue_failed_email")
    async def requeue_failed_email(self, record: EmailRequeue) -> EmailRequeued:
        """Move the mission's failed email back to "queued", with what its failure left on the
        row (code, error, when) cleared, so the next delivery claims it like a new one.

        Raises:
            ApplicationError: not retryable; NOT_FOUND for a message the mission does not
                have, CONFLICT for one not failed (queued, sending, sent) or whose recipient's
                personal data was erased.
        """
        mine = (
            col(OutboxMessage.id) == record.email_id,
            col(OutboxMessage.mission_id) == record.mission_id,
        )
        requeue = (
            update(OutboxMessage)
            .where(*mine)
            .where(col(OutboxMessage.status) == FAILED)
            .where(col(OutboxMessage.recipient) != ERASED_ADDRESS)
            .values(status="queued", failed_at=None, smtp_code=None, last_error=None)
            .returning(col(OutboxMessage.template))
        )
        async with write_lock(self._engine), self._engine.begin() as db:
            template = (await db.execute(requeue)).scalar_one_or_none()
            if template is not None:
                return EmailRequeued(email_id=record.email_id, template=template)
            found = (
                await db.execute(select(OutboxMessage.status, OutboxMessage.recipient).where(*mine))
            ).one_or_none()
        if found is None:
            raise refused(
                f"No email with id {record.email_id} in this mission's outbox.", NOT_FOUND
            )
        # Neither failed nor erased would have been moved: the rule names which it is.
        raise refused(resend_refusal(*found) or "This email cannot be sent again.", CONFLICT)
