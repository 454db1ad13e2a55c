"""The console's applications page: the mission's applications as a table, filtered and sorted
by a GET form, with the CSV of exactly the rows shown. The list is `api.application_list`'s, the
JSON route's own, so a reviewer sees here what the JSON gives them: only the applications
assigned to them, no contact data, only their own score. One application's page and the
reviewer's form are `api.console.application_page`'s."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from api.application_list import (
    ApplicationFilter,
    ListedApplication,
    Order,
    SortKey,
    csv_response,
    listed,
)
from api.applying import call_of
from api.console.access import PREFIX, ConsolePrincipal, mission_access, render, stored_mission
from api.console.application_page import router as one_application
from api.deps import SessionDep
from api.identity import Principal
from missionflow.domain.call.applications import ApplicationStatus
from missionflow.domain.people import Action

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)
router.include_router(one_application)

READERS = (Action.READ_APPLICATIONS, Action.REVIEW_ASSIGNED)
FIELDS = tuple(ApplicationFilter.model_fields)


class FilterRefused(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


async def _lines(
    request: Request, principal: Principal, session: SessionDep, mission_id: str
) -> tuple[frozenset[Action], ApplicationFilter, list[ListedApplication]]:
    """Who may read which applications, the filter the query string asks for, and its rows.

    Raises:
        FilterRefused: a filter value that is not one of its field's.
    """
    access = await mission_access(request, principal, mission_id, READERS)
    await stored_mission(request, principal, session, mission_id)
    sent = {name: request.query_params.get(name, "").strip() for name in FIELDS}
    try:
        chosen = ApplicationFilter.model_validate({k: v for k, v in sent.items() if v})
        return (
            access,
            chosen,
            await listed(session, mission_id, chosen, principal=principal, access=access),
        )
    except ValidationError as error:
        first = error.errors()[0]
        raise FilterRefused(
            str(first["loc"][0]), first["msg"].removeprefix("Value error, ")
        ) from None
    except RequestValidationError as error:
        first = error.errors()[0]
        raise FilterRefused(str(first["loc"][-1]), first["msg"]) from None


@router.get("/missions/{mission_id}/applications", response_class=HTMLResponse)
async def applications(
    mission_id: str, request: Request, principal: ConsolePrincipal, session: SessionDep
) -> HTMLResponse:
    try:
        access, chosen, lines = await _lines(request, principal, session, mission_id)
    except FilterRefused as refused:
        return await _refused(request, principal, session, mission_id, refused)
    return await _page(request, principal, session, mission_id, access, chosen, lines)


@router.get("/missions/{mission_id}/applications.csv", response_model=None)
async def applications_csv(
    mission_id: str, request: Request, principal: ConsolePrincipal, session: SessionDep
) -> Response:
    """The rows the page with the same query string shows, as the JSON route's CSV."""
    try:
        _, _, lines = await _lines(request, principal, session, mission_id)
    except FilterRefused as refused:
        return await _refused(request, principal, session, mission_id, refused)
    response = csv_response(mission_id, lines)
    response.headers["Cache-Control"] = "no-store"  # contact data, as the page
    return response


async def _refused(
    request: Request,
    principal: Principal,
    session: SessionDep,
    mission_id: str,
    refused: FilterRefused,
) -> HTMLResponse:
    """The page without rows, the refusal at its filter's field."""
    return await _page(
        request,
        principal,
        session,
        mission_id,
        frozenset(),
        ApplicationFilter(),
        [],
        errors={refused.field: str(refused)},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def _page(
    request: Request,
    principal: Principal,
    session: SessionDep,
    mission_id: str,
    access: frozenset[Action],
    chosen: ApplicationFilter,
    lines: list[ListedApplication],
    *,
    errors: Mapping[str, str] | None = None,
    status_code: int = status.HTTP_200_OK,
) -> HTMLResponse:
    row = await stored_mission(request, principal, session, mission_id)
    mission = await call_of(session, mission_id)
    values = {name: request.query_params.get(name, "").strip() for name in FIELDS}
    kept = {name: value for name, value in values.items() if value and not errors}
    base = f"{PREFIX}/missions/{mission_id}/applications"
    return render(
        request,
        "applications.html",
        {
            "mission_id": mission_id,
            "here": "applications",
            "mission": row,
            "sectors": mission.call.sectors,
            "statuses": [s.value for s in ApplicationStatus],
            "lines": lines,
            "contacts": Action.READ_APPLICATIONS in access,
            "values": values,
            "errors": errors or {},
            "chosen": chosen,
            "sorting": {key.value: _sorting(base, kept, chosen, key) for key in SortKey},
            "csv_url": f"{base}.csv" + (f"?{urlencode(kept)}" if kept else ""),
        },
        principal=principal,
        status_code=status_code,
    )


def _sorting(
    base: str, kept: Mapping[str, str], chosen: ApplicationFilter, key: SortKey
) -> tuple[str, str | None]:
    """The link that sorts by `key` (the other way round when already sorted by it), and the
    column's current order for aria-sort."""
    current = chosen.sort == key
    order = Order.DESC if current and chosen.order is Order.ASC else Order.ASC
    query = {**kept, "sort": key.value, "order": order.value}
    aria = ("ascending" if chosen.order is Order.ASC else "descending") if current else None
    return f"{base}?{urlencode(query)}", aria
