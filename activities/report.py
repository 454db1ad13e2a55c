"""The post-event report: read the mission's record, compute, render, keep, tell.

A version is produced once. The workflow names the version (the first when the feedback
closes, the next when late feedback or a follow-up survey arrives); a retried attempt finds the
row of its version and returns it, so no second row and no second email. The row and the
coordinators' emails are written in one transaction: both exist, or neither.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.applications import mission_file
from missionflow.domain.call.applications import ApplicationStatus, email_key
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.reporting import figures as report
from missionflow.domain.reporting.arrivals import ArrivalFacts
from missionflow.domain.reporting.article import article
from missionflow.domain.reporting.messages import ReportingNotice, ReportSummary
from missionflow.domain.reporting.report_csv import csv_document
from missionflow.runtime import meeting_ratings, press, schedule_runs
from missionflow.runtime.check_ins import arrivals
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.mail import context as mail
from missionflow.runtime.mail.outbox import Attachment
from missionflow.runtime.models import (
    Application,
    Feedback,
    FollowUpAnswer,
    Host,
    Meeting,
    Report,
    SelectionDecision,
    VisitRegistration,
)
from missionflow.runtime.participants import everyone
from missionflow.runtime.settings import Settings

HEARTBEAT_EVERY = 2.0
"""Seconds between heartbeats while the charts and the PDF are drawn (a few seconds of CPU)."""


class ReportActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="produce_report")
    async def produce_report(self, notice: ReportingNotice) -> ReportSummary:
        if notice.version < 1:
            raise ApplicationError("A report version counts from 1.", non_retryable=True)
        async with self._sessions() as session:
            if (done := await _version(session, notice)) is not None:
                return summary(done)
            mission = await mission_file(session, notice.mission_id, fresh=True)
            data = await read(session, mission, notice)
        figures = report.figures(data)
        async with rendering():
            # A version nobody is emailed may never be downloaded as PDF: printed on demand.
            page, pdf = await press.render(figures, pdf=notice.email)
        row = Report(
            mission_id=mission.id,
            version=notice.version,
            reason=(notice.reason or "report produced")[:200],
            produced_at=notice.at,
            figures=figures,
            html=page,
            csv=csv_document(figures),
            article=article(figures),
            pdf=pdf,
        )
        async with transaction(self._sessions) as session:
            if (done := await _version(session, notice)) is not None:
                return summary(done)  # another attempt finished first
            session.add(row)
            if notice.email:
                await self._tell(session, mission, row)
        return summary(row)

    async def _tell(self, session: AsyncSession, mission: MissionFile, row: Report) -> None:
        assert row.pdf is not None, "an emailed version is printed before it is told"
        name = f"{mission.id}-report-v{row.version}"
        attachments = [
            Attachment(filename=f"{name}.pdf", content_type="application/pdf", content=row.pdf),
            Attachment(
                filename=f"{name}-article.md",
                content_type="text/markdown",
                content=row.article.encode(),
            ),
        ]
        figures = row.figures
        base = f"{self._settings.base_url}/missions/{mission.id}/report"
        for coordinator in mission.coordinators:
            await mail.post(
                session,
                mission,
                self._settings,
                template="report_ready",
                recipient=str(coordinator.email),
                recipient_name=coordinator.name,
                context={
                    "version": row.version,
                    "reason": row.reason,
                    "produced_at": row.produced_at,
                    "final": figures["final"],
                    "delegates": figures["delegation"]["size"],
                    "meetings_held": figures["meetings"]["held"],
                    "feedback": figures["feedback"]["delegates"],
                    "testimonials": len(figures["testimonials"]),
                    "report_url": f"{base}.html",
                    "attachments": [a.filename for a in attachments],
                },
                key=f"report_ready:{row.version}:{email_key(str(coordinator.email))}",
                attachments=attachments,
                language=mail.coordinators_language(mission),
            )


def summary(row: Report) -> ReportSummary:
    figures = row.figures
    return ReportSummary(
        version=row.version,
        delegates=figures["delegation"]["size"],
        feedback_responses=figures["feedback"]["responses"],
        testimonials_published=len(figures["testimonials"]),
    )


async def _version(session: AsyncSession, notice: ReportingNotice) -> Report | None:
    return (
        await session.exec(
            select(Report)
            .where(Report.mission_id == notice.mission_id)
            .where(Report.version == notice.version)
        )
    ).first()


async def read(
    session: AsyncSession, mission: MissionFile, notice: ReportingNotice
) -> report.ReportInput:
    """The mission's raw record, as the pure report functions take it."""
    applications = (
        await session.exec(
            select(Application, SelectionDecision)
            .join(
                SelectionDecision,
                col(SelectionDecision.application_id) == Application.id,
                isouter=True,
            )
            .where(Application.mission_id == mission.id)
            .order_by(col(Application.submitted_at), col(Application.id))
        )
    ).all()
    hosts = {
        h.id: h for h in (await session.exec(select(Host).where(Host.mission_id == mission.id)))
    }
    facts = [
        report.ApplicationFacts(
            id=a.id,
            organisation=a.organisation,
            organisation_type=a.organisation_type,
            country=a.country,
            sector=a.sectors[0] if a.sectors else "",
            withdrawn=a.status == ApplicationStatus.WITHDRAWN,
            complete=a.complete,
            decision=d.decision if d else None,
            seat=d.seat if d else None,
        )
        for a, d in applications
    ]
    by_id = {a.id: a for a in facts}
    meetings = await session.exec(select(Meeting).where(Meeting.mission_id == mission.id))
    registrations = await session.exec(
        select(VisitRegistration).where(VisitRegistration.mission_id == mission.id)
    )
    feedback = await session.exec(
        select(Feedback)
        .where(Feedback.mission_id == mission.id)
        .order_by(col(Feedback.submitted_at), col(Feedback.id))
    )
    follow_ups = await session.exec(
        select(FollowUpAnswer).where(FollowUpAnswer.mission_id == mission.id)
    )
    return report.ReportInput(
        mission_id=mission.id,
        title=mission.title,
        organiser=mission.organiser,
        destination=mission.destination,
        timezone=mission.timezone,
        version=notice.version,
        reason=notice.reason,
        produced_at=notice.at,
        final=notice.final,
        applications=facts,
        hosts=len(hosts),
        meetings=[
            report.MeetingFacts(m.status, m.starts_at is not None, m.attendance) for m in meetings
        ],
        schedule=schedule_runs.facts(await schedule_runs.latest(session, mission.id)),
        visits=[
            report.VisitFacts(
                v.id, v.city, v.host, v.timezone, v.starts_at, v.capacity, v.cancelled
            )
            for v in mission.visits
        ],
        registrations=[
            report.RegistrationFacts(r.visit_id, r.application_id, r.status, r.attendance)
            for r in registrations
        ],
        feedback=[_feedback(f, by_id, hosts) for f in feedback],
        follow_ups=[
            report.FollowUpFacts(
                f.application_id,
                f.survey,
                f.agreements,
                f.distribution_deals,
                f.mous,
                f.revisits,
                f.expected_revenue_eur,
            )
            for f in follow_ups
        ],
        surveys=len(mission.reporting.follow_up),
        expected=[ArrivalFacts(p.id, p.kind) for p in await everyone(session, mission.id)],
        arrivals=[
            ArrivalFacts(a.participant_id, a.side) for a in await arrivals(session, mission.id)
        ],
        meeting_ratings=await meeting_ratings.facts(session, mission.id),
    )


def _feedback(
    row: Feedback,
    applications: dict[uuid.UUID, report.ApplicationFacts],
    hosts: dict[uuid.UUID, Host],
) -> report.FeedbackFacts:
    """A feedback row signed with its author's organisation, as a testimonial is shown."""
    author = applications.get(row.respondent_id) or hosts.get(row.respondent_id)
    if isinstance(author, Host):
        name, country = author.name, author.country
    elif author is not None:
        name, country = author.organisation, author.country
    else:
        name, country = "A participant", ""
    return report.FeedbackFacts(
        respondent_kind=row.respondent_kind,
        respondent_id=row.respondent_id,
        respondent_name=name,
        country=country,
        ratings={
            "matchmaking": row.rating_matchmaking,
            "visits": row.rating_visits,
            "organisation": row.rating_organisation,
        },
        met_partners=row.met_partners,
        testimonial=row.testimonial,
        consent_to_publish=row.consent_to_publish,
        late=row.late,
    )


@contextlib.asynccontextmanager
async def rendering() -> AsyncIterator[None]:
    """Heartbeats while the printing process renders, so a dead worker is noticed and a slow
    render is not."""
    if not activity.in_activity():
        yield
        return

    async def beat() -> None:
        while True:
            activity.heartbeat("rendering")
            await asyncio.sleep(HEARTBEAT_EVERY)

    ticker = asyncio.create_task(beat())
    try:
        yield
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
