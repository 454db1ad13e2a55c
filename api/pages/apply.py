"""The public application form: `GET /missions/{id}/apply` and what it posts.

The page is plain HTML, generated from the mission's call (its sectors and questionnaire), with
no script. A submission goes through `take_application`, exactly as the JSON API's does, so both
refuse the same things; a refusal shows the form again with the values kept and each message
next to its field.

The page speaks one of the mission's languages: the one asked for with `?lang=` (the switch at
the top links there), else the browser's `Accept-Language`, else the mission's default. The
applicant's choice is sent with the form (the `language` select) and kept on the application, so
the confirmation, every later email and the answer page speak it too.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile

from api.applying import MAX_BODY_BYTES, call_of, colleague_rows, form_fields, take_application
from api.bodies import declared_over
from api.deps import IntakeDep, MissionRow, SessionDep, SettingsDep
from api.errors import DATABASE_BUSY, DATABASE_UNAVAILABLE, RETRY_AFTER
from api.missions import mission_status
from api.pages import colleague_rows as colleague_fields
from api.pages.apply_fields import ANCHORS, COUNTRIES, ORGANISATION_TYPES, anchor, label
from api.pages.rendering import (
    CONFIRMATION_HEADERS,
    FORM_HEADERS,
    LanguageQuery,
    page_language,
    templates,
)
from api.updates import Refused, Unavailable
from missionflow.domain.mission.call_section import QuestionType
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.domain.refusals import CONFLICT, NOT_FOUND
from missionflow.runtime.i18n import N_, language_name, missing_in, translate, when
from missionflow.runtime.mail.context import private_url

router = APIRouter(tags=["application form"])

LIVE_STATUS_TIMEOUT = 3.0


_ALREADY_APPLIED = N_(
    "This organisation has already applied with this email; use the private link sent to "
    "that address to change the application."
)
_SLIDE_TOO_LARGE = N_("The slide may be at most 10 MB.")
_SEND_AGAIN_SOON = N_("Please send the form again in a moment.")
_SEND_AGAIN = N_("Please send the form again.")
_CANCELLED = N_("This mission has been cancelled: applications are no longer accepted.")
_CLOSED = N_("The call closed on %(deadline)s: applications are no longer accepted.")
_FILL_IN = N_("Please fill in this field.")
_CHOOSE_SECTOR = N_("Choose at least one sector.")


@dataclass
class Problems:
    """What to tell the applicant: a message at the top and messages at fields."""

    general: list[str] = field(default_factory=list)
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, key: str | None, message: str) -> None:
        if key is None:
            self.general.append(message)
        else:
            self.fields.setdefault(key, []).append(message)


@router.get(
    "/missions/{mission_id}/apply",
    response_class=HTMLResponse,
    name="apply_form",
    summary="The public application form (HTML)",
    responses={404: {"description": "No such mission"}},
)
async def apply_form(
    row: MissionRow,
    request: Request,
    lang: LanguageQuery = None,
) -> HTMLResponse:
    mission = MissionFile.model_validate(row.file)
    phase, deadline = await _live(request, mission, Phase(row.phase))
    language = page_language(request, mission, lang)
    return _form_page(request, mission, deadline=deadline, phase=phase, language=language)


@router.post(
    "/missions/{mission_id}/apply",
    response_class=HTMLResponse,
    status_code=status.HTTP_201_CREATED,
    summary="Send the application form (multipart/form-data)",
    responses={
        200: {"description": "The same applicant applied before"},
        404: {"description": "No such mission"},
        409: {"description": "The call is not open: the form again, with the reason"},
        413: {"description": "The slide is larger than 10 MB: the form again"},
        415: {"description": "The slide is not a PDF or PPTX: the form again"},
        422: {"description": "Fields to correct: the form again, each message at its field"},
    },
)
async def send_form(
    mission_id: str,
    request: Request,
    session: SessionDep,
    intake: IntakeDep,
    settings: SettingsDep,
) -> HTMLResponse:
    # The call as first read by this process: during a rush the database may be too busy to
    # read it again, and the form must still come back with what the applicant typed.
    mission = await call_of(session, mission_id)
    _, deadline = await _live(request, mission, Phase.CALL_OPEN)
    language = page_language(request, mission, request.query_params.get("lang"))
    if declared_over(request, MAX_BODY_BYTES):
        problems = Problems(general=[translate(language, _SLIDE_TOO_LARGE)])
        return _form_page(
            request,
            mission,
            deadline=deadline,
            language=language,
            problems=problems,
            code=status.HTTP_413_CONTENT_TOO_LARGE,
            values=FormData(),
        )
    form = await request.form(max_part_size=MAX_BODY_BYTES)
    if (chosen := form.get("language")) in mission.languages:
        language = str(chosen)
    fields: dict[str, Any] = {}
    try:
        fields = _filled(form_fields(form))
        slide = form.get("slide")
        upload = slide if isinstance(slide, UploadFile) and slide.filename else None
        client = await request.app.state.temporal.client()
        created, answer = await take_application(
            session, intake, settings, client, mission_id, fields, upload
        )
    except RequestValidationError as error:
        problems = _problems(
            mission,
            error.errors(),
            consented=bool(fields.get("consent")),
            language=language,
            rows=[number for number, _ in colleague_rows(form)],
        )
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
    except HTTPException as error:
        if error.status_code == status.HTTP_404_NOT_FOUND:
            raise
        problems, code = Problems(general=[str(error.detail)]), error.status_code
    except Refused as refusal:
        if refusal.kind == NOT_FOUND:
            raise
        problems = Problems()
        problems.add(refusal.field if refusal.field in ANCHORS else None, str(refusal))
        code = (
            status.HTTP_409_CONFLICT
            if refusal.kind == CONFLICT
            else status.HTTP_422_UNPROCESSABLE_CONTENT
        )
    except Unavailable as error:
        problems = Problems(general=[f"{error} {translate(language, _SEND_AGAIN_SOON)}"])
        code = status.HTTP_503_SERVICE_UNAVAILABLE
    except DATABASE_UNAVAILABLE:
        problems = Problems(general=[f"{DATABASE_BUSY} {translate(language, _SEND_AGAIN)}"])
        code = status.HTTP_503_SERVICE_UNAVAILABLE
    else:
        return templates.TemplateResponse(
            request,
            "applied.html",
            {
                "mission": mission,
                "language": language,
                "answer": answer.model_copy(
                    update={"detail": answer.detail and translate(language, answer.detail)}
                ),
                "missing": missing_in(answer.missing, mission, language),
                "created": created,
                "email": fields.get("contact_email"),
                "private_link": private_url(settings, mission_id, answer.application_id)
                if answer.access_token
                else None,
                "deadline": when(deadline, mission.timezone, language, end_of_day=True),
            },
            status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
            headers=CONFIRMATION_HEADERS,
        )
    return _form_page(
        request,
        mission,
        deadline=deadline,
        language=language,
        problems=problems,
        code=code,
        values=form,
    )


def _filled(fields: dict[str, Any]) -> dict[str, Any]:
    """A browser sends every field, empty ones as "": those are left out, so an empty required
    field is "missing" and an unanswered question is not stored as an empty answer."""
    filled = {key: value for key, value in fields.items() if value != ""}
    if isinstance(answers := filled.get("answers"), dict):
        filled["answers"] = {key: value for key, value in answers.items() if value != ""}
    return filled


async def _live(request: Request, mission: MissionFile, stored: Phase) -> tuple[Phase, datetime]:
    """The phase and the deadline as the workflow knows them (a coordinator may have extended
    the call); what is stored when Temporal does not answer promptly."""
    try:
        client = await request.app.state.temporal.client()
        live = await asyncio.wait_for(mission_status(client, mission.id), LIVE_STATUS_TIMEOUT)
    except (Unavailable, TimeoutError):
        return stored, mission.call.deadline
    return live.phase, live.deadline.utc


def _problems(
    mission: MissionFile, errors: Any, *, consented: bool, language: str, rows: list[int]
) -> Problems:
    """Pydantic-located errors, each at the form field it is about, in the page's language
    (the words of the form's own checks; a validator's detail stays as it says it). The n-th
    colleague sent is the n-th of the form's filled `rows`."""
    questions = {question.id for question in mission.call.questionnaire}
    problems = Problems()
    for error in errors:
        location = [str(part) for part in error.get("loc", ())][1:]  # past "body"
        message = _message(error, language)
        key: str | None = None
        if location and location[0] in ANCHORS:
            key = location[0]
        elif location[:1] == ["answers"] and len(location) > 1 and location[1] in questions:
            key = f"answers.{location[1]}"
        elif colleague := colleague_fields.field_key(location, rows):
            key = colleague
        elif not location and message == CONSENT_MISSING:
            key = "consent"
        elif location:
            message = f"{'.'.join(location)}: {message}"
        if key == "consent":
            message = translate(language, CONSENT_MISSING)
        elif key == "sectors" and error.get("type") == "missing":
            message = translate(language, _CHOOSE_SECTOR)
        shown = problems.general if key is None else problems.fields.get(key, [])
        if message not in shown:
            problems.add(key, message)
    if not consented and "consent" not in problems.fields:
        problems.add("consent", translate(language, CONSENT_MISSING))
    return problems


CONSENT_MISSING = N_("Consent to the processing of the data is required to apply.")


def _message(error: dict[str, Any], language: str) -> str:
    """The message in a sentence an applicant reads, not a validator's words."""
    kind, message = error.get("type"), str(error.get("msg", ""))
    if kind in ("missing", "string_too_short"):
        return translate(language, _FILL_IN)
    if "consent" in message:
        return translate(language, CONSENT_MISSING)
    message = message.removeprefix("Value error, ")
    message = message.replace("value is not a valid email address", "not a valid email address")
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def _form_page(
    request: Request,
    mission: MissionFile,
    *,
    deadline: datetime,
    language: str,
    phase: Phase = Phase.CALL_OPEN,
    problems: Problems | None = None,
    code: int = status.HTTP_200_OK,
    values: FormData | None = None,
) -> HTMLResponse:
    problems = problems or Problems()
    values = values if values is not None else FormData()
    now = datetime.now(UTC)
    opens_at = mission.call.opens_at
    if phase is Phase.CANCELLED:
        closed = translate(language, _CANCELLED)
    elif phase is not Phase.CALL_OPEN or deadline <= now:
        closed = translate(
            language,
            _CLOSED,
            deadline=when(deadline, mission.timezone, language, end_of_day=True),
        )
    else:
        closed = None
    summary = [
        (f"#{anchor(mission, key)}", label(mission, key, language), message)
        for key, messages in problems.fields.items()
        for message in messages
    ]
    return templates.TemplateResponse(
        request,
        "apply.html",
        {
            "mission": mission,
            "language": language,
            "languages": [(code, language_name(code)) for code in mission.languages],
            "action": request.url_for("apply_form", mission_id=mission.id).path,
            "deadline": when(deadline, mission.timezone, language, end_of_day=True),
            "opens": when(opens_at, mission.timezone, language)
            if opens_at is not None and opens_at > now
            else None,
            "closed": closed if code == status.HTTP_200_OK else None,
            "countries": COUNTRIES,
            "organisation_types": ORGANISATION_TYPES,
            "question_type": QuestionType,
            "colleague_rows": range(colleague_fields.ROWS),
            "again": bool(problems.general or problems.fields),
            "general": problems.general,
            "errors": problems.fields,
            "summary": summary,
            "values": _kept(values),
        },
        status_code=code,
        headers=FORM_HEADERS | (RETRY_AFTER if code == status.HTTP_503_SERVICE_UNAVAILABLE else {}),
    )


def _kept(form: FormData) -> dict[str, Any]:
    """What the applicant typed, to fill the form again (a file cannot be given back)."""
    kept: dict[str, Any] = {
        key: value
        for key, value in form.multi_items()
        if isinstance(value, str) and key != "sectors"
    }
    kept["sectors"] = [s.casefold() for s in form.getlist("sectors") if isinstance(s, str)]
    return kept
