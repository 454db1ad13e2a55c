"""Erasure of a person's data (GDPR article 17): one application's person, or everyone of a
mission once its retention period ends.

Erasing anonymises rather than deletes: the rows keep what the mission's figures are made of
(country, sectors, status, scores, ratings, counts), so the report and the mission's counts still
add up, and lose what names or reaches the person (names, addresses, organisation, free text).
The slide and the copies of their emails in the development mailbox are deleted; their outbox
rows keep their status (exactly-once delivery still holds) but lose recipient and bodies, and
one not yet sent never will be. Everything happens in the caller's transaction, so a refused or
failed erasure leaves nothing half-written; doing it twice changes nothing the second time.

What it cannot reach: the mission's Temporal history, which is sealed (`runtime.codec`) and
cannot be rewritten; it ends with the namespace's retention period (docs/privacy.md).
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.call.applications import email_key
from missionflow.domain.erasure import ERASED, ERASED_ADDRESS, erased_key, kept_answers
from missionflow.domain.matchmaking.rules import DELEGATE, HOST
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime import audit, meeting_ratings, representatives
from missionflow.runtime.erased_addresses import remember
from missionflow.runtime.models import (
    AgendaSent,
    Application,
    Feedback,
    FollowUpAnswer,
    Host,
    InvitedOrganisation,
    Meeting,
    Mission,
    OutboxMessage,
    SinkMessage,
    Slide,
)
from missionflow.runtime.review_scores import clear_comments

UNSENT = ("queued", "sending")


async def erase_application(
    session: AsyncSession, mission_id: str, application_id: uuid.UUID, *, by: str, reason: str
) -> Counter[str] | None:
    """Erase one applicant's data and log it; in the caller's transaction, which commits it.

    Returns what was erased, as counts; None when it was erased before (nothing changes).

    Raises:
        LookupError: no such application in this mission.
    """
    row = await session.get(Application, application_id)
    if row is None or row.mission_id != mission_id:
        raise LookupError(f"no application {application_id} in mission {mission_id}")
    if row.erased_at is not None:
        return None
    mission = await _mission(session, mission_id)
    erased = await _erase(session, mission, row, datetime.now(UTC))
    audit.record(
        session,
        mission_id,
        by=by,
        action=audit.ERASED,
        subject=str(application_id),
        detail=_detail(reason, erased),
    )
    return erased


async def erase_mission(session: AsyncSession, mission_id: str, *, by: str) -> Counter[str] | None:
    """Erase everyone of a mission: applicants, hosts, invitees, with their feedback, answers
    and emails (the retention period has ended). None when done before."""
    mission_row = await session.get(Mission, mission_id)
    if mission_row is None:
        raise LookupError(f"no mission {mission_id}")
    if mission_row.personal_data_erased_at is not None:
        return None
    now = datetime.now(UTC)
    mission = MissionFile.model_validate(mission_row.file)
    erased: Counter[str] = Counter()
    applications = await session.exec(
        select(Application).where(
            Application.mission_id == mission_id, col(Application.erased_at).is_(None)
        )
    )
    for row in applications.all():
        erased += await _erase(session, mission, row, now)
    erased += await _erase_hosts(session, mission_id)
    for invitee in (
        await session.exec(
            select(InvitedOrganisation).where(InvitedOrganisation.mission_id == mission_id)
        )
    ).all():
        erased["invitees"] += _anonymise_invitee(invitee)
        session.add(invitee)
    for invitee in mission.call.invitees:
        await remember(session, mission_id, email_key(str(invitee.email)))
    # The stored file's invitees go too (nothing after the call reads them); its copy in the
    # sealed Temporal history cannot be rewritten (docs/privacy.md).
    erased["file_invitees"] += len(mission.call.invitees)
    file = mission_row.file
    mission_row.file = {**file, "call": {**file["call"], "invitees": []}}
    outbox = await _rows(
        session, select(OutboxMessage).where(OutboxMessage.mission_id == mission_id)
    )
    erased["emails"] += _clear_emails(session, outbox, now)
    erased["mailbox_copies"] += await _delete_copies(session, mission_id, None)
    mission_row.personal_data_erased_at = now
    session.add(mission_row)
    audit.record(
        session,
        mission_id,
        by=by,
        action=audit.ERASED,
        subject=f"mission {mission_id}",
        detail=_detail("retention_ended", erased),
    )
    return erased


async def _erase(
    session: AsyncSession, mission: MissionFile, row: Application, now: datetime
) -> Counter[str]:
    erased: Counter[str] = Counter(applications=1)
    address = row.contact_email.strip().lower()
    await remember(session, mission.id, row.email_key)
    invitees = await _rows(
        session,
        select(InvitedOrganisation).where(
            InvitedOrganisation.mission_id == mission.id,
            InvitedOrganisation.email_key == row.email_key,
        ),
    )
    for invitee in invitees:
        erased["invitees"] += _anonymise_invitee(invitee)
        session.add(invitee)
    outbox = await _rows(
        session,
        select(OutboxMessage)
        .where(OutboxMessage.mission_id == mission.id)
        .where(
            or_(
                col(OutboxMessage.application_id) == row.id,
                col(OutboxMessage.application_id).is_(None)
                & (func.lower(OutboxMessage.recipient) == address),
            )
        ),
    )
    erased["emails"] += _clear_emails(session, outbox, now)
    erased["mailbox_copies"] += await _delete_copies(session, mission.id, address)
    slides = await session.exec(delete(Slide).where(col(Slide.application_id) == row.id))  # type: ignore[call-overload]
    erased["slides"] += slides.rowcount or 0
    agendas = await session.exec(  # type: ignore[call-overload]
        delete(AgendaSent).where(
            col(AgendaSent.mission_id) == mission.id, col(AgendaSent.participant_id) == row.id
        )
    )
    erased["agendas"] += agendas.rowcount or 0
    erased["free_texts"] += await _erase_texts(session, mission.id, row.id, DELEGATE)
    erased["review_comments"] += await clear_comments(session, row.id)
    for name in ("organisation", "contact_name", "city"):
        setattr(row, name, ERASED)
    row.organisation_key = row.email_key = erased_key(row.id)
    row.contact_email = ERASED_ADDRESS
    row.website = None
    row.answers = kept_answers(mission.call.questionnaire, row.answers)
    row.erased_at = now
    session.add(row)
    await representatives.erase(session, mission.id, row.id)
    await session.flush()
    return erased


async def _erase_hosts(session: AsyncSession, mission_id: str) -> Counter[str]:
    erased: Counter[str] = Counter()
    for host in (await session.exec(select(Host).where(Host.mission_id == mission_id))).all():
        if host.contact_email == ERASED_ADDRESS:
            continue
        host.name = host.contact_name = ERASED
        host.name_key = erased_key(host.id)
        host.contact_email = ERASED_ADDRESS
        host.description = None
        session.add(host)
        await representatives.erase(session, mission_id, host.id)
        erased["hosts"] += 1
        erased["free_texts"] += await _erase_texts(session, mission_id, host.id, HOST)
    return erased


async def _erase_texts(
    session: AsyncSession, mission_id: str, person_id: uuid.UUID, kind: str
) -> int:
    """What the person wrote in their own words: meeting notes, testimonial, comments; and the
    comments on meeting outcomes, theirs and the other side's about their meetings."""
    count = 0
    meetings = await _rows(
        session,
        select(Meeting)
        .where(Meeting.mission_id == mission_id, col(Meeting.note).is_not(None))
        .where(
            or_(
                (col(Meeting.requester_id) == person_id) & (col(Meeting.requester_kind) == kind),
                (col(Meeting.invitee_id) == person_id) & (col(Meeting.invitee_kind) == kind),
            )
        ),
    )
    feedback = await _rows(
        session,
        select(Feedback).where(
            Feedback.mission_id == mission_id,
            Feedback.respondent_kind == kind,
            Feedback.respondent_id == person_id,
            col(Feedback.testimonial).is_not(None),
        ),
    )
    answers = await _rows(
        session,
        select(FollowUpAnswer).where(
            FollowUpAnswer.mission_id == mission_id,
            FollowUpAnswer.application_id == person_id,
            col(FollowUpAnswer.comments).is_not(None),
        ),
    )
    for meeting in meetings:
        meeting.note = None
    for answer in feedback:
        answer.testimonial, answer.consent_to_publish = None, False
    for follow_up in answers:
        follow_up.comments = None
    for changed in (*meetings, *feedback, *answers):
        session.add(changed)
        count += 1
    return count + await meeting_ratings.clear_comments(session, mission_id, person_id)


def _anonymise_invitee(invitee: InvitedOrganisation) -> int:
    if invitee.email == ERASED_ADDRESS:
        return 0
    invitee.organisation, invitee.name = ERASED, None
    invitee.email, invitee.email_key = ERASED_ADDRESS, erased_key(invitee.id)
    return 1


def _clear_emails(session: AsyncSession, rows: list[OutboxMessage], now: datetime) -> int:
    """The person's emails keep their row and status (what was sent stays sent, so a retried
    delivery sends nothing twice), not their words; one not sent yet never will be."""
    count = 0
    for row in rows:
        if row.recipient == ERASED_ADDRESS:
            continue
        row.recipient, row.recipient_name = ERASED_ADDRESS, None
        row.subject, row.text_body, row.html_body, row.content = ERASED, "", "", None
        row.idempotency_key = erased_key(row.id)
        if row.status in UNSENT:
            row.status, row.failed_at = "failed", now
            row.last_error = "not sent: the recipient's personal data was erased"
        session.add(row)
        count += 1
    return count


async def _delete_copies(session: AsyncSession, mission_id: str, address: str | None) -> int:
    """The development mailbox's copies of the mission's messages to `address` (None: all)."""
    copies = await _rows(session, select(SinkMessage).where(SinkMessage.mission_id == mission_id))
    mine = [
        copy
        for copy in copies
        if address is None or address in (r.strip().lower() for r in copy.recipients)
    ]
    for copy in mine:
        await session.delete(copy)
    return len(mine)


async def _mission(session: AsyncSession, mission_id: str) -> MissionFile:
    row = await session.get(Mission, mission_id)
    assert row is not None  # an application's mission (a foreign key)
    return MissionFile.model_validate(row.file)


async def _rows(session: AsyncSession, query: Any) -> list[Any]:
    return list((await session.exec(query)).all())


def _detail(reason: str, erased: Counter[str]) -> str:
    counts = ", ".join(f"{count} {name}" for name, count in sorted(erased.items()) if count)
    return f"reason: {reason}; erased: {counts}"
