"""Group commit: submissions accepted together are admitted by one `admit_applications` call, on
SQLite and on PostgreSQL, each written exactly once whatever the batch holds, however often it
is retried and whether or not the API's sender wrote it first (`intake.write_applications`), with
one confirmation queued in the outbox for each admitted application."""

from __future__ import annotations

import uuid
from collections import Counter
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
    Admissions,
    ApplicationBatch,
    ApplicationRecord,
    ApplicationSubmission,
)
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.runtime import intake
from missionflow.runtime.models import Application, Mission, OutboxMessage, Slide
from missionflow.runtime.settings import Settings

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
SLIDE = "the one-slide presentation (PDF or PPTX)"


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


def confirmed(messages: list[OutboxMessage]) -> Counter[uuid.UUID | None]:
    """How many confirmations are queued for each application."""
    return Counter(m.application_id for m in messages if m.template == "application_received")


def own_keys(mission: MissionFile, *submissions: ApplicationSubmission) -> set[str]:
    """The outbox keys of these submissions' confirmations (the mission's id, then the key)."""
    return {f"{mission.id}:application_received:{s.application_id}" for s in submissions}


async def test_a_batch_is_admitted_once_with_one_confirmation_each(
    activities: ApplicationActivities, mission: MissionFile, session_factory
) -> None:
    submissions = [submission(mission, n) for n in range(5)]
    admissions = await activities.admit_applications(batch(mission, *submissions))

    assert admissions == Admissions(admitted=5)
    applications, messages = await rows(session_factory)
    assert sorted(a.id for a in applications) == sorted(s.application_id for s in submissions)
    assert all(a.status == "received" for a in applications)
    assert confirmed(messages) == Counter(s.application_id for s in submissions)
    assert {m.idempotency_key for m in messages} == own_keys(mission, *submissions)
    emails = {a.id: a.contact_email for a in applications}
    assert all(m.recipient == emails[m.application_id] for m in messages)  # type: ignore[index]
    assert all(m.template == "application_received" and m.content for m in messages)

    again = await activities.admit_applications(batch(mission, *submissions))  # a retry

    # Each one's own row stands, so each is still admitted, and nothing is written twice.
    assert again == Admissions(admitted=5)
    applications_again, messages_again = await rows(session_factory)
    assert {(a.id, a.submitted_at) for a in applications_again} == {
        (a.id, a.submitted_at) for a in applications
    }
    assert {m.id for m in messages_again} == {m.id for m in messages}
    assert tuple(map(len, (applications_again, messages_again))) == (5, 5)


async def test_the_same_applicant_twice_in_one_batch_is_one_application(
    activities: ApplicationActivities, mission: MissionFile, session_factory
) -> None:
    first = submission(mission, 1)
    # The same organisation and email, differently typed, under another request's id.
    twin = submission(
        mission, 1, organisation="  cluster   1 ", contact_email="CONTACT1@example.org"
    )
    other = submission(mission, 2)
    admissions = await activities.admit_applications(batch(mission, first, twin, other, first))

    # Every record whose own row stands counts (`first` twice); the twin, whose applicant has
    # `first`'s row, does not.
    assert admissions == Admissions(admitted=3)
    applications, messages = await rows(session_factory)
    assert sorted(a.id for a in applications) == sorted(
        [first.application_id, other.application_id]
    )
    by_id = {a.id: a for a in applications}
    assert by_id[first.application_id].organisation == "Cluster 1"  # the first form's
    assert by_id[first.application_id].contact_email == "contact1@example.org"
    assert confirmed(messages) == Counter([first.application_id, other.application_id])
    assert {m.idempotency_key for m in messages} == own_keys(mission, first, other)
    assert len(applications) == len(messages) == 2


async def test_a_row_the_sender_wrote_is_admitted_without_a_second_row(
    activities: ApplicationActivities, mission: MissionFile, session_factory
) -> None:
    first = submission(mission, 1)
    sent_at = datetime.now(UTC) - timedelta(seconds=5)
    # The API's sender writes the row as soon as the workflow's answer is in, as the intake
    # gate does (it read a moment ago that the applicant had not applied before).
    (sent,) = await intake.write_applications(
        session_factory, mission, [(first, sent_at)], known=()
    )
    assert (sent.row.id, sent.new) == (first.application_id, True)
    applications, messages = await rows(session_factory)
    assert [a.id for a in applications] == [first.application_id]
    assert messages == []  # the sender queues no confirmation: the admitter does

    later = submission(mission, 1)  # the same applicant again, under another request's id
    third = submission(mission, 3)
    admissions = await activities.admit_applications(batch(mission, first, later, third))

    assert admissions == Admissions(admitted=2)  # `first` and `third`, not `later`
    applications, messages = await rows(session_factory)
    assert sorted(a.id for a in applications) == sorted(
        [first.application_id, third.application_id]
    )
    row = next(a for a in applications if a.id == first.application_id)
    assert row.submitted_at == row.updated_at
    submitted_at = row.submitted_at
    if submitted_at.tzinfo is None:  # SQLite gives back naive UTC
        submitted_at = submitted_at.replace(tzinfo=UTC)
    assert submitted_at == sent_at  # the sender's row, not rewritten
    assert confirmed(messages) == Counter([first.application_id, third.application_id])
    assert {m.idempotency_key for m in messages} == own_keys(mission, first, third)

    again = await activities.admit_applications(batch(mission, first, later, third))  # a retry

    assert again == Admissions(admitted=2)
    applications, messages = await rows(session_factory)
    assert confirmed(messages) == Counter([first.application_id, third.application_id])
    assert tuple(map(len, (applications, messages))) == (2, 2)


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
    submissions = (with_slide, without, also_with_slide)

    for attempt in range(2):  # the first attempt, then a retry that changes nothing
        admissions = await activities.admit_applications(batch(mission, *submissions))

        assert admissions == Admissions(admitted=3), attempt
        async with session_factory() as session:
            attached = {
                s.id: s.application_id
                for s in (await session.exec(select(Slide).order_by(col(Slide.filename)))).all()
            }
            applications = (await session.exec(select(Application))).all()
        assert attached == {
            slides[0].id: with_slide.application_id,
            slides[1].id: also_with_slide.application_id,
        }, attempt
        missing = {a.id: a.missing for a in applications}
        complete = {a.id: a.complete for a in applications}
        assert SLIDE in missing[without.application_id]
        assert not complete[without.application_id]
        assert SLIDE not in missing[with_slide.application_id]
        assert SLIDE not in missing[also_with_slide.application_id]
        _, messages = await rows(session_factory)
        assert confirmed(messages) == Counter(s.application_id for s in submissions), attempt
