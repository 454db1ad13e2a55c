"""Writing applications: run as local activities from the mission workflow's Update handlers.

The workflow has already said the call is open; these write the row, attach the slide the API
stored, and queue the confirmation email, all in one transaction. Each is idempotent: a retried
attempt, or the same applicant applying twice, finds the existing row and changes nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from missionflow import mail, outbox
from missionflow.applications import (
    ApplicationStatus,
    email_key,
    missing_items,
    organisation_key,
)
from missionflow.db import sessions, transaction
from missionflow.messages import (
    ApplicationBatch,
    ApplicationReceipt,
    ApplicationReceipts,
    ApplicationRecord,
    ApplicationSubmission,
)
from missionflow.mission_file import MissionFile
from missionflow.models import Application, Mission, OutboxMessage, Slide
from missionflow.refusals import CONFLICT, NOT_FOUND
from missionflow.settings import Settings


class ApplicationActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="record_application")
    async def record_application(self, record: ApplicationRecord) -> ApplicationReceipt:
        """One submission: what missions record whose run started before batched intake."""
        (receipt,) = await self._record_submissions(record.mission_id, [record])
        return receipt

    @activity.defn(name="record_applications")
    async def record_applications(self, batch: ApplicationBatch) -> ApplicationReceipts:
        """Submissions accepted together, written together: one read, one transaction."""
        receipts = await self._record_submissions(batch.mission_id, batch.records)
        return ApplicationReceipts(receipts=receipts)

    async def _record_submissions(
        self, mission_id: str, records: list[ApplicationRecord]
    ) -> list[ApplicationReceipt]:
        """Write each new application, attach its staged slide and queue its confirmation, all
        in one transaction; answer one receipt per record, in order.

        An application whose id or applicant (organisation and contact email) is already
        recorded, in the database or earlier in the same list, changes nothing and gets that
        application's receipt with `changed=False`: a retried attempt writes nothing twice.
        """
        submissions = [record.submission for record in records if record.submission is not None]
        if len(submissions) != len(records):
            raise ApplicationError("a record to write has no submission", non_retryable=True)
        # Read and compose outside the write transaction: on SQLite writers queue one at a
        # time, so only the writes themselves are done while holding that place.
        async with self._sessions() as session:
            mission = await mission_file(session, mission_id)
            known = await _known(session, mission_id, submissions)
            staged = await _staged_among(
                session, mission_id, [s.slide_id for s in submissions if s.slide_id is not None]
            )
        by_id = {row.id: row for row in known}
        by_applicant = {(row.email_key, row.organisation_key): row for row in known}
        receipts: list[ApplicationReceipt] = []
        rows: list[Application] = []
        slides: list[dict[str, Any]] = []
        confirmations: list[OutboxMessage] = []
        for record, submission in zip(records, submissions, strict=True):
            form = submission.form
            applicant = (email_key(form.contact_email), organisation_key(form.organisation))
            existing = by_id.get(submission.application_id) or by_applicant.get(applicant)
            if existing is not None:
                receipts.append(_receipt(existing, changed=False))
                continue
            slide_id = submission.slide_id
            has_slide = slide_id is not None and slide_id in staged
            if slide_id is not None:
                staged.discard(slide_id)  # a slide is attached to one application at most
            missing = missing_items(mission, form.answers, has_slide=has_slide)
            row = Application(
                id=submission.application_id,
                mission_id=mission_id,
                organisation=form.organisation,
                organisation_key=applicant[1],
                organisation_type=form.organisation_type.value,
                country=form.country,
                city=form.city,
                website=str(form.website) if form.website else None,
                contact_name=form.contact_name,
                contact_email=str(form.contact_email),
                email_key=applicant[0],
                sectors=form.sectors,
                answers=form.answers,
                consent=form.consent,
                status=ApplicationStatus.RECEIVED.value,
                complete=not missing,
                missing=missing,
                submitted_at=record.at,
                updated_at=record.at,
            )
            by_id[row.id] = by_applicant[applicant] = row
            rows.append(row)
            if has_slide:
                slides.append({"id": slide_id, "application_id": row.id})
            confirmations.append(
                mail.compose(
                    mission,
                    self._settings,
                    template="application_received",
                    recipient=row.contact_email,
                    recipient_name=row.contact_name,
                    context={
                        "application": _summary(row),
                        "missing": missing,
                        "private_url": mail.private_url(self._settings, mission.id, row.id),
                        "deadline": record.deadline,
                    },
                    key=f"application_received:{row.id}",
                    application_id=row.id,
                )
            )
            receipts.append(_receipt(row, changed=True))
        if not rows:
            return receipts
        try:
            # A concurrent attempt for the same applicant makes the insert fail on the unique
            # key; the retry then finds that application above.
            async with transaction(self._sessions) as session:
                session.add_all(rows)
                await session.flush()
                if slides:
                    # ORM bulk UPDATE by primary key: one statement for every slide.
                    await session.exec(update(Slide), params=slides)  # type: ignore[call-overload]
                await outbox.add_all(session, confirmations)
            return receipts
        except IntegrityError:
            # The same applicant, applying twice at once: the other attempt's row now exists.
            raise ApplicationError("applied twice at once; retrying finds the first") from None

    @activity.defn(name="amend_application")
    async def amend_application(self, record: ApplicationRecord) -> ApplicationReceipt:
        assert record.change is not None
        change, amendment = record.change, record.change.amendment
        try:
            async with transaction(self._sessions) as session:
                mission = await mission_file(session, record.mission_id)
                row = await _application(session, record.mission_id, change.application_id)
                if row.status == ApplicationStatus.WITHDRAWN:
                    raise ApplicationError(
                        "This application was withdrawn; it can no longer be changed.",
                        type=CONFLICT,
                        non_retryable=True,
                    )
                # None means "unchanged": the amendment crossed the wire, where unset fields
                # arrive as explicit None.
                values = amendment.model_dump(exclude_none=True, exclude={"answers"})
                for name, value in values.items():
                    setattr(row, name, str(value) if name == "website" and value else value)
                if amendment.organisation is not None:
                    row.organisation_key = organisation_key(amendment.organisation)
                if amendment.answers is not None:
                    row.answers = {**row.answers, **amendment.answers}
                if change.slide_id is not None and await _staged(
                    session, record.mission_id, change.slide_id
                ):
                    await session.exec(delete(Slide).where(col(Slide.application_id) == row.id))  # type: ignore[call-overload]
                    await _attach(session, row, change.slide_id)
                attached = select(Slide.id).where(Slide.application_id == row.id)
                has_slide = (await session.exec(attached)).first() is not None
                row.missing = missing_items(mission, row.answers, has_slide=has_slide)
                row.complete = not row.missing
                row.updated_at = record.at
                session.add(row)
                await session.flush()
                return _receipt(row, changed=True)
        except IntegrityError:
            raise ApplicationError(
                "Another application from this organisation and contact email exists.",
                "organisation",
                type=CONFLICT,
                non_retryable=True,
            ) from None

    @activity.defn(name="withdraw_application")
    async def withdraw_application(self, record: ApplicationRecord) -> ApplicationReceipt:
        assert record.withdrawal is not None
        async with transaction(self._sessions) as session:
            row = await _application(session, record.mission_id, record.withdrawal.application_id)
            if row.status == ApplicationStatus.WITHDRAWN:
                return _receipt(row, changed=False)
            row.status = ApplicationStatus.WITHDRAWN.value
            row.withdrawn_at = row.updated_at = record.at
            session.add(row)
            await session.flush()
            return _receipt(row, changed=True)


_MISSIONS: dict[str, MissionFile] = {}


async def mission_file(
    session: AsyncSession, mission_id: str, *, fresh: bool = False
) -> MissionFile:
    """The mission's file, read once per process: validating it costs more than the rest of an
    application's write, and what changes while the mission runs (an extended deadline, the
    places on visits) lives in the workflow. The visits themselves can change (a coordinator
    moves or cancels one, and the stored file follows); what shows them reads `fresh`."""
    if not fresh and (cached := _MISSIONS.get(mission_id)) is not None:
        return cached
    row = await session.get(Mission, mission_id)
    if row is None:
        raise ApplicationError(f"mission {mission_id} has no row in the database")
    _MISSIONS[mission_id] = MissionFile.model_validate(row.file)
    return _MISSIONS[mission_id]


async def _application(session: AsyncSession, mission_id: str, application_id: Any) -> Application:
    row = await session.get(Application, application_id)
    if row is None or row.mission_id != mission_id:
        raise ApplicationError("No such application.", type=NOT_FOUND, non_retryable=True)
    return row


async def _known(
    session: AsyncSession, mission_id: str, submissions: list[ApplicationSubmission]
) -> list[Application]:
    """Applications of the mission that may be one of `submissions` again: the same id, or the
    same contact email (the caller compares the organisation too)."""
    ids = {s.application_id for s in submissions}
    emails = {email_key(s.form.contact_email) for s in submissions}
    query = select(Application).where(
        Application.mission_id == mission_id,
        or_(col(Application.id).in_(ids), col(Application.email_key).in_(emails)),
    )
    return list((await session.exec(query)).all())


async def _staged_among(
    session: AsyncSession, mission_id: str, slide_ids: list[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of `slide_ids` are stored for this mission and attached to no application yet."""
    if not slide_ids:
        return set()
    query = select(Slide.id).where(
        col(Slide.id).in_(slide_ids),
        Slide.mission_id == mission_id,
        col(Slide.application_id).is_(None),
    )
    return set((await session.exec(query)).all())


async def _staged(session: AsyncSession, mission_id: str, slide_id: Any) -> bool:
    slide = await session.get(Slide, slide_id)
    return slide is not None and slide.mission_id == mission_id and slide.application_id is None


async def _attach(session: AsyncSession, row: Application, slide_id: Any) -> None:
    await session.exec(  # type: ignore[call-overload]
        update(Slide).where(col(Slide.id) == slide_id).values(application_id=row.id)
    )


def _receipt(row: Application, *, changed: bool) -> ApplicationReceipt:
    return ApplicationReceipt(
        application_id=row.id,
        status=ApplicationStatus(row.status),
        changed=changed,
        complete=row.complete,
        missing=row.missing,
    )


def _summary(row: Application) -> dict[str, Any]:
    return {
        "organisation": row.organisation,
        "contact_name": row.contact_name,
        "sectors": row.sectors,
        "country": row.country,
    }
