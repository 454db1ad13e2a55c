"""Group commit: submissions accepted together are written by one activity call, on SQLite and
on PostgreSQL, each exactly once whatever the batch holds and however often it is retried."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from support import rehearsal

from activities.applications import ApplicationActivities
from missionflow.domain.call.applications import ApplicationForm
from missionflow.domain.call.messages import (
    ApplicationBatch,
    ApplicationRecord,
    ApplicationSubmission,
)
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.runtime.models import Application, Mission, OutboxMessage, Slide
from missionflow.runtime.settings import Settings

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


@pytest.fixture
async def mission(session_factory: async_sessionmaker[AsyncSession]) -> MissionFile:
    now = datetime.now(UTC)
    document = rehearsal()
    document["call"]["require_slide"] = True
    mission = load_mission(document, now=now, live=True)
    async with session_factory() as session:
        session.add(
            Mission(
                id=mission.id,
                workflow_id=mission.workflow_id,
                title=mission.title,
                organiser=mission.organiser,
                timezone=mission.timezone,
                phase="call_open",
                file=mission.model_dump(mode="json"),
            )
        )
        await session.commit()
    return mission


@pytest.fixture
def activities(engine: AsyncEngine, settings: Settings) -> ApplicationActivities:
    return ApplicationActivities(engine, settings)


def submission(mission: MissionFile, number: int, **changes: Any) -> ApplicationSubmission:
    form = {
        "organisation": f"Cluster {number}",
        "organisation_type": "sme",
        "country": "FR",
        "city": "Lyon",
        "contact_name": f"Contact {number}",
        "contact_email": f"contact{number}@example.org",
        "sectors": [mission.call.sectors[0]],
        "consent": True,
        **changes,
    }
    return ApplicationSubmission(
        application_id=uuid.uuid4(), form=ApplicationForm.model_validate(form)
    )


def batch(mission: MissionFile, *submissions: ApplicationSubmission) -> ApplicationBatch:
    at = datetime.now(UTC)
    return ApplicationBatch(
        mission_id=mission.id,
        records=[
            ApplicationRecord(
                mission_id=mission.id,
                at=at + timedelta(milliseconds=i),
                deadline=at + timedelta(days=1),
                submission=s,
            )
            for i, s in enumerate(submissions)
        ],
    )


async def rows(
    session_factory: async_sessionmaker[AsyncSession],
) -> tuple[list[Application], list[OutboxMessage]]:
    async with session_factory() as session:
        applications = (await session.exec(select(Application))).all()
        messages = (await session.exec(select(OutboxMessage))).all()
    return list(applications), list(messages)


async def test_a_batch_is_written_once_with_one_confirmation_each(
    activities: ApplicationActivities, mission: MissionFile, session_factory
) -> None:
    submissions = [submission(mission, n) for n in range(5)]
    written = await activities.record_applications(batch(mission, *submissions))

    assert [r.application_id for r in written.receipts] == [s.application_id for s in submissions]
    assert all(r.changed and r.status == "received" for r in written.receipts)
    applications, messages = await rows(session_factory)
    assert {a.id for a in applications} == {s.application_id for s in submissions}
    assert sorted(m.application_id for m in messages) == sorted(  # type: ignore[type-var]
        s.application_id for s in submissions
    )
    assert all(m.template == "application_received" and m.content for m in messages)

    again = await activities.record_applications(batch(mission, *submissions))  # a retry

    assert [r.application_id for r in again.receipts] == [s.application_id for s in submissions]
    assert not any(r.changed for r in again.receipts)
    assert tuple(map(len, await rows(session_factory))) == (5, 5)


async def test_the_same_applicant_twice_in_one_batch_is_one_application(
    activities: ApplicationActivities, mission: MissionFile, session_factory
) -> None:
    first = submission(mission, 1)
    # The same organisation and email, differently typed, under another request's id.
    twin = submission(
        mission, 1, organisation="  cluster   1 ", contact_email="CONTACT1@example.org"
    )
    other = submission(mission, 2)
    written = await activities.record_applications(batch(mission, first, twin, other, first))

    changed = [r.changed for r in written.receipts]
    assert changed == [True, False, True, False]
    assert [r.application_id for r in written.receipts] == [
        first.application_id,
        first.application_id,
        other.application_id,
        first.application_id,
    ]
    applications, messages = await rows(session_factory)
    assert len(applications) == len(messages) == 2


async def test_an_applicant_recorded_earlier_gets_the_first_application(
    activities: ApplicationActivities, mission: MissionFile, session_factory
) -> None:
    first = submission(mission, 1)
    await activities.record_application(batch(mission, first).records[0])  # the old, one-by-one way
    later = submission(mission, 1)
    written = await activities.record_applications(batch(mission, later, submission(mission, 3)))

    earlier, new = written.receipts
    assert (earlier.application_id, earlier.changed) == (first.application_id, False)
    assert new.changed
    assert tuple(map(len, await rows(session_factory))) == (2, 2)


async def test_staged_slides_are_attached_to_their_applications(
    activities: ApplicationActivities, mission: MissionFile, session_factory
) -> None:
    async with session_factory() as session:
        slides = [
            Slide(
                mission_id=mission.id,
                filename=f"pitch{n}.pdf",
                content_type="application/pdf",
                size=len(PDF),
                sha256="0" * 64,
                content=PDF,
                uploaded_at=datetime.now(UTC),
            )
            for n in range(2)
        ]
        session.add_all(slides)
        await session.commit()
    with_slide = submission(mission, 1)
    with_slide.slide_id = slides[0].id
    without = submission(mission, 2)
    also_with_slide = submission(mission, 3)
    also_with_slide.slide_id = slides[1].id
    await activities.record_applications(batch(mission, with_slide, without, also_with_slide))

    async with session_factory() as session:
        attached = {
            s.id: s.application_id
            for s in (await session.exec(select(Slide).order_by(col(Slide.filename)))).all()
        }
        missing = {a.id: a.missing for a in (await session.exec(select(Application))).all()}
    assert attached == {
        slides[0].id: with_slide.application_id,
        slides[1].id: also_with_slide.application_id,
    }
    slide = "the one-slide presentation (PDF or PPTX)"
    assert slide in missing[without.application_id]
    assert slide not in missing[with_slide.application_id]
    assert slide not in missing[also_with_slide.application_id]
