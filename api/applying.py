"""Taking an application, from the JSON API and from the HTML form alike.

An application is checked here against the call (fields, sectors, questions, the slide's type
and size) before anything is written; whether the call is still open is the workflow's answer,
given to the second by its Update validator. The slide is too large for a workflow payload, so
it is stored first and deleted again if the workflow refuses.
"""

from __future__ import annotations

import hashlib
import json
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException, Request, status
from pydantic import ValidationError
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import UploadFile
from temporalio.client import Client

from api.bodies import declared_over, media_type
from api.deps import get_mission
from api.errors import body_errors
from api.intake_gate import IntakeGates
from api.schemas import ApplicationCreated
from missionflow.domain.access import access_token
from missionflow.domain.call.applications import (
    ApplicationForm,
    ApplicationStatus,
    canonical_sectors,
    form_errors,
)
from missionflow.domain.call.messages import ApplicationSubmission
from missionflow.domain.call.slides import MAX_SLIDE_BYTES, SlideRefused, content_type_of
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime.models import Application, Slide
from missionflow.runtime.settings import Settings

MAX_BODY_BYTES = MAX_SLIDE_BYTES + 1024 * 1024

_IDEMPOTENCY = uuid.UUID("6f1f3f5e-0a4b-4a63-9a55-7d1a2d4c9b10")
"""The namespace of application ids derived from a client's Idempotency-Key."""


async def take_application(
    session: AsyncSession,
    intake: IntakeGates,
    settings: Settings,
    client: Client,
    mission_id: str,
    fields: dict[str, Any],
    slide: UploadFile | None,
    idempotency_key: str | None = None,
) -> tuple[bool, ApplicationCreated]:
    """Check an application and hand it to the mission; (created, answer), or an HTTP refusal.

    Shared by the JSON API and the HTML form, so both refuse the same things the same way. The
    same idempotency key names the same application id, which the mission takes once.
    """
    mission = await call_of(session, mission_id)
    form = _checked_form(mission, fields)
    content = checked_slide(slide) if slide is not None else None
    application_id = (
        keyed_application_id(mission_id, idempotency_key)
        if idempotency_key is not None
        else uuid.uuid4()
    )
    submission = ApplicationSubmission(application_id=application_id, form=form)
    if content is not None:
        # A retried request stages its slide under the same id: a slide an earlier attempt
        # could not remove (the database went away mid-request) is the one the retry attaches.
        slide_id = keyed_slide_id(application_id) if idempotency_key is not None else None
        submission.slide_id = await stage_slide(session, mission_id, slide, content, slide_id)
    try:
        taken = await intake.take(client, mission, submission)
    except BaseException:
        await unstage(session, submission.slide_id)
        raise
    row = taken.row
    if not taken.created:  # the same applicant applied before, maybe a moment before
        await unstage(session, submission.slide_id)
        return False, _duplicate(row, form, settings.link_secret())
    return True, ApplicationCreated(
        application_id=row.id,
        access_token=access_token(settings.link_secret(), row.id),
        status=ApplicationStatus(row.status),
        complete=row.complete,
        missing=row.missing,
    )


def keyed_application_id(mission_id: str, idempotency_key: str) -> uuid.UUID:
    """The application an idempotency key names: the same for every attempt of one request."""
    return uuid.uuid5(_IDEMPOTENCY, f"{mission_id}/{idempotency_key}")


def keyed_slide_id(application_id: uuid.UUID) -> uuid.UUID:
    """The slide of a keyed request: one row, whichever attempt stored it."""
    return uuid.uuid5(application_id, "slide")


async def call_of(session: AsyncSession, mission_id: str) -> MissionFile:
    """The mission's file, for its call: validated once per database and process.

    Decoding and validating the file cost more than the rest of an application's checks, and a
    mission's row is never deleted nor written again under its id; its call and questionnaire
    never change (a coordinator's change to a visit rewrites the visits alone, which nothing
    reading this uses). Callers must not modify the file."""
    known = _VALIDATED.setdefault(session.bind, {})
    mission = known.get(mission_id)
    if mission is None:
        row = await get_mission(mission_id, session)
        mission = known[mission_id] = MissionFile.model_validate(row.file)
    return mission


_VALIDATED: weakref.WeakKeyDictionary[Any, dict[str, MissionFile]] = weakref.WeakKeyDictionary()
"""Validated mission files by engine (gone with it) and mission id."""


async def read_body(request: Request) -> tuple[dict[str, Any], UploadFile | None]:
    """The fields and the slide, from JSON or from multipart/form-data."""
    if declared_over(request, MAX_BODY_BYTES):
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "The slide may be at most 10 MB.")
    kind = media_type(request)
    if kind == "application/json":
        try:
            body = json.loads(await request.body())
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise body_errors(
                [{"loc": (), "msg": f"not valid JSON: {error}", "type": "json"}]
            ) from None
        if not isinstance(body, dict):
            raise body_errors([{"loc": (), "msg": "send a JSON object", "type": "json"}])
        return body, None
    if kind in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await request.form(max_part_size=MAX_BODY_BYTES)
        return form_fields(form), _upload(form.get("slide"))
    raise HTTPException(
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
        "Send the application as application/json or multipart/form-data.",
    )


def form_fields(form: Any) -> dict[str, Any]:
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
                raise body_errors(
                    [{"loc": ("answers",), "msg": "answers must be a JSON object", "type": "json"}]
                ) from None
        elif key.startswith("answers."):
            answers[key.removeprefix("answers.")] = _typed(form.get(key))
        elif key == "consent":
            fields["consent"] = str(form.get(key)).lower() in ("true", "on", "1", "yes")
        elif key.startswith("colleagues."):
            continue
        else:
            value = form.get(key)
            fields[key] = value if value != "" or key != "website" else None
    if answers:
        fields["answers"] = answers
    if rows := colleague_rows(form):
        fields["colleagues"] = [row for _, row in rows]
    return fields


COLLEAGUE_FIELDS = ("name", "email", "role")


def colleague_rows(form: Any) -> list[tuple[int, dict[str, str]]]:
    """The form's colleague rows (`colleagues.<n>.name|email|role`) that are not empty, with
    their row numbers, so an error at the n-th colleague is shown at its row. A row left empty
    is nobody; in a half-filled one the empty fields are left out, so a missing name or address
    is refused at its field like any other."""
    rows: dict[int, dict[str, str]] = {}
    for key in form:
        parts = key.split(".")
        if len(parts) != 3 or parts[0] != "colleagues" or not parts[1].isdigit():
            continue
        value = form.get(key)
        if parts[2] in COLLEAGUE_FIELDS and isinstance(value, str) and value.strip():
            rows.setdefault(int(parts[1]), {})[parts[2]] = value
    return sorted(rows.items())


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
        raise body_errors(error.errors(include_url=False, include_context=False)) from None
    errors = form_errors(
        mission, sectors=form.sectors, answers=form.answers, language=form.language
    )
    if errors:
        raise body_errors(errors)
    form.sectors = canonical_sectors(mission, form.sectors)
    form.language = form.language or mission.languages[0]
    return form


def checked_slide(slide: UploadFile | None) -> bytes:
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


async def stage_slide(
    session: AsyncSession,
    mission_id: str,
    slide: UploadFile | None,
    content: bytes,
    slide_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Store the slide before the mission takes its application; with `slide_id`, a slide
    already stored under it (by an earlier attempt of the same request) is kept as it is."""
    assert slide is not None
    if slide_id is not None and await session.get(Slide, slide_id) is not None:
        return slide_id
    row = Slide(
        id=slide_id or uuid.uuid4(),
        mission_id=mission_id,
        filename=safe_name(slide.filename or "slide"),
        content_type=content_type_of(content),
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        content=content,
        uploaded_at=datetime.now(UTC),
    )
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:  # the same request, stored by a concurrent attempt a moment ago
        await session.rollback()
    return row.id


async def unstage(session: AsyncSession, slide_id: uuid.UUID | None) -> None:
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


def safe_name(name: str) -> str:
    return "".join(c for c in name if c.isalnum() or c in "._- ")[:200] or "slide"
