"""Writing accepted applications: the one function both writers of an application call.

The mission workflow answers a submission's Update as soon as its validator has said the call
is open, without waiting for any database write (see `api.intake_gate`): whoever sent
the Update writes the row as soon as the answer is in, and the workflow writes, a moment later
and in batches, every application it accepted, for the sender that never did (it crashed, or
lost its connection). Both writes are this idempotent function, keyed by the application's id,
and the applicant's organisation and email stay unique: whoever comes second changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.call.applications import (
    ApplicationForm,
    ApplicationStatus,
    email_key,
    missing_items,
    organisation_key,
)
from missionflow.domain.call.messages import ApplicationSubmission
from missionflow.domain.matchmaking.rules import DELEGATE
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime.db import transaction
from missionflow.runtime.models import Application, Slide
from missionflow.runtime.representatives import Representative

WRITE_ATTEMPTS = 3
"""A write loses a race at most once or twice (the workflow's own write of the same application,
the same applicant twice at once); the next attempt then reads what won."""


@dataclass(frozen=True)
class Written:
    """What a record became: its own row (`new` if this write inserted it), or, for an applicant
    who had applied already, that earlier application's row."""

    row: Application
    new: bool


Accepted = tuple[ApplicationSubmission, datetime]
"""A submission the workflow accepted, and the instant it did."""


async def write_applications(
    sessions: async_sessionmaker[AsyncSession],
    mission: MissionFile,
    records: Sequence[Accepted],
    *,
    known: Sequence[Application] | None = None,
) -> list[Written]:
    """Write each application not written yet, attaching its stored slide, in one transaction;
    what each record became, in order.

    A record whose id is written already, or whose applicant (organisation and contact email)
    applied before, in the database or earlier in `records`, changes nothing. `known` are the
    rows of those the caller read a moment ago (`applied_before`): the first attempt trusts
    them rather than reading again, and a row written since makes it fail on the unique keys,
    so the next attempt reads.
    """
    for _ in range(WRITE_ATTEMPTS - 1):
        with suppress(IntegrityError):
            # A concurrent write of one of these applications, or of the same applicant, won;
            # reading again finds it.
            return await _write(sessions, mission, records, known)
        known = None
    return await _write(sessions, mission, records, None)


async def applied_before(
    sessions: async_sessionmaker[AsyncSession],
    mission_id: str,
    submissions: Sequence[ApplicationSubmission],
) -> list[Application | None]:
    """For each submission, the application it names again (its id, sent again with the same
    idempotency key) or its applicant (organisation and contact email) made before, if any:
    that one is the answer, and the workflow is not asked again."""
    async with sessions() as session:
        known = await _known(session, mission_id, list(submissions))
    by_id = {row.id: row for row in known}
    by_applicant = {(row.email_key, row.organisation_key): row for row in known}
    return [
        by_id.get(s.application_id) or by_applicant.get(_applicant(s.form)) for s in submissions
    ]


def _applicant(form: ApplicationForm) -> tuple[str, str]:
    return email_key(form.contact_email), organisation_key(form.organisation)


async def _write(
    sessions: async_sessionmaker[AsyncSession],
    mission: MissionFile,
    records: Sequence[Accepted],
    known: Sequence[Application] | None,
) -> list[Written]:
    submissions = [submission for submission, _ in records]
    slide_ids = [s.slide_id for s in submissions if s.slide_id is not None]
    # Read outside the write transaction: on SQLite writers queue one at a time, so only the
    # writes themselves are done while holding that place.
    if known is None or slide_ids:
        async with sessions() as session:
            if known is None:
                known = await _known(session, mission.id, submissions)
            staged = await _staged_among(session, mission.id, slide_ids)
    else:
        staged = set()
    by_id = {row.id: row for row in known}
    by_applicant = {(row.email_key, row.organisation_key): row for row in known}
    written: list[Written] = []
    rows: list[Application] = []
    team: list[Representative] = []
    slides: list[dict[str, Any]] = []
    for submission, at in records:
        form = submission.form
        applicant = _applicant(form)
        existing = by_id.get(submission.application_id) or by_applicant.get(applicant)
        if existing is not None:
            written.append(Written(row=existing, new=False))
            continue
        slide_id = submission.slide_id
        has_slide = slide_id is not None and slide_id in staged
        if slide_id is not None:
            staged.discard(slide_id)  # a slide is attached to one application at most
        missing = missing_items(mission, form.answers, has_slide=has_slide)
        row = Application(
            id=submission.application_id,
            mission_id=mission.id,
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
            consent_version=mission.privacy.consent_version,
            status=ApplicationStatus.RECEIVED.value,
            complete=not missing,
            missing=missing,
            language=form.language or mission.languages[0],
            submitted_at=at,
            updated_at=at,
        )
        by_id[row.id] = by_applicant[applicant] = row
        rows.append(row)
        team += _colleagues(mission.id, submission)
        if has_slide:
            slides.append({"id": slide_id, "application_id": row.id})
        written.append(Written(row=row, new=True))
    if rows:
        async with transaction(sessions) as session:
            session.add_all(rows)
            await session.flush()
            session.add_all(team)
            if slides:
                # ORM bulk UPDATE by primary key: one statement for every slide.
                await session.exec(update(Slide), params=slides)  # type: ignore[call-overload]
    return written


def _colleagues(mission_id: str, submission: ApplicationSubmission) -> list[Representative]:
    """The colleagues a new application names, written with it."""
    return [
        Representative(
            mission_id=mission_id,
            organisation_id=submission.application_id,
            side=DELEGATE,
            name=colleague.name,
            email=str(colleague.email),
            role=colleague.role,
        )
        for colleague in submission.form.colleagues
    ]


async def _known(
    session: AsyncSession, mission_id: str, submissions: list[ApplicationSubmission]
) -> list[Application]:
    """Applications of the mission that may be one of `submissions` again: the same id, or the
    same contact email (the caller compares the organisation too)."""
    ids = {s.application_id for s in submissions}
    emails = {email_key(s.form.contact_email) for s in submissions}
    # Each side of the OR names an index of its own (the primary key; the applicant's unique
    # key, which starts with the mission): with the mission outside the OR, SQLite's planner
    # scanned all of the mission's applications instead, a cost growing with the call.
    query = select(Application).where(
        or_(
            col(Application.id).in_(ids),
            and_(Application.mission_id == mission_id, col(Application.email_key).in_(emails)),
        )
    )
    return [row for row in (await session.exec(query)).all() if row.mission_id == mission_id]


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
