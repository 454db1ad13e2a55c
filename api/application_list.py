"""A mission's applications as coordinators and reviewers list them: filtered, sorted, with the
selection's proposal and the reviewers' mean score. One function draws the list for the JSON
route, its CSV (`GET /missions/{id}/applications`) and the console's table, so the CSV a page
links to holds exactly the rows the page shows."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from fastapi import Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.applying import call_of
from api.identity import Principal
from api.reviews import assigned_to, without_contact
from api.schemas import NO_NUL, ApplicationView
from missionflow.domain.call.applications import ApplicationStatus, Country, canonical_sectors
from missionflow.domain.people import Action
from missionflow.runtime.models import Application, SelectionDecision, Slide
from missionflow.runtime.review_scores import NONE, summaries


class SortKey(StrEnum):
    ORGANISATION = "organisation"
    COUNTRY = "country"
    STATUS = "status"
    SUBMITTED = "submitted"
    SCORE = "score"


class Order(StrEnum):
    ASC = "asc"
    DESC = "desc"


class ApplicationFilter(BaseModel):
    """Which applications to list, and in what order."""

    status: ApplicationStatus | None = None
    country: Country | None = Field(default=None, description="ISO 3166 code, e.g. DE.")
    sector: str | None = Field(
        default=None, max_length=200, pattern=NO_NUL, description="One of the call's sectors."
    )
    complete: bool | None = None
    sort: SortKey = Field(
        default=SortKey.SUBMITTED,
        description="score: the reviewers' mean; applications not scored come last.",
    )
    order: Order = Order.ASC


class ListedApplication(ApplicationView):
    review_score: float | None = Field(
        default=None,
        description="The mean of the reviewers' scores (1 to 5); for a reviewer, their own.",
    )
    reviews: int = Field(
        default=0, description="How many reviewers scored it (for a reviewer: theirs, 0 or 1)."
    )


async def listed(
    session: AsyncSession,
    mission_id: str,
    chosen: ApplicationFilter,
    *,
    principal: Principal,
    access: frozenset[Action],
) -> list[ListedApplication]:
    """The applications `chosen` names; for a reviewer (who may not read them all) only those
    assigned to them, without contact data, with their own score only.

    Raises:
        RequestValidationError: a sector that is not one of the call's, at ("query", "sector").
    """
    mission = await call_of(session, mission_id)
    sector = None
    if chosen.sector is not None:
        spelled = canonical_sectors(mission, [chosen.sector])
        if not spelled:
            raise RequestValidationError(
                [
                    {
                        "loc": ("query", "sector"),
                        "msg": f"{chosen.sector!r} is not a sector of this call; choose from: "
                        + ", ".join(mission.call.sectors),
                        "type": "value_error",
                    }
                ]
            )
        sector = spelled[0]
    query = select(Application).where(Application.mission_id == mission_id)
    if chosen.status is not None:
        query = query.where(Application.status == chosen.status.value)
    if chosen.complete is not None:
        query = query.where(Application.complete == chosen.complete)
    if chosen.country is not None:
        query = query.where(Application.country == chosen.country)
    reviewer = Action.READ_APPLICATIONS not in access
    if reviewer:
        query = query.where(col(Application.id).in_(assigned_to(principal)))
    rows = (await session.exec(query.order_by(col(Application.submitted_at)))).all()
    if sector is not None:  # a JSON list: filtered here, the same on SQLite and PostgreSQL
        rows = [row for row in rows if sector in row.sectors]
    scores = await summaries(session, mission_id, by=principal.person_id if reviewer else None)
    lines = []
    for view in await views(session, list(rows), disclosed=True):
        summary = scores.get(view.id, NONE)
        line = ListedApplication(
            **view.model_dump(), review_score=summary.mean, reviews=summary.count
        )
        lines.append(without_contact(line) if reviewer else line)
    return _sorted(lines, chosen.sort, chosen.order)


_KEYS: dict[SortKey, Callable[[ListedApplication], Any]] = {
    SortKey.ORGANISATION: lambda a: a.organisation.casefold(),
    SortKey.COUNTRY: lambda a: a.country,
    SortKey.STATUS: lambda a: a.status.value,
    SortKey.SUBMITTED: lambda a: a.submitted_at,
    SortKey.SCORE: lambda a: a.review_score,
}


def _sorted(lines: list[ListedApplication], key: SortKey, order: Order) -> list[ListedApplication]:
    """Sorted by `key`, ties in the order of submission; those without a value (no score yet)
    last either way."""
    value = _KEYS[key]
    known = [line for line in lines if value(line) is not None]
    unknown = [line for line in lines if value(line) is None]
    return sorted(known, key=value, reverse=order is Order.DESC) + unknown


CSV_COLUMNS = (
    "id", "status", "complete", "missing", "organisation", "organisation_type", "country", "city",
    "website", "contact_name", "contact_email", "sectors", "submitted_at", "has_slide",
    "score", "decision", "waitlist_position", "seat", "review_score", "reviews",
)  # fmt: skip


def csv_response(mission_id: str, lines: list[ListedApplication]) -> Response:
    """The list as a spreadsheet: the same rows as the JSON, one line each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        data = line.model_dump(mode="json")
        writer.writerow(
            "; ".join(data[c]) if isinstance(data[c], list) else data[c] for c in CSV_COLUMNS
        )
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{mission_id}-applications.csv"'},
    )


async def views(
    session: AsyncSession, rows: list[Application], *, disclosed: bool
) -> list[ApplicationView]:
    """Views with slide and selection. The proposal is the coordinators' to see: an applicant
    sees the decision only once the delegation is approved."""
    ids = [row.id for row in rows]
    slides = await _slide_ids(session, ids)
    decisions = {
        d.application_id: d
        for d in (
            await session.exec(
                select(SelectionDecision).where(col(SelectionDecision.application_id).in_(ids))
            )
        ).all()
    }
    return [
        _view(row, row.id in slides, decisions.get(row.id) if disclosed else None) for row in rows
    ]


async def _slide_ids(session: AsyncSession, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    query = select(Slide.application_id).where(col(Slide.application_id).in_(ids))
    return {value for value in (await session.exec(query)).all() if value is not None}


def _view(row: Application, has_slide: bool, decision: SelectionDecision | None) -> ApplicationView:
    selection = (
        {
            "decision": decision.decision,
            "score": decision.score,
            "waitlist_position": decision.waitlist_position,
            "seat": decision.seat,
            "respond_by": decision.respond_by,
        }
        if decision is not None
        else {}
    )
    return ApplicationView.model_validate({**row.model_dump(), "has_slide": has_slide, **selection})
