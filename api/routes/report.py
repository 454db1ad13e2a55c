"""GET /missions/{id}/report.{html,pdf,csv,json}: the newest version of the post-event report
(or the one `?version=` names), and the article draft that comes with it.

Every format is read from the stored `Report` row as produced, so what is downloaded is exactly
what the coordinators were emailed; nothing is rendered on the request path but the PDF of a
version nobody was emailed, printed once, on first download, out of the API's process.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.deps import Coordinator, MissionRow, SessionDep
from api.reports import stored_report
from missionflow.runtime import press
from missionflow.runtime.models import Report

router = APIRouter(prefix="/missions/{mission_id}", tags=["report"], dependencies=[Coordinator])


VersionQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=2**31 - 1,  # the column's largest integer: a larger one is a 422, not a database error
        description="A version the report was produced in; the newest when absent.",
    ),
]


async def _version(session: SessionDep, mission: MissionRow, version: int | None) -> Report:
    row = await stored_report(session, mission.id, version)
    if row is not None:
        return row
    if version is not None:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            f"The report of mission {mission.id!r} has no version {version}.",
        )
    raise HTTPException(
        status.HTTP_404_NOT_FOUND,
        f"No report has been produced for mission {mission.id!r} yet: the first version is "
        "produced when the feedback closes.",
    )


def _download(row: Report, suffix: str) -> dict[str, str]:
    name = f"{row.mission_id}-report-v{row.version}{suffix}"
    return {"Content-Disposition": f'inline; filename="{name}"'}


@router.get("/report.html", response_class=HTMLResponse, summary="The report as a page")
async def report_html(
    session: SessionDep, mission: MissionRow, version: VersionQuery = None
) -> HTMLResponse:
    return HTMLResponse((await _version(session, mission, version)).html)


@router.get(
    "/report.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
    summary="The report as PDF (A4), printed from the page",
)
async def report_pdf(
    session: SessionDep, mission: MissionRow, version: VersionQuery = None
) -> Response:
    row = await _version(session, mission, version)
    if row.pdf is None:  # a version nobody was emailed: printed now, once
        row.pdf = await press.print_pdf(row.html)
        session.add(row)
        await session.commit()
    return Response(row.pdf, media_type="application/pdf", headers=_download(row, ".pdf"))


@router.get(
    "/report.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    summary="The report's figures as one long CSV table, one figure a line",
)
async def report_csv(
    session: SessionDep, mission: MissionRow, version: VersionQuery = None
) -> Response:
    row = await _version(session, mission, version)
    # The byte-order mark makes spreadsheet programs read the file as UTF-8.
    return Response(
        ("\ufeff" + row.csv).encode(),
        media_type="text/csv; charset=utf-8",
        headers=_download(row, ".csv"),
    )


@router.get("/report.json", summary="The report's figures")
async def report_json(
    session: SessionDep, mission: MissionRow, version: VersionQuery = None
) -> JSONResponse:
    return JSONResponse((await _version(session, mission, version)).figures)


@router.get(
    "/report/article.md",
    response_class=Response,
    responses={200: {"content": {"text/markdown": {}}}},
    summary="The article draft in Markdown: title, lead, key figures, two testimonials",
)
async def report_article(
    session: SessionDep, mission: MissionRow, version: VersionQuery = None
) -> Response:
    row = await _version(session, mission, version)
    return Response(
        row.article,
        media_type="text/markdown; charset=utf-8",
        headers=_download(row, "-article.md"),
    )
