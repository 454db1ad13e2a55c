"""GET /missions/{id}/report.{html,pdf,csv,json} and the article: coordinators only, 404 in
words before the first version, the newest version after."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from support import rehearsal

from activities.report import ReportActivities
from missionflow.domain.mission.file import load_mission
from missionflow.domain.reporting.messages import ReportingNotice
from missionflow.runtime.db import sessions
from missionflow.runtime.models import Mission, Report
from missionflow.runtime.settings import Settings

FORMATS = {
    "report.html": "text/html; charset=utf-8",
    "report.pdf": "application/pdf",
    "report.csv": "text/csv; charset=utf-8",
    "report.json": "application/json",
    "report/article.md": "text/markdown; charset=utf-8",
}


async def test_the_report_in_every_format(
    api: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    now = datetime.now(UTC)
    mission = load_mission(rehearsal(), now=now)
    async with sessions(engine)() as session:
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
        await session.commit()
    path = f"/missions/{mission.id}"

    for name in FORMATS:
        assert (await api.get(f"{path}/{name}", headers={"Authorization": ""})).status_code == 401
        wrong = {"Authorization": "Bearer not-the-token"}
        assert (await api.get(f"{path}/{name}", headers=wrong)).status_code == 403
        unknown = await api.get(f"/missions/no-such-mission/{name}")
        assert unknown.status_code == 404 and "no-such-mission" in unknown.json()["detail"]
        before = await api.get(f"{path}/{name}")
        assert before.status_code == 404
        assert before.json()["detail"].startswith("No report has been produced for mission")

    activities = ReportActivities(engine, settings)
    for version in (1, 2):  # nobody is emailed: the PDF is printed at the first download
        await activities.produce_report(
            ReportingNotice(
                mission_id=mission.id,
                at=now + timedelta(minutes=version),
                reason=f"version {version}",
                version=version,
            )
        )

    async with sessions(engine)() as session:
        stored = (await session.exec(select(Report))).all()
    assert len(stored) == 2 and all(row.pdf is None for row in stored)
    answers = {name: await api.get(f"{path}/{name}") for name in FORMATS}
    for name, content_type in FORMATS.items():
        assert answers[name].status_code == 200, answers[name].text
        assert answers[name].headers["content-type"] == content_type
    assert answers["report.json"].json()["version"] == 2
    assert answers["report.json"].json()["reason"] == "version 2"
    assert f"<h1>{mission.title}</h1>" in answers["report.html"].text
    assert "version 2" in answers["report.html"].text
    assert answers["report.pdf"].content.startswith(b"%PDF-")
    assert (
        f'filename="{mission.id}-report-v2.pdf"'
        in answers["report.pdf"].headers["content-disposition"]
    )
    async with sessions(engine)() as session:
        printed = {row.version: row.pdf for row in (await session.exec(select(Report))).all()}
    assert printed == {1: None, 2: answers["report.pdf"].content}  # kept for the next download
    again = await api.get(f"{path}/report.pdf")
    assert again.content == answers["report.pdf"].content
    table = list(csv.DictReader(io.StringIO(answers["report.csv"].content.decode("utf-8-sig"))))
    assert {"table": "applications", "measure": "received", "value": "0"}.items() <= table[
        0
    ].items()
    assert answers["report/article.md"].text.startswith(f"# {mission.title}: the results")
