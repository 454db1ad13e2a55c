"""produce_report against SQLite and PostgreSQL: the report row of a version written once, the
coordinators emailed once with the PDF and the article, whatever the retries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from support import rehearsal
from temporalio.testing import ActivityEnvironment

from activities.applications import mission_file
from activities.report import ReportActivities
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.reporting.messages import ReportingNotice
from missionflow.runtime.models import (
    Application,
    Feedback,
    FollowUpAnswer,
    Host,
    Meeting,
    Mission,
    OutboxMessage,
    Report,
    ScheduleRun,
    SelectionDecision,
    VisitRegistration,
)
from missionflow.runtime.settings import Settings

NOW = datetime.now(UTC).replace(microsecond=0)
SECRET = "Please do not publish: the hotel was awful"


def _application(mission: MissionFile, n: int, country: str, seat: str | None) -> Application:
    return Application(
        mission_id=mission.id,
        organisation=f"Cluster {n}",
        organisation_key=f"cluster {n}",
        organisation_type="cluster_organisation" if n % 2 else "sme",
        country=country,
        city="Somewhere",
        contact_name=f"Contact {n}",
        contact_email=f"c{n}@example.org",
        email_key=f"c{n}@example.org",
        sectors=[mission.call.sectors[n % 2]],
        answers={},
        consent=True,
        status="received",
        complete=n != 3,
        missing=[],
        submitted_at=NOW + timedelta(seconds=n),
        updated_at=NOW,
    )


@pytest.fixture
async def mission(session_factory: async_sessionmaker[AsyncSession]) -> MissionFile:
    document = rehearsal()
    document["coordinators"].append({"name": "Second Coordinator", "email": "two@example.org"})
    mission = load_mission(document, now=NOW)
    seats = [("DE", "confirmed"), ("FR", "confirmed"), ("IT", "confirmed"), ("DE", None)]
    async with session_factory() as session:
        session.add(
            Mission(
                id=mission.id,
                workflow_id=mission.workflow_id,
                title=mission.title,
                organiser=mission.organiser,
                timezone=mission.timezone,
                phase="reporting",
                file=mission.model_dump(mode="json"),
            )
        )
        await session.flush()
        applications = [
            _application(mission, n, country, seat) for n, (country, seat) in enumerate(seats)
        ]
        session.add_all(applications)
        host = Host(
            mission_id=mission.id,
            name="Host Labs",
            name_key="host labs",
            country="US",
            sector="Advanced materials",
            contact_name="Hal",
            contact_email="hal@example.com",
            unavailable=[],
            added_at=NOW,
        )
        session.add(host)
        await session.flush()
        for n, (application, (_, seat)) in enumerate(zip(applications, seats, strict=True)):
            session.add(
                SelectionDecision(
                    application_id=application.id,
                    mission_id=mission.id,
                    score=1 - n / 10,
                    breakdown={},
                    rank=n + 1,
                    proposed="selected" if seat else "not_selected",
                    decision="selected" if seat else "not_selected",
                    reasons=[],
                    seat=seat,
                    updated_at=NOW,
                )
            )
        for n, (status, held) in enumerate(
            [("accepted", "held"), ("accepted", "no_show"), ("declined", None)]
        ):
            session.add(
                Meeting(
                    mission_id=mission.id,
                    pair_key=f"pair-{n}",
                    requester_id=applications[n].id,
                    requester_kind="delegate",
                    invitee_id=host.id,
                    invitee_kind="host",
                    priority=2,
                    status=status,
                    requested_at=NOW,
                    starts_at=NOW + timedelta(hours=1) if status == "accepted" else None,
                    attendance=held,
                )
            )
        for version, breaks in ((1, 4), (2, 3)):  # the report shows the latest
            session.add(
                ScheduleRun(
                    mission_id=mission.id,
                    version=version,
                    requested=2,
                    scheduled=2,
                    upper_bound=2,
                    value=4,
                    value_bound=4,
                    breaks=breaks,
                    breaks_bound=3,
                    idle_slots=breaks,
                    break_difference=1,
                    max_break_difference=2,
                    method="exact",
                    solve_seconds=0.5,
                    created_at=NOW,
                )
            )
        for application, attendance in zip(applications[:2], ("attended", "no_show"), strict=True):
            session.add(
                VisitRegistration(
                    mission_id=mission.id,
                    visit_id=mission.visits[0].id,
                    application_id=application.id,
                    status="registered",
                    registered_at=NOW,
                    updated_at=NOW,
                    attendance=attendance,
                )
            )
        session.add_all(
            [
                _feedback(mission, applications[0].id, 5, "Exactly the partners we needed.", True),
                _feedback(mission, applications[1].id, 2, SECRET, False),
                _feedback(mission, host.id, 4, None, True, kind="host"),
            ]
        )
        session.add(
            FollowUpAnswer(
                mission_id=mission.id,
                application_id=applications[0].id,
                survey=1,
                agreements=2,
                submitted_at=NOW,
                updated_at=NOW,
            )
        )
        await session.commit()
    return mission


def _feedback(
    mission: MissionFile,
    respondent: uuid.UUID,
    score: int,
    testimonial: str | None,
    consent: bool,
    *,
    kind: str = "delegate",
    late: bool = False,
) -> Feedback:
    return Feedback(
        mission_id=mission.id,
        respondent_kind=kind,
        respondent_id=respondent,
        rating_matchmaking=score,
        rating_visits=score,
        rating_organisation=None,
        met_partners=True,
        testimonial=testimonial,
        consent_to_publish=consent,
        late=late,
        submitted_at=NOW,
        updated_at=NOW,
    )


def notice(mission: MissionFile, version: int, **changes: Any) -> ReportingNotice:
    fields: dict[str, Any] = {
        "mission_id": mission.id,
        "at": NOW + timedelta(minutes=version),
        "reason": "the feedback closed" if version == 1 else "late feedback arrived",
        "version": version,
        "email": True,
    }
    return ReportingNotice(**(fields | changes))


async def _rows(factory: async_sessionmaker[AsyncSession]) -> tuple[list[Report], list[Any]]:
    async with factory() as session:
        reports = (await session.exec(select(Report).order_by(Report.version))).all()
        emails = (await session.exec(select(OutboxMessage))).all()
    return list(reports), list(emails)


async def test_a_report_is_written_once_and_sent_with_the_pdf(
    engine: AsyncEngine, settings: Settings, mission: MissionFile, session_factory
) -> None:
    activities = ReportActivities(engine, settings)
    environment = ActivityEnvironment()
    beats: list[Any] = []
    environment.on_heartbeat = lambda *details: beats.append(details)

    summary = await environment.run(activities.produce_report, notice(mission, 1))

    assert (summary.version, summary.delegates) == (1, 3)
    assert (summary.feedback_responses, summary.testimonials_published) == (3, 1)
    assert beats, "the activity heartbeats while it renders"
    (row,), emails = await _rows(session_factory)
    assert row.reason == "the feedback closed" and row.produced_at == NOW + timedelta(minutes=1)
    figures = row.figures
    assert figures["applications"]["received"] == 4
    assert [r["key"] for r in figures["applications"]["by_country"]] == ["DE", "FR", "IT"]
    assert figures["selection"]["confirmation_rate"]["rate"] == 1.0
    assert (figures["meetings"]["requested"], figures["meetings"]["held"]) == (3, 1)
    assert figures["visits"]["by_visit"][0]["attended"] == 1
    schedule = figures["schedule"]
    assert (schedule["version"], schedule["breaks"], schedule["breaks_optimality"]) == (
        2,
        3,
        "proven optimal",
    )
    assert "2 of 2, proven optimal" in row.html and "3 of at least 3: proven optimal" in row.html
    assert figures["feedback"]["delegates"]["count"] == 2
    assert figures["follow_up"]["latest"]["agreements"] == 2
    assert [t["by"] for t in figures["testimonials"]] == ["Cluster 0"]
    assert row.pdf is not None and row.pdf.startswith(b"%PDF-")  # printed for the email
    assert row.html.startswith("<!DOCTYPE html>")
    assert row.csv.startswith("table,key,") and row.article.startswith(f"# {mission.title}")
    for text in (row.html, row.csv, row.article, str(figures)):
        assert SECRET not in text

    assert sorted(e.recipient for e in emails) == ["coordinator@example.org", "two@example.org"]
    assert all(
        e.template == "report_ready" and ":report_ready:1:" in e.idempotency_key for e in emails
    )
    message = message_from_bytes(emails[0].content or b"", policy=policy.default)
    assert isinstance(message, EmailMessage)
    files = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(files) == {f"{mission.id}-report-v1.pdf", f"{mission.id}-report-v1-article.md"}
    pdf = files[f"{mission.id}-report-v1.pdf"]
    assert pdf.get_content_type() == "application/pdf"
    assert pdf.get_content() == row.pdf
    article = files[f"{mission.id}-report-v1-article.md"].get_content()
    assert article.replace("\r\n", "\n") == row.article  # SMTP sends text with CRLF

    retried = await activities.produce_report(notice(mission, 1))

    assert retried == summary
    reports, again = await _rows(session_factory)
    assert [r.id for r in reports] == [row.id] and len(again) == 2


async def test_late_feedback_makes_a_new_version_and_keeps_the_old(
    engine: AsyncEngine, settings: Settings, mission: MissionFile, session_factory
) -> None:
    activities = ReportActivities(engine, settings)
    await activities.produce_report(notice(mission, 1, email=False))
    async with session_factory() as session:
        third = (await session.exec(select(Application).where(Application.country == "IT"))).one()
        session.add(_feedback(mission, third.id, 4, "Late, but glad we came.", True, late=True))
        await session.commit()

    summary = await activities.produce_report(notice(mission, 2))

    assert (summary.version, summary.feedback_responses, summary.testimonials_published) == (
        2,
        4,
        2,
    )
    reports, emails = await _rows(session_factory)
    assert [r.version for r in reports] == [1, 2]
    assert reports[0].figures["feedback"]["late"] == 0
    assert reports[1].figures["feedback"]["late"] == 1
    assert "Late, but glad we came." in reports[1].article
    assert len(emails) == 2 and all(":report_ready:2:" in e.idempotency_key for e in emails)


async def test_the_report_shows_the_visits_as_changed_after_the_file_was_read(
    engine: AsyncEngine, settings: Settings, mission: MissionFile, session_factory
) -> None:
    """A worker reads a mission's file once; a coordinator's change to a visit later rewrites
    the stored file, and the report must show the visit as it now stands."""
    async with session_factory() as session:
        await mission_file(session, mission.id)  # cached by this process, as a worker would
        stored = await session.get(Mission, mission.id)
        assert stored is not None
        visits = [dict(v) for v in stored.file["visits"]]
        visits[1]["cancelled"] = True
        stored.file = {**stored.file, "visits": visits}
        session.add(stored)
        await session.commit()

    await ReportActivities(engine, settings).produce_report(notice(mission, 1))

    (row,), _ = await _rows(session_factory)
    assert [v["cancelled"] for v in row.figures["visits"]["by_visit"]] == [False, True]
