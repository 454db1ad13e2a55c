"""The end of a mission's retention period (`privacy.retain_for`): everyone's personal data
erased (`runtime.erasure.erase_mission`) and every version of the report reduced to counts.

The report's pages are drawn again before anything is written (seconds of CPU each, with
heartbeats), then the erasure and the new pages are written in one transaction: a failed
attempt leaves everything as it was, and a retried one finds the work done and does nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from temporalio import activity

from activities.applications import mission_file
from activities.report import rendering
from missionflow.domain.erasure import report_without_people
from missionflow.domain.mission.messages import ErasureSummary, RetentionNotice
from missionflow.domain.reporting.article import article
from missionflow.domain.reporting.report_csv import csv_document
from missionflow.runtime import audit, press
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.erasure import erase_mission
from missionflow.runtime.models import Report


class PrivacyActivities:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = sessions(engine)

    @activity.defn(name="erase_personal_data")
    async def erase_personal_data(self, notice: RetentionNotice) -> ErasureSummary:
        async with self._sessions() as session:
            mission = await mission_file(session, notice.mission_id)
            reports = (
                await session.exec(select(Report).where(Report.mission_id == notice.mission_id))
            ).all()
        rewritten: dict[uuid.UUID, tuple[dict[str, Any], str]] = {}
        async with rendering():
            for row in reports:
                if "personal_data_erased_at" in row.figures:
                    continue  # reduced by an earlier attempt
                figures = report_without_people(row.figures, notice.at, mission.timezone)
                page, _ = await press.render(figures, pdf=False)
                rewritten[row.id] = (figures, page)
        async with transaction(self._sessions) as session:
            erased = await erase_mission(session, notice.mission_id, by=audit.RETENTION)
            for report_id, (figures, page) in rewritten.items():
                row = await session.get(Report, report_id)
                assert row is not None, "report versions are never deleted"
                row.figures, row.html, row.pdf = figures, page, None  # printed again on demand
                row.csv, row.article = csv_document(figures), article(figures)
                session.add(row)
        return ErasureSummary(erased=dict(erased or {}), reports_rewritten=len(rewritten))
