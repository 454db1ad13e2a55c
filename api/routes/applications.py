"""Applying to a mission's call, and the applicant's private link.

An application is checked here against the call (fields, sectors, questions, the slide's type
and size) before anything is written; whether the call is still open is the workflow's answer,
given to the second by its Update validator. The slide is too large for a workflow payload, so
it is stored first and deleted again if the workflow refuses.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
import weakref
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from sqlalchemy import delete
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import UploadFile
from temporalio.client import Client

from api.deps import (
    Coordinator,
    IntakeDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
    is_coordinator,
)
from api.intake_gate import IntakeGates
from api.missions import (
    amend_application,
    answer_seat,
    withdraw_application,
)
from api.schemas import ApplicationCreated, ApplicationView, SeatView
from missionflow.domain.access import access_token, token_matches
from missionflow.domain.call.applications import (
    ApplicationAmendment,
    ApplicationForm,
    ApplicationStatus,
    canonical_sectors,
    form_errors,
)
from missionflow.domain.call.messages import (
    ApplicationChange,
    ApplicationSubmission,
    ApplicationWithdrawal,
)
from missionflow.domain.call.slides import MAX_SLIDE_BYTES, SlideRefused, content_type_of
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.selection.messages import SeatAnswer
from missionflow.runtime.models import (
    Application,
    Mission,
    SelectionDecision,
    SelectionEvent,
    Slide,
)
from missionflow.runtime.settings import Settings

router = APIRouter(prefix="/missions/{mission_id}/applications", tags=["applications"])

MAX_BODY_BYTES = MAX_SLIDE_BYTES + 1024 * 1024
TokenHeader = Annotated[str | None, Header(alias="X-Access-Token")]
TokenQuery = Annotated[str | None, Query(alias="token")]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationCreated,
    summary="Apply (JSON, or multipart/form-data with the slide)",
    responses={
        200: {"description": "The same applicant applied before: the same application"},
        409: {"description": "The call is not open"},
        413: {"description": "The slide is larger than 10 MB"},
        415: {"description": "The slide is not a PDF or PPTX"},
    },
)
async def apply(
    mission_id: str,
    request: Request,
    session: SessionDep,
    intake: IntakeDep,
    settings: SettingsDep,
    client: TemporalDep,
) -> JSONResponse:
    fields, slide = await _read_body(request)
    created, body = await take_application(
        session, intake, settings, client, mission_id, fields, slide
    )
    return JSONResponse(
        body.model_dump(mode="json"), status.HTTP_201_CREATED if created else status.HTTP_200_OK
    )


async def take_application(
    session: AsyncSession,
    intake: IntakeGates,
    settings: Settings,
    client: Client,
    mission_id: str,
    fields: dict[str, Any],
    slide: UploadFile | None,
) -> tuple[bool, ApplicationCreated]:
    """Check an application and hand it to the mission; (created, answer), or an HTTP refusal.

    Shared by the JSON API and the HTML form, so both refuse the same things the same way.
    """
    mission = await _mission(session, mission_id)
    form = _checked_form(mission, fields)
    content = _checked_slide(slide) if slide is not None else None
    submission = ApplicationSubmission(application_id=uuid.uuid4(), form=form)
    if content is not None:
        submission.slide_id = await _stage_slide(session, mission_id, slide, content)
    try:
        taken = await intake.take(client, mission, submission)
    except BaseException:
        await _unstage(session, submission.slide_id)
        raise
    row = taken.row
    if not taken.created:  # the same applicant applied before, maybe a moment before
        await _unstage(session, submission.slide_id)
        return False, _duplicate(row, form, settings.link_secret())
    return True, ApplicationCreated(
        application_id=row.id,
        access_token=access_token(settings.link_secret(), row.id),
        status=ApplicationStatus(row.status),
        complete=row.complete,
        missing=row.missing,
    )


@router.get("", dependencies=[Coordinator], summary="Every application, with status and contact")
async def list_applications(
    mission_id: str,
    session: SessionDep,
    accept: Annotated[str | None, Header()] = None,
    status_: Annotated[ApplicationStatus | None, Query(alias="status")] = None,
    complete: bool | None = None,
) -> Response:
    await _mission(session, mission_id)
    query = select(Application).where(Application.mission_id == mission_id)
    if status_ is not None:
        query = query.where(Application.status == status_.value)
    if complete is not None:
        query = query.where(Application.complete == complete)
    rows = (await session.exec(query.order_by(col(Application.submitted_at)))).all()
    views = await _views(session, list(rows), disclosed=True)
    if accept and "text/csv" in accept:
        return Response(
            _csv(views),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{mission_id}-applications.csv"'
            },
        )
    return JSONResponse([view.model_dump(mode="json") for view in views])


async def permitted(
    mission_id: str,
    application_id: str,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    header_token: TokenHeader = None,
    query_token: TokenQuery = None,
) -> Application:
    """The application, for its applicant's token or a coordinator; 404 for anyone else, so a
    wrong link tells nothing about whether the application exists."""
    try:
        identifier = uuid.UUID(application_id)
    except ValueError:
        identifier = None
    row = await session.get(Application, identifier) if identifier else None
    token = header_token or query_token
    allowed = (
        row is not None
        and row.mission_id == mission_id
        and (token_matches(settings.link_secret(), row.id, token) or is_coordinator(request))
    )
    if not allowed or row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such application for this link.")
    return row


Permitted = Annotated[Application, Depends(permitted)]


@router.get("/{application_id}", response_model=ApplicationView, summary="Read an application")
async def read_application(
    row: Permitted, session: SessionDep, request: Request
) -> ApplicationView:
    return await _reread(session, row.id, request)


@router.patch(
    "/{application_id}", response_model=ApplicationView, summary="Amend before the deadline"
)
async def amend(
    mission_id: str, row: Permitted, request: Request, session: SessionDep, client: TemporalDep
) -> ApplicationView:
    mission = await _mission(session, mission_id)
    fields, slide = await _read_body(request)
    try:
        amendment = ApplicationAmendment.model_validate(fields)
    except ValidationError as error:
        raise _body_errors(error.errors(include_url=False, include_context=False)) from None
    errors = form_errors(mission, sectors=amendment.sectors, answers=amendment.answers)
    if errors:
        raise _body_errors(errors)
    if amendment.sectors is not None:
        amendment.sectors = canonical_sectors(mission, amendment.sectors)
    if not amendment.model_fields_set and slide is None:
        raise _body_errors([{"loc": (), "msg": "nothing to change", "type": "value_error"}])
    change = ApplicationChange(application_id=row.id, amendment=amendment)
    if slide is not None:
        change.slide_id = await _stage_slide(session, mission_id, slide, _checked_slide(slide))
    try:
        await amend_application(client, mission_id, change)
    except BaseException:
        await _unstage(session, change.slide_id)
        raise
    return await _reread(session, row.id, request)


@router.post("/{application_id}/withdraw", response_model=ApplicationView, summary="Withdraw")
async def withdraw(
    mission_id: str, row: Permitted, session: SessionDep, client: TemporalDep, request: Request
) -> ApplicationView:
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
        headers={"Content-Disposition": f'attachment; filename="{_safe_name(slide.filename)}"'},
    )


async def _reread(
    session: AsyncSession, application_id: uuid.UUID, request: Request
) -> ApplicationView:
    """The application as the workflow's activity left it (this session read it before)."""
    session.expire_all()
    row = await session.get(Application, application_id)
    assert row is not None
    approved = await session.scalar(
        select(func.count())
        .select_from(SelectionEvent)
        .where(SelectionEvent.mission_id == row.mission_id, SelectionEvent.action == "approved")
    )
    (view,) = await _views(session, [row], disclosed=bool(approved) or is_coordinator(request))
    return view


async def _views(
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


async def _mission(session: AsyncSession, mission_id: str) -> MissionFile:
    """The mission's file, for its call: validated once per database and process.

    Decoding and validating the file cost more than the rest of an application's checks, and a
    mission's row is never deleted nor written again under its id; its call and questionnaire
    never change (a coordinator's change to a visit rewrites the visits alone, which nothing
    reading this uses). Callers must not modify the file."""
    known = _VALIDATED.setdefault(session.bind, {})
    mission = known.get(mission_id)
    if mission is None:
        row = await session.get(Mission, mission_id)
        if row is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"No mission with id {mission_id!r}.")
        mission = known[mission_id] = MissionFile.model_validate(row.file)
    return mission


_VALIDATED: weakref.WeakKeyDictionary[Any, dict[str, MissionFile]] = weakref.WeakKeyDictionary()
"""Validated mission files by engine (gone with it) and mission id."""


async def _read_body(request: Request) -> tuple[dict[str, Any], UploadFile | None]:
    """The fields and the slide, from JSON or from multipart/form-data."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "The slide may be at most 10 MB.")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/json":
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise _body_errors(
                [{"loc": (), "msg": f"not valid JSON: {error}", "type": "json"}]
            ) from None
        if not isinstance(body, dict):
            raise _body_errors([{"loc": (), "msg": "send a JSON object", "type": "json"}])
        return body, None
    if media_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_part_size=MAX_BODY_BYTES)
        return _form_fields(form), _upload(form.get("slide"))
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        "Send the application as application/json or multipart/form-data.",
    )


def _form_fields(form: Any) -> dict[str, Any]:
    """HTML-form fields in the JSON shape: sectors repeated, answers as JSON or answers.<id>."""
    fields: dict[str, Any] = {}
    answers: dict[str, Any] = {}
    for key in form:
        if key == "slide":
            continue
        if key == "sectors":
            fields["sectors"] = [s for s in form.getlist("sectors") if isinstance(s, str)]
        elif key == "answers":
            try:
                answers.update(json.loads(form.get("answers") or "{}"))
            except (json.JSONDecodeError, AttributeError):
                raise _body_errors(
                    [{"loc": ("answers",), "msg": "answers must be a JSON object", "type": "json"}]
                ) from None
        elif key.startswith("answers."):
            answers[key.removeprefix("answers.")] = _typed(form.get(key))
        elif key == "consent":
            fields["consent"] = str(form.get(key)).lower() in ("true", "on", "1", "yes")
        else:
            value = form.get(key)
            fields[key] = value if value != "" or key != "website" else None
    if answers:
        fields["answers"] = answers
    return fields


def _typed(value: Any) -> Any:
    """An HTML form sends text; whole numbers and true/false are read as such."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    return {"true": True, "false": False}.get(text, text)


def _upload(value: Any) -> UploadFile | None:
    if isinstance(value, UploadFile) and value.filename:
        return value
    return None


def _checked_form(mission: MissionFile, fields: dict[str, Any]) -> ApplicationForm:
    try:
        form = ApplicationForm.model_validate(fields)
    except ValidationError as error:
        raise _body_errors(error.errors(include_url=False, include_context=False)) from None
    errors = form_errors(mission, sectors=form.sectors, answers=form.answers)
    if errors:
        raise _body_errors(errors)
    form.sectors = canonical_sectors(mission, form.sectors)
    return form


def _checked_slide(slide: UploadFile | None) -> bytes:
    assert slide is not None
    content = slide.file.read(MAX_SLIDE_BYTES + 1)
    try:
        content_type_of(content)
    except SlideRefused as refused:
        code = (
            status.HTTP_413_CONTENT_TOO_LARGE
            if refused.too_large
            else status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
        )
        raise HTTPException(code, str(refused)) from None
    return content


async def _stage_slide(
    session: AsyncSession, mission_id: str, slide: UploadFile | None, content: bytes
) -> uuid.UUID:
    assert slide is not None
    row = Slide(
        mission_id=mission_id,
        filename=_safe_name(slide.filename or "slide"),
        content_type=content_type_of(content),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_at=datetime.now(UTC),
    )
    session.add(row)
    await session.commit()
    return row.id


async def _unstage(session: AsyncSession, slide_id: uuid.UUID | None) -> None:
    """Remove a stored slide the workflow did not take: a refused request leaves nothing."""
    if slide_id is None:
        return
    await session.rollback()
    await session.exec(  # type: ignore[call-overload]
        delete(Slide).where(col(Slide.id) == slide_id, col(Slide.application_id).is_(None))
    )
    await session.commit()


def _duplicate(row: Application, form: ApplicationForm, secret: str) -> ApplicationCreated:
    """The same applicant again: the same application, and never a second one.

    The private link is given again only for the very same submission (a retried request):
    knowing someone's organisation and email must not open their application.
    """
    same = (
        row.contact_name == form.contact_name
        and row.organisation == form.organisation
        and row.organisation_type == form.organisation_type.value
        and row.country == form.country
        and row.city == form.city
        and row.sectors == form.sectors
        and row.answers == form.answers
    )
    return ApplicationCreated(
        application_id=row.id,
        access_token=access_token(secret, row.id) if same else None,
        status=ApplicationStatus(row.status),
        complete=row.complete,
        missing=row.missing,
        detail=None
        if same
        else "This organisation has already applied with this email; use the private link "
        "sent to that address to change the application.",
    )


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


CSV_COLUMNS = (
    "id", "status", "complete", "missing", "organisation", "organisation_type", "country", "city",
    "website", "contact_name", "contact_email", "sectors", "submitted_at", "has_slide",
    "score", "decision", "waitlist_position", "seat",
)  # fmt: skip


def _csv(views: list[ApplicationView]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for view in views:
        data = view.model_dump(mode="json")
        writer.writerow(
            "; ".join(data[c]) if isinstance(data[c], list) else data[c] for c in CSV_COLUMNS
        )
    return buffer.getvalue()


def _body_errors(errors: list[dict[str, Any]]) -> RequestValidationError:
    return RequestValidationError(
        [
            {"loc": ("body", *error["loc"]), "msg": error["msg"], "type": error["type"]}
            for error in errors
        ]
    )


def _safe_name(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in "._- ")[:200] or "slide"
