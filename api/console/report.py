"""GET /console/missions/{id}/report: the post-event report as the coordinators were sent it,
every version it was produced in, and the downloads of each.

The page shows a version's stored page (`Report.html`, drawn by
`missionflow.runtime.report_render`: the figures, and the charts as inline SVG), so what is
read here is what was emailed and what `report.html` gives; nothing is drawn on the request.
The downloads are the JSON API's routes (`api.routes.report`, `?version=`), which take the
session cookie as they take a token: one set of files, one rule on who may read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.console.access import (
    PREFIX,
    ConsolePrincipal,
    mission_access,
    refusal,
    render,
    stored_mission,
)
from api.deps import SessionDep
from api.reports import VersionLine, report_versions, stored_report
from missionflow.domain.instants import describe
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.domain.people import Action
from missionflow.runtime.models import Mission

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)

DOWNLOADS = (
    ("report.html", "Page (HTML)"),
    ("report.pdf", "PDF"),
    ("report.csv", "Figures (CSV)"),
    ("report.json", "Figures (JSON)"),
    ("report/article.md", "Article draft (Markdown)"),
)
"""Every file `api.routes.report` serves, as the page names it."""


@dataclass(frozen=True)
class VersionRow:
    line: VersionLine
    produced: str
    """When, in the mission's zone (and UTC)."""
    downloads: list[tuple[str, str]]
    """(label, URL) of each file of this version."""


@router.get("/missions/{mission_id}/report", response_class=HTMLResponse)
async def report(
    mission_id: str, request: Request, principal: ConsolePrincipal, session: SessionDep
) -> HTMLResponse:
    await mission_access(request, principal, mission_id, (Action.READ,))
    row = await stored_mission(request, principal, session, mission_id)
    versions = [
        VersionRow(
            line,
            describe(line.produced_at, row.timezone),
            [(label, _download(mission_id, name, line.version)) for name, label in DOWNLOADS],
        )
        for line in await report_versions(session, mission_id)
    ]
    shown = await stored_report(session, mission_id, _wanted(request, principal))
    if versions and shown is None:
        raise refusal(
            request,
            principal,
            HTTPException(
                status.HTTP_404_NOT_FOUND,
                f"The report of mission {mission_id!r} has no version "
                f"{request.query_params['version']!r}.",
            ),
        )
    return render(
        request,
        "report.html",
        {
            "mission_id": mission_id,
            "here": "report",
            "mission": row,
            "versions": versions,
            "shown": shown.version if shown else None,
            "page": _body(shown.html) if shown else None,
            "coming": None if versions else _when_it_comes(row),
        },
        principal=principal,
    )


def _wanted(request: Request, principal: ConsolePrincipal) -> int | None:
    """The version `?version=` names, or None for the newest; one that is no number is a 404
    page, as a version that does not exist is."""
    text = request.query_params.get("version")
    if text is None:
        return None
    if not (text.isdecimal() and len(text) < 11 and 0 < int(text) < 2**31):
        raise refusal(
            request,
            principal,
            HTTPException(status.HTTP_404_NOT_FOUND, f"The report has no version {text!r}."),
        )
    return int(text)


def _download(mission_id: str, name: str, version: int) -> str:
    return f"/missions/{quote(mission_id, safe='')}/{name}?version={version}"


def _body(page: str) -> Markup:
    """What the report page shows (its `<body>`), to stand inside the console's page. The page
    was written by our own autoescaping template, its charts by matplotlib, which escapes the
    labels it writes: it is markup, not text to escape again."""
    start, end = page.find("<body>"), page.rfind("</body>")
    return Markup(page[start + len("<body>") : end] if start >= 0 and end > start else page)


def _when_it_comes(mission: Mission) -> str:
    if mission.phase == Phase.CANCELLED:
        return "The mission was cancelled: no report will be produced."
    plan = MissionFile.model_validate(mission.file)
    closes = describe(plan.feedback_closes_at, plan.timezone)
    return (
        f"No report yet. The first version is produced when the feedback closes, {closes}, "
        "and the coordinators are emailed it; answers that come later produce a new version."
    )
