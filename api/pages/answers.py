"""What the feedback and the follow-up forms share: who answers, reading what they post, and
the answers given back.

Respondents come by the private link of their email: a delegate's link carries their
application's token, a host's the token of its host link. The link names nobody, so the token
itself says who answers: it is compared with the token of each confirmed delegate and host of
the mission (one HMAC each, a few milliseconds for thousands) rather than trusting an id sent
beside it. Anyone else (a waitlisted applicant, another mission's host) gets a 404.

Answers go to the mission workflow as Updates (`give_feedback`, `answer_follow_up`), so whether
they are still taken has one answer. The forms are plain HTML without script and post to the
same URL as a JSON client, which posts the same fields as JSON and gets JSON back.

The pages speak the respondent's language (`page_language`: `?lang=`, else the language a
delegate applied in, else the browser's, else the mission's default); a form posts back with
`lang=` in its address, so its errors and the page that confirms the answer speak it too. The
messages these pages write themselves are translated; a refusal the workflow gives is shown as
it says it.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData

from api.bodies import declared_over, json_document, media_type
from api.deps import PrivateLink
from api.pages.rendering import (
    CONFIRMATION_HEADERS,
    language_links,
    page_language,
    templates,
)
from api.updates import Refused, Unavailable
from missionflow.domain.matchmaking.rules import DELEGATE
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.domain.refusals import CONFLICT, NOT_FOUND
from missionflow.domain.reporting.messages import AnswerReceipt
from missionflow.runtime import participants
from missionflow.runtime.i18n import N_, number, translate, when
from missionflow.runtime.models import Mission
from missionflow.runtime.participants import Participant

MAX_BODY_BYTES = 64 << 10
ENDED = (Phase.COMPLETED.value, Phase.CANCELLED.value)
RATINGS = ("rating_matchmaking", "rating_visits", "rating_organisation")

_GIVE_A_NUMBER = N_("Please give a number.")
_YES_OR_NO = N_("Yes or no.")
_CHOOSE_A_RATING = N_("Choose a rating from 1 to 5.")
_AT_LEAST = N_("Please give a number of at least %(limit)s.")
_AT_MOST = N_("Please give a number of at most %(limit)s.")
_TOO_LONG = N_("Please write at most %(limit)s characters.")
_SEND_AGAIN_SOON = N_("Please send the form again in a moment.")
"""The messages the forms write themselves, said in the page's language."""
_LIMITS = {
    "greater_than_equal": (_AT_LEAST, "ge"),
    "less_than_equal": (_AT_MOST, "le"),
    "string_too_long": (_TOO_LONG, "max_length"),
}
"""A bound of a field's model broken: what to say, and where pydantic names the bound."""


class Answer(BaseModel):
    respondent_id: uuid.UUID
    created: bool
    changed: bool
    late: bool


ANSWERS = {
    201: {"description": "The first answer"},
    200: {"description": "An amendment (changed false: the same answer again)"},
    404: {"description": "No such mission, or the link is not a respondent's"},
    409: {"description": "Answers are not taken now (the mission has ended, say)"},
    415: {"description": "Neither JSON nor a form"},
    422: {"description": "Fields to correct"},
}


async def respondent(
    session: AsyncSession, mission_id: str, link: PrivateLink, *, delegates_only: bool = False
) -> Participant:
    """The confirmed delegate or host whose private link this is; 404 for any other."""
    if link.token:
        for person in await participants.everyone(session, mission_id):
            if delegates_only and person.kind != DELEGATE:
                continue
            if link.opens(person.id, side=person.kind):
                return person
    raise HTTPException(status.HTTP_404_NOT_FOUND, "No respondent of this mission for this link.")


def respondent_language(
    request: Request, mission: Mission, person: Participant, asked: str | None
) -> str:
    """The language of a respondent's pages: `?lang=`, else the one a delegate applied in (a
    host has none), else their browser's, else the mission's default (`page_language`)."""
    file = MissionFile.model_validate(mission.file)
    return page_language(request, file, asked, stored=person.language)


async def posted(request: Request) -> tuple[FormData | None, Any]:
    """The form posted by the page, or the JSON document of an API client."""
    if declared_over(request, MAX_BODY_BYTES):
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "At most 64 KiB.")
    kind = media_type(request)
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return await request.form(max_files=0), None
    if kind != "application/json":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Send application/json or a form."
        )
    return None, json_document(await request.body())


def answer_json(receipt: AnswerReceipt) -> JSONResponse:
    answer = Answer(
        respondent_id=receipt.respondent_id,
        created=receipt.created,
        changed=receipt.changed,
        late=receipt.late,
    )
    code = status.HTTP_201_CREATED if receipt.created else status.HTTP_200_OK
    return JSONResponse(answer.model_dump(mode="json"), code)


def typed(form: FormData) -> dict[str, str]:
    """What the respondent typed, to fill the form again."""
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


def field_errors(error: ValidationError, language: str) -> dict[str, str]:
    """One sentence per field, as a respondent reads it, in the page's language."""
    errors: dict[str, str] = {}
    for e in error.errors():
        name = str(e["loc"][0]) if e["loc"] else ""
        if e["type"] in ("int_parsing", "float_parsing"):
            message = translate(language, _GIVE_A_NUMBER)
        elif e["type"] == "bool_parsing":
            message = translate(language, _YES_OR_NO)
        elif name in RATINGS:
            message = translate(language, _CHOOSE_A_RATING)
        elif e["type"] in _LIMITS:
            said, bound = _LIMITS[e["type"]]
            message = translate(language, said, limit=number(e["ctx"][bound], language))
        else:
            message = str(e["msg"]).removeprefix("Value error, ")
            message = message[:1].upper() + message[1:].rstrip(".") + "."
        errors.setdefault(name, message)
    return errors


def refused(refusal: Refused | Unavailable, language: str, zone: str) -> tuple[str, int]:
    """The refusal in the page's language when the mission said it in translatable words (its
    instants in the mission's `zone`), else as the mission wrote it."""
    if isinstance(refusal, Unavailable):
        return f"{refusal} {translate(language, _SEND_AGAIN_SOON)}", 503
    codes = {CONFLICT: status.HTTP_409_CONFLICT, NOT_FOUND: status.HTTP_404_NOT_FOUND}
    code = codes.get(refusal.kind, status.HTTP_422_UNPROCESSABLE_CONTENT)
    if refusal.said is None:
        return str(refusal), code
    variables = {
        name: when(datetime.fromisoformat(value), zone, language)
        if name in refusal.said["instants"]
        else value
        for name, value in refusal.said["variables"].items()
    }
    return translate(language, refusal.said["message"], **variables), code


def saved_page(
    request: Request,
    mission: Mission,
    receipt: AnswerReceipt,
    *,
    again: str,
    language: str,
    survey: int | None = None,
) -> HTMLResponse:
    file = MissionFile.model_validate(mission.file)
    return templates.TemplateResponse(
        request,
        "answer_saved.html",
        {
            "mission": file,
            "language": language,
            "languages": language_links(request, file),
            "receipt": receipt,
            "survey": survey,
            "again": again,
        },
        status_code=status.HTTP_201_CREATED if receipt.created else status.HTTP_200_OK,
        headers=CONFIRMATION_HEADERS,
    )


def form_state(
    values: dict[str, str],
    errors: dict[str, str] | None,
    refusal: Refused | Unavailable | None,
    language: str,
    zone: str,
) -> tuple[dict[str, Any], int]:
    """What either form shows of an answer (the values, each field's error, a refusal at the
    top), and the status it is served with."""
    general, code = refused(refusal, language, zone) if refusal is not None else (None, 200)
    if errors:
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
    shown = {
        "values": values,
        "answered": bool(values) and not errors and refusal is None,
        "errors": errors or {},
        "general": general,
    }
    return shown, code
