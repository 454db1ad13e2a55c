"""Applying to a mission's call over JSON, and the applicant's private link: read, amend,
withdraw, answer the seat offered, download the slide.

What an application is checked against and how it reaches the mission is `api.applying`'s,
shared with the HTML form.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.application_list import ApplicationFilter, csv_response, listed, views
from api.applying import (
    call_of,
    checked_slide,
    read_body,
    safe_name,
    stage_slide,
    take_application,
    unstage,
)
from api.deps import (
    ApplicationsAccess,
    IntakeDep,
    PrincipalDep,
    PrivateLinkDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    is_coordinator,
)
from api.erasing import withdraw_then_erase
from api.errors import body_errors
from api.missions import (
    amend_application,
    answer_seat,
    withdraw_application,
)
from api.reviews import reviewing, selection_approved, without_contact
from api.routes.audit import actor
from api.schemas import ApplicationCreated, ApplicationView, SeatView
from missionflow.domain.call.applications import (
    ApplicationAmendment,
    canonical_sectors,
    form_errors,
)
from missionflow.domain.call.messages import ApplicationChange, ApplicationWithdrawal
from missionflow.domain.erasure import ErasureReason
from missionflow.domain.selection.messages import SeatAnswer
from missionflow.runtime.models import Application, Slide

router = APIRouter(prefix="/missions/{mission_id}/applications", tags=["applications"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationCreated,
    summary="Apply (JSON, or multipart/form-data with the slide)",
    responses={
        200: {
            "description": "The same applicant applied before, or the same Idempotency-Key was "
            "sent: the same application"
        },
        409: {"description": "The call is not open"},
        413: {"description": "The slide is larger than 10 MB"},
        415: {"description": "The slide is not a PDF or PPTX"},
        503: {"description": "Too busy or a dependency is down: try again after Retry-After"},
    },
)
async def apply(
    mission_id: str,
    request: Request,
    session: SessionDep,
    intake: IntakeDep,
    settings: SettingsDep,
    client: TemporalDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=200,
            description="Any text the client picks for this submission: sending it again "
            "(a retry after a lost answer) returns the same application.",
        ),
    ] = None,
) -> JSONResponse:
    fields, slide = await read_body(request)
    created, body = await take_application(
        session, intake, settings, client, mission_id, fields, slide, idempotency_key
    )
    return JSONResponse(
        body.model_dump(mode="json"), status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )


@router.get(
    "",
    summary="Every application, with status, contact and reviewers' mean score (reviewers: "
    "theirs); Accept: text/csv for a spreadsheet",
)
async def list_applications(
    mission_id: str,
    session: SessionDep,
    access: ApplicationsAccess,
    principal: PrincipalDep,
    chosen: Annotated[ApplicationFilter, Query()],
    accept: Annotated[str | None, Header()] = None,
) -> Response:
    lines = await listed(session, mission_id, chosen, principal=principal, access=access)
    if accept and "text/csv" in accept:
        return csv_response(mission_id, lines)
    return JSONResponse([line.model_dump(mode="json") for line in lines])


async def permitted(
    mission_id: str,
    application_id: str,
    session: SessionDep,
    link: PrivateLinkDep,
    request: Request,
) -> Application:
    """The application, for its applicant's token or a coordinator; 404 for anyone else (and
    for the link of an erased applicant), so a link tells nothing about whether it exists."""
    try:
        identifier = uuid.UUID(application_id)
    except ValueError:
        identifier = None
    row = await session.get(Application, identifier) if identifier else None
    # An erased person's link opens nothing: 404, as for a link that never existed (the
    # anonymised row is the coordinators' to count, not anyone's to read by the old link).
    allowed = (
        row is not None
        and row.mission_id == mission_id
        and (
            (link.opens(row.id) and row.erased_at is None)
            or link.coordinator
            or await reviewing(request, row)
        )
    )
    if not allowed or row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such application for this link.")
    return row


Permitted = Annotated[Application, Depends(permitted)]


@router.get("/{application_id}", response_model=ApplicationView, summary="Read an application")
async def read_application(
    row: Permitted, session: SessionDep, request: Request
) -> ApplicationView:
    view = await _reread(session, row.id, request)
    if not is_coordinator(request) and await reviewing(request, row):
        return without_contact(view)
    return view


@router.patch(
    "/{application_id}", response_model=ApplicationView, summary="Amend before the deadline"
)
async def amend(
    mission_id: str, row: Permitted, request: Request, session: SessionDep, client: TemporalDep
) -> ApplicationView:
    mission = await call_of(session, mission_id)
    fields, slide = await read_body(request)
    try:
        amendment = ApplicationAmendment.model_validate(fields)
    except ValidationError as error:
        raise body_errors(error.errors(include_url=False, include_context=False)) from None
    errors = form_errors(mission, sectors=amendment.sectors, answers=amendment.answers)
    if errors:
        raise body_errors(errors)
    if amendment.sectors is not None:
        amendment.sectors = canonical_sectors(mission, amendment.sectors)
    if not amendment.model_fields_set and slide is None:
        raise body_errors([{"loc": (), "msg": "nothing to change", "type": "value_error"}])
    change = ApplicationChange(application_id=row.id, amendment=amendment)
    if slide is not None:
        change.slide_id = await stage_slide(session, mission_id, slide, checked_slide(slide))
    try:
        await amend_application(client, mission_id, change)
    except BaseException:
        await unstage(session, change.slide_id)
        raise
    return await _reread(session, row.id, request)


class WithdrawalRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    delete_my_data: bool = Field(
        default=False,
        description="Also erase everything the mission keeps about me; the private link then "
        "answers 404.",
    )


@router.post(
    "/{application_id}/withdraw",
    response_model=ApplicationView,
    summary="Withdraw, and with delete_my_data erase my data",
)
async def withdraw(
    mission_id: str,
    row: Permitted,
    session: SessionDep,
    client: TemporalDep,
    request: Request,
    body: Annotated[WithdrawalRequest | None, Body()] = None,
) -> ApplicationView:
    if body is not None and body.delete_my_data:
        await withdraw_then_erase(
            session, client, row, by=actor(request), reason=ErasureReason.REQUESTED.value
        )
    else:
        await withdraw_application(client, mission_id, ApplicationWithdrawal(application_id=row.id))
    return await _reread(session, row.id, request)


@router.post(
    "/{application_id}/confirm",
    response_model=SeatView,
    summary="Confirm the seat offered in the delegation",
    responses={409: {"description": "No open seat offer (none, answered, released, expired)"}},
)
async def confirm(mission_id: str, row: Permitted, client: TemporalDep) -> SeatView:
    return await _answer(client, mission_id, row, accept=True)


@router.post(
    "/{application_id}/decline",
    response_model=SeatView,
    summary="Decline the seat: it is offered to the waitlist at once",
    responses={409: {"description": "No seat to decline (none, released, expired)"}},
)
async def decline(mission_id: str, row: Permitted, client: TemporalDep) -> SeatView:
    return await _answer(client, mission_id, row, accept=False)


async def _answer(client: Client, mission_id: str, row: Application, *, accept: bool) -> SeatView:
    seat = await answer_seat(client, mission_id, SeatAnswer(application_id=row.id, accept=accept))
    return SeatView(
        application_id=seat.application_id,
        seat=seat.state,
        respond_by=seat.respond_by,
        released_because=seat.released_because,
    )


@router.get("/{application_id}/slide", summary="Download the slide")
async def download_slide(row: Permitted, session: SessionDep) -> Response:
    slide = (await session.exec(select(Slide).where(Slide.application_id == row.id))).first()
    if slide is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No slide has been uploaded yet.")
    return Response(
        slide.content,
        media_type=slide.content_type,
        headers={"Content-Disposition": f'attachment; filename="{safe_name(slide.filename)}"'},
    )


async def _reread(
    session: AsyncSession, application_id: uuid.UUID, request: Request
) -> ApplicationView:
    """The application as the workflow's activity left it (this session read it before)."""
    session.expire_all()
    row = await session.get(Application, application_id)
    assert row is not None
    disclosed = await selection_disclosed(session, row.mission_id, request)
    (view,) = await views(session, [row], disclosed=disclosed)
    return view


async def selection_disclosed(session: AsyncSession, mission_id: str, request: Request) -> bool:
    """Whether this request may see the selection's decisions: a coordinator always, an
    applicant once the delegation is approved (before, the proposal is a working document)."""
    if is_coordinator(request):
        return True
    return await selection_approved(session, mission_id)
