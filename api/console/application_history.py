"""What happened to one application, in order, read from the rows that already record it: the
application's own instants, its slide, the selection's log and decision, the mission's audit
log, the outbox and the review assignments. Nothing here is a log of its own: an event that no
row records (an amendment before the last one) is not shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.runtime.audit import AuditEntry
from missionflow.runtime.models import (
    Application,
    OutboxMessage,
    SelectionDecision,
    SelectionEvent,
    Slide,
)
from missionflow.runtime.people import Person, ReviewAssignment


@dataclass(frozen=True)
class Happening:
    at: datetime
    what: str
    detail: str = ""
    by: str | None = None


SELECTION_WORDS = {
    "proposed": "Selection proposed",
    "overridden": "Decision overridden",
    "approved": "Delegation approved",
    "confirmed": "Seat confirmed",
    "declined": "Seat declined",
    "promoted": "Promoted from the waitlist: seat offered",
    "withdrawn": "Seat released: withdrawn",
    "expired": "Seat released: no answer in time",
    "locked": "Delegation locked",
}
AUDIT_WORDS = {
    "personal_data.exported": "Personal data exported",
    "personal_data.erased": "Personal data erased",
}
EMAIL_WORDS = {"queued": "queued", "sending": "being sent", "sent": "sent", "failed": "failed"}


async def history(session: AsyncSession, row: Application) -> list[Happening]:
    """Everything recorded about the application, oldest first."""
    happened = [Happening(row.submitted_at, "Submitted", _completeness(row))]
    if row.updated_at not in (row.submitted_at, row.withdrawn_at):
        happened.append(
            Happening(row.updated_at, "Amended", "the last amendment; earlier ones are not kept")
        )
    if row.withdrawn_at is not None:
        happened.append(Happening(row.withdrawn_at, "Withdrawn"))
    if row.erased_at is not None and not await _audited_erasure(session, row):
        happened.append(Happening(row.erased_at, "Personal data erased"))
    slide = (await session.exec(select(Slide).where(Slide.application_id == row.id))).first()
    if slide is not None:
        happened.append(Happening(slide.uploaded_at, "Slide uploaded", slide.filename))
    happened += await _selection(session, row)
    happened += await _audit(session, row)
    happened += await _emails(session, row)
    happened += await _assignments(session, row)
    return sorted(happened, key=lambda happening: happening.at)


def _completeness(row: Application) -> str:
    return "complete" if row.complete else "incomplete: missing " + "; ".join(row.missing)


async def _selection(session: AsyncSession, row: Application) -> list[Happening]:
    decision = await session.get(SelectionDecision, row.id)
    if decision is None:
        return []
    events = (
        await session.exec(
            select(SelectionEvent)
            .where(SelectionEvent.mission_id == row.mission_id)
            .where(
                or_(
                    col(SelectionEvent.application_id) == row.id,
                    col(SelectionEvent.application_id).is_(None),
                )
            )
        )
    ).all()
    return [_selection_event(event, decision) for event in events]


def _selection_event(event: SelectionEvent, decision: SelectionDecision) -> Happening:
    what = SELECTION_WORDS.get(event.action, event.action)
    if event.action == "proposed":
        detail = f"proposed {decision.proposed}, score {decision.score:.2f}, rank {decision.rank}"
    elif event.action == "approved":
        seat = f", seat {decision.seat}" if decision.seat else ""
        detail = f"this application's decision as it stands: {decision.decision}{seat}"
    elif event.action == "overridden":
        detail = f"{event.previous} → {event.decision}: {event.reason or ''}"
    elif event.action == "locked" and event.application_id is not None:
        what, detail = "Seat released: the delegation locked", ""
    else:
        detail = (event.reason or "") if event.application_id is None else ""
    return Happening(event.at, what, detail, event.by)


async def _audit(session: AsyncSession, row: Application) -> list[Happening]:
    entries = (
        await session.exec(
            select(AuditEntry).where(
                AuditEntry.mission_id == row.mission_id, AuditEntry.subject == str(row.id)
            )
        )
    ).all()
    return [
        Happening(
            entry.at, AUDIT_WORDS.get(entry.action, entry.action), entry.detail or "", entry.by
        )
        for entry in entries
    ]


async def _audited_erasure(session: AsyncSession, row: Application) -> bool:
    found = await session.exec(
        select(AuditEntry.id).where(
            AuditEntry.subject == str(row.id), AuditEntry.action == "personal_data.erased"
        )
    )
    return found.first() is not None


async def _emails(session: AsyncSession, row: Application) -> list[Happening]:
    messages = (
        await session.exec(
            select(OutboxMessage).where(
                OutboxMessage.mission_id == row.mission_id, OutboxMessage.application_id == row.id
            )
        )
    ).all()
    return [_email(message) for message in messages]


def _email(message: OutboxMessage) -> Happening:
    status = EMAIL_WORDS.get(message.status, message.status)
    attempts = "1 attempt" if message.attempts == 1 else f"{message.attempts} attempts"
    detail = f"“{message.subject}”: {status}, {attempts}"
    if message.last_error:
        detail += f"; last error: {message.last_error}"
    return Happening(message.created_at, f"Email {message.template}", detail)


async def _assignments(session: AsyncSession, row: Application) -> list[Happening]:
    assigned = (
        await session.exec(
            select(ReviewAssignment, Person)
            .join(Person, col(ReviewAssignment.person_id) == col(Person.id))
            .where(ReviewAssignment.application_id == row.id)
        )
    ).all()
    return [
        Happening(assignment.created_at, "Assigned for review", f"to {person.display_name}")
        for assignment, person in assigned
    ]
