"""Writing applications, for the mission workflow once it has said the call is open.

Submissions are admitted by a regular activity after their Updates were answered (see
`missionflow.runtime.intake`); amendments and withdrawals are written by local activities from
the Update handlers. Each is idempotent: a
retried attempt, or the same applicant applying twice, finds the existing row and changes
nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from missionflow.domain.call.applications import ApplicationStatus, missing_items, organisation_key
from missionflow.domain.call.messages import (
    Admissions,
    ApplicationBatch,
    ApplicationReceipt,
    ApplicationRecord,
    ApplicationSubmission,
)
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.refusals import CONFLICT, NOT_FOUND
from missionflow.runtime import intake
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.i18n import missing_in
from missionflow.runtime.mail import context as mail
from missionflow.runtime.mail import outbox
from missionflow.runtime.models import Application, Mission, OutboxMessage, Slide
from missionflow.runtime.settings import Settings


class ApplicationActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="admit_applications")
    async def admit_applications(self, batch: ApplicationBatch) -> Admissions:
        """Applications the workflow accepted and answered a moment ago: write those their
        senders have not written, and queue every admitted one's confirmation. An applicant
        who had applied before is not admitted twice."""
        written = await self._write_and_confirm(batch.mission_id, batch.records)
        return Admissions(admitted=sum(admitted for _, admitted in written))

    async def _write_and_confirm(
        self, mission_id: str, records: list[ApplicationRecord]
    ) -> list[tuple[intake.Written, bool]]:
        """Write the applications and queue the confirmation of each one admitted (its own row
        is written, by this call or before): each record's result, and whether it is admitted.

        Rows and emails are two transactions; the outbox keeps one message per key, so an
        attempt retried after the first queues what is missing and nothing twice.
        """
        async with self._sessions() as session:
            mission = await mission_file(session, mission_id)
        submitted = _submitted(records)
        written = await intake.write_applications(
            self._sessions, mission, [(s, record.at) for record, s in submitted]
        )
        results = [
            (result, result.row.id == submission.application_id)
            for (_, submission), result in zip(submitted, written, strict=True)
        ]
        admitted = [
            (record, result.row)
            for record, (result, own) in zip(records, results, strict=True)
            if own
        ]
        if admitted:
            # Composed before locking, and beside the event loop: a hundred messages take a
            # few hundred milliseconds, which the worker's workflow tasks (the Updates of the
            # applicants waiting for their answer) would otherwise wait out.
            confirmations = await asyncio.to_thread(self._confirmations, mission, admitted)
            async with transaction(self._sessions) as session:
                await outbox.add_all(session, confirmations)
        return results

    def _confirmations(
        self, mission: MissionFile, admitted: list[tuple[ApplicationRecord, Application]]
    ) -> list[OutboxMessage]:
        return [
            mail.compose(
                mission,
                self._settings,
                template="application_received",
                recipient=row.contact_email,
                recipient_name=row.contact_name,
                context={
                    "application": _summary(row),
                    "missing": missing_in(row.missing, mission, row.language),
                    "private_url": mail.private_url(self._settings, mission.id, row.id),
                    "deadline": record.deadline,
                },
                key=f"application_received:{row.id}",
                application_id=row.id,
                language=row.language,
            )
            for record, row in admitted
        ]

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


def forget_mission_files() -> None:
    """Read every file afresh from now on: a process that runs a mission id on one database
    after another (`missionflow simulate` called again, as its tests do, perhaps with another
    file under the same id) must not take the previous database's file for this one's."""
    _MISSIONS.clear()


async def _application(session: AsyncSession, mission_id: str, application_id: Any) -> Application:
    row = await session.get(Application, application_id)
    if row is None or row.mission_id != mission_id:
        raise ApplicationError("No such application.", type=NOT_FOUND, non_retryable=True)
    return row


async def _staged(session: AsyncSession, mission_id: str, slide_id: Any) -> bool:
    slide = await session.get(Slide, slide_id)
    return slide is not None and slide.mission_id == mission_id and slide.application_id is None


async def _attach(session: AsyncSession, row: Application, slide_id: Any) -> None:
    await session.exec(  # type: ignore[call-overload]
        update(Slide).where(col(Slide.id) == slide_id).values(application_id=row.id)
    )


def _submitted(
    records: list[ApplicationRecord],
) -> list[tuple[ApplicationRecord, ApplicationSubmission]]:
    if any(record.submission is None for record in records):
        raise ApplicationError("a record to write has no submission", non_retryable=True)
    return [(record, record.submission) for record in records if record.submission is not None]


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
