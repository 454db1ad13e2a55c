"""The console's report page over HTTP with real sign-ins, on both databases: when the report
comes before it exists, then every version with its figures and charts and the downloads of
each, which a viewer of the mission gets and a person of another mission does not."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from support import rehearsal
from test_console_pages import Browser, signed_in
from test_people_and_roles import member, person

from activities.report import ReportActivities
from missionflow.domain.instants import describe
from missionflow.domain.mission.file import load_mission
from missionflow.domain.reporting.messages import ReportingNotice
from missionflow.runtime.db import sessions
from missionflow.runtime.models import Application, Mission
from missionflow.runtime.report_render import CHART_COLOUR
from missionflow.runtime.settings import Settings

CONTENT_TYPES = {
    "report.html": "text/html; charset=utf-8",
    "report.pdf": "application/pdf",
    "report.csv": "text/csv; charset=utf-8",
    "report.json": "application/json",
    "report/article.md": "text/markdown; charset=utf-8",
}
DOWNLOAD = re.compile(r'href="(/missions/[^"/]+/(report[^"?]*)\?version=(\d+))"')


async def reporting_mission(
    engine: AsyncEngine, now: datetime, *, phase: str = "reporting", countries: str = ""
) -> Mission:
    """A mission's row with an application from each of `countries` and no workflow: the
    report is produced by the activity itself, as the workflow would at the feedback's close."""
    plan = load_mission(rehearsal(), now=now)
    row = Mission(
        id=plan.id,
        workflow_id=plan.workflow_id,
        title=plan.title,
        organiser=plan.organiser,
        timezone=plan.timezone,
        phase=phase,
        file=plan.model_dump(mode="json"),
    )
    async with sessions(engine)() as session:
        session.add(row)
        await session.flush()
        session.add_all(
            Application(
                mission_id=row.id,
                organisation=f"Cluster {n}",
                organisation_key=f"cluster {n}",
                organisation_type="cluster_organisation",
                country=country,
                city="Somewhere",
                contact_name=f"Contact {n}",
                contact_email=f"c{n}@example.org",
                email_key=f"c{n}@example.org",
                sectors=[plan.call.sectors[0]],
                answers={},
                consent=True,
                status="received",
                complete=True,
                missing=[],
                submitted_at=now,
                updated_at=now,
            )
            for n, country in enumerate(countries.split())
        )
        await session.commit()
        await session.refresh(row)
    return row


async def test_the_report_page_by_version_and_its_downloads(
    api: httpx.AsyncClient, browsers: Browser, engine: AsyncEngine, settings: Settings
) -> None:
    now = datetime.now(UTC)
    ours = await reporting_mission(engine, now, countries="DE FR DE")
    theirs = await reporting_mission(engine, now)
    ended = await reporting_mission(engine, now, phase="cancelled")
    await person(api, "vera@example.org", "Vera Viewer")
    await person(api, "oona@example.org", "Oona Outsider")
    await person(api, "rita@example.org", "Rita Reviewer")
    await member(api, ours.id, "vera@example.org", "viewer")
    await member(api, ours.id, "rita@example.org", "reviewer")
    await member(api, theirs.id, "oona@example.org", "owner")
    await member(api, ended.id, "vera@example.org", "viewer")
    path = f"/console/missions/{ours.id}/report"
    viewer, outsider, reviewer = browsers(), browsers(), browsers()
    await signed_in(viewer, "vera@example.org")
    await signed_in(outsider, "oona@example.org")
    await signed_in(reviewer, "rita@example.org")

    assert (await browsers().get(path)).headers["location"] == "/console/sign-in"
    assert (await reviewer.get(path)).status_code == 403
    hidden = await outsider.get(path)
    assert hidden.status_code == 404 and "No mission with id" in hidden.text

    before = await viewer.get(path)
    assert before.status_code == 200, before.text
    closes = load_mission(ours.file).feedback_closes_at
    assert f"when the feedback closes, {describe(closes, ours.timezone)}" in before.text
    assert 'aria-current="page">Report</a>' in before.text
    assert "<svg" not in before.text and 'id="versions"' not in before.text
    cancelled = await viewer.get(f"/console/missions/{ended.id}/report")
    assert "The mission was cancelled: no report will be produced." in cancelled.text

    activities = ReportActivities(engine, settings)
    for version in (1, 2):
        await activities.produce_report(
            ReportingNotice(
                mission_id=ours.id,
                at=now + timedelta(minutes=version),
                reason=f"reason number {version}",
                version=version,
            )
        )

    page = await viewer.get(path)
    assert page.status_code == 200, page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")
    assert "Post-event report, version 2, produced" in page.text, "the newest is shown"
    assert "<strong>3</strong><span>applications</span>" in page.text, "its figures"
    countries = page.text.split("<h3>Applications by country</h3>", 1)[1].split("</table>")[0]
    assert '<td>Germany</td><td class="n">2</td>' in countries
    assert '<td>France</td><td class="n">1</td>' in countries
    assert page.text.count("<svg") == 5 and CHART_COLOUR in page.text, "its five charts, inline"
    assert "reason number 1" in page.text and "reason number 2" in page.text, "every version"
    assert "<form" not in page.text.split("</header>", 1)[1], "nothing to steer on this page"
    first = await viewer.get(f"{path}?version=1")
    assert "Post-event report, version 1, produced" in first.text
    for wrong in ("3", "x", "0", "99999999999", "1" * 5000):
        missing = await viewer.get(f"{path}?version={wrong}")
        assert missing.status_code == 404, wrong
        assert missing.headers["content-type"].startswith("text/html")

    links = DOWNLOAD.findall(page.text)
    assert {(name, version) for _, name, version in links} == {
        (name, version) for name in CONTENT_TYPES for version in ("1", "2")
    }
    for url, name, _ in links:
        got = await viewer.get(url)
        assert got.status_code == 200, (url, got.text)
        assert got.headers["content-type"] == CONTENT_TYPES[name]
        refused = await outsider.get(url)
        assert refused.status_code == 404, url
        assert "mission" in refused.json()["detail"], "a mission not hers does not exist"
    figures = (await viewer.get(f"/missions/{ours.id}/report.json?version=1")).json()
    assert (figures["version"], figures["reason"]) == (1, "reason number 1")
    pdf = await viewer.get(f"/missions/{ours.id}/report.pdf?version=2")
    assert pdf.content.startswith(b"%PDF-")
    assert 'filename="' + ours.id + '-report-v2.pdf"' in pdf.headers["content-disposition"]
    absent = await viewer.get(f"/missions/{ours.id}/report.csv?version=3")
    assert absent.status_code == 404 and "has no version 3" in absent.json()["detail"]
    huge = await viewer.get(f"/missions/{ours.id}/report.csv?version=99999999999")
    assert huge.status_code == 422, "refused at the query, never sent to the database"
