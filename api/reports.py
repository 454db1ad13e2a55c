"""The stored versions of a mission's report, as the JSON routes (`api.routes.report`) serve
them and the console's report page (`api.console.report`) lists and shows them: one query for
both, so a page never shows a version a download would not give."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.runtime.models import Report


@dataclass(frozen=True)
class VersionLine:
    """A version as a list shows it, without its files."""

    version: int
    reason: str
    produced_at: datetime


async def stored_report(
    session: AsyncSession, mission_id: str, version: int | None = None
) -> Report | None:
    """The mission's report in one version, or its newest when `version` is None; None when
    there is no such version (yet)."""
    query = select(Report).where(Report.mission_id == mission_id)
    if version is None:
        query = query.order_by(col(Report.version).desc()).limit(1)
    else:
        query = query.where(Report.version == version)
    return (await session.exec(query)).first()


async def report_versions(session: AsyncSession, mission_id: str) -> list[VersionLine]:
    """Every version, the newest first; the files are not read, only what names a version."""
    rows = await session.exec(
        select(Report.version, Report.reason, Report.produced_at)
        .where(Report.mission_id == mission_id)
        .order_by(col(Report.version).desc())
    )
    return [VersionLine(*row) for row in rows.all()]
