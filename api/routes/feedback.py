"""Feedback after the event and follow-up surveys months later, over HTTP.

Respondents come by the private link of their email: a delegate's link carries their
application's token, a host's the token of its host link. The link names nobody, so the token
itself says who answers: it is compared with the token of each confirmed delegate and host of
the mission (one HMAC each, a few milliseconds for thousands) rather than trusting an id sent
beside it. Anyone else (a waitlisted applicant, another mission's host) gets a 404.

Answers go to the mission workflow as Updates (`give_feedback`, `answer_follow_up`), so whether
they are still taken has one answer. The forms are plain HTML without script and post here; a
JSON client posts the same fields as JSON and gets JSON back.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData

from api.deps import Coordinator, MissionRow, SessionDep, SettingsDep
from api.missions import Refused, Unavailable, answer_follow_up, give_feedback
from api.routes.apply_page import CONFIRMATION_HEADERS, templates
from missionflow.domain.access import token_matches
from missionflow.domain.instants import describe
from missionflow.domain.matchmaking.rules import DELEGATE, HOST
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.domain.refusals import CONFLICT, NOT_FOUND
from missionflow.domain.reporting.feedback import answers_close_at, publishable_testimonial
from missionflow.domain.reporting.messages import AnswerReceipt, FeedbackInput, FollowUpInput
from missionflow.runtime import participants
from missionflow.runtime.models import Application, Feedback, FollowUpAnswer, Host, Mission
from missionflow.runtime.participants import Participant
from missionflow.runtime.settings import Settings

router = APIRouter(prefix="/missions/{mission_id}", tags=["feedback"])

TokenHeader = Annotated[str | None, Header(alias="X-Access-Token")]
TokenQuery = Annotated[str | None, Query(alias="token")]
SurveyQuery = Annotated[int | None, Query(ge=1, description="The survey's number, from 1.")]
Rating = Annotated[int, Field(ge=1, le=5)] | None
Count = Annotated[int, Field(ge=0, le=10_000)]
MAX_BODY_BYTES = 64 << 10
ENDED = (Phase.COMPLETED.value, Phase.CANCELLED.value)


class FeedbackBody(BaseModel):
    """One whole answer: an amendment sends every field again, as the form does."""

    model_config = ConfigDict(extra="forbid")

    rating_matchmaking: Rating = None
    rating_visits: Rating = None
    rating_organisation: Rating = None
    met_partners: bool | None = None
    testimonial: Annotated[str, Field(max_length=3000)] | None = None
    consent_to_publish: bool = False


class FollowUpBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    survey: Annotated[int, Field(ge=1)] | None = Field(
        default=None, description="The survey's number; or ?survey= in the URL."
    )
    agreements: Count = 0
    distribution_deals: Count = 0
    mous: Count = 0
    revisits: Count = 0
    expected_revenue_eur: Annotated[float, Field(ge=0, le=1e12)] | None = None
    comments: Annotated[str, Field(max_length=3000)] | None = None


class Answer(BaseModel):
    respondent_id: uuid.UUID
    created: bool
    changed: bool
    late: bool


class FeedbackResponse(BaseModel):
    respondent_id: uuid.UUID
    respondent_kind: str
    organisation: str
    rating_matchmaking: int | None
    rating_visits: int | None
    rating_organisation: int | None
    met_partners: bool | None
    testimonial: str | None
    consent_to_publish: bool
    publishable: bool = Field(description="The testimonial may be published (consent given).")
    late: bool
    submitted_at: datetime
    updated_at: datetime


class FeedbackResponses(BaseModel):
    closes_at: datetime
    asked: int = Field(description="Confirmed delegates and hosts.")
    answered: int
    not_answered: list[str] = Field(description="Organisations that have not answered.")
    responses: list[FeedbackResponse]


class FollowUpResponse(BaseModel):
    application_id: uuid.UUID
    organisation: str
    survey: int
    agreements: int
    distribution_deals: int
    mous: int
    revisits: int
    expected_revenue_eur: float | None
    comments: str | None
    submitted_at: datetime
    updated_at: datetime


ANSWERS = {
    201: {"description": "The first answer"},
    200: {"description": "An amendment (changed false: the same answer again)"},
    404: {"description": "No such mission, or the link is not a respondent's"},
    409: {"description": "Answers are not taken now (the mission has ended, say)"},
    415: {"description": "Neither JSON nor a form"},
    422: {"description": "Fields to correct"},
}


@router.get(
    "/feedback",
    response_class=HTMLResponse,
    name="feedback_form",
    summary="The feedback form of a delegate or a host (HTML, by private link)",
)
async def feedback_form(
    mission: MissionRow,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: TokenQuery = None,
    header_token: TokenHeader = None,
) -> HTMLResponse:
    given = header_token or token
    person = await _respondent(session, settings, mission.id, given)
    row = await _feedback_row(session, mission.id, person.id)
    return _feedback_page(request, mission, person, given, values=_feedback_values(row))


@router.post(
    "/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=Answer,
    summary="Give or amend feedback (JSON or the HTML form; by private link)",
    responses=ANSWERS,
)
async def send_feedback(
    mission: MissionRow,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: TokenQuery = None,
    header_token: TokenHeader = None,
) -> Response:
    given = header_token or token
    person = await _respondent(session, settings, mission.id, given)
    form, document = await _body(request)
    values = _typed(form) if form is not None else {}
    try:
        body = FeedbackBody.model_validate(_feedback_fields(form) if form is not None else document)
    except ValidationError as error:
        if form is None:
            raise RequestValidationError(_located(error)) from None
        return _feedback_page(
            request, mission, person, given, values=values, errors=_field_errors(error)
        )
    answer = FeedbackInput(
        respondent_id=person.id, respondent_kind=person.kind, **body.model_dump()
    )
    try:
        client = await request.app.state.temporal.client()
        receipt = await give_feedback(client, mission.id, answer)
    except (Refused, Unavailable) as refusal:
        if form is None:
            raise
        return _feedback_page(request, mission, person, given, values=values, refusal=refusal)
    if form is None:
        return _answer_json(receipt)
    return _saved_page(request, mission, receipt, again=_feedback_link(request, mission, given))


@router.get(
    "/follow-up",
    response_class=HTMLResponse,
    name="follow_up_form",
    summary="A follow-up survey's form for a delegate (HTML, by private link)",
)
async def follow_up_form(
    mission: MissionRow,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    survey: SurveyQuery = None,
    token: TokenQuery = None,
    header_token: TokenHeader = None,
) -> HTMLResponse:
    given = header_token or token
    person = await _respondent(session, settings, mission.id, given, delegates_only=True)
    number = _survey(mission, survey)
    row = await _follow_up_row(session, mission.id, person.id, number)
    return _follow_up_page(request, mission, person, given, number, values=_follow_up_values(row))


@router.post(
    "/follow-up",
    status_code=status.HTTP_201_CREATED,
    response_model=Answer,
    summary="Answer or amend a follow-up survey (JSON or the HTML form; by private link)",
    responses=ANSWERS,
)
async def send_follow_up(
    mission: MissionRow,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    survey: SurveyQuery = None,
    token: TokenQuery = None,
    header_token: TokenHeader = None,
) -> Response:
    given = header_token or token
    person = await _respondent(session, settings, mission.id, given, delegates_only=True)
    form, document = await _body(request)
    values = _typed(form) if form is not None else {}
    try:
        body = FollowUpBody.model_validate(
            _follow_up_fields(form) if form is not None else document
        )
    except ValidationError as error:
        if form is None:
            raise RequestValidationError(_located(error)) from None
        number = _survey(mission, survey)
        return _follow_up_page(
            request, mission, person, given, number, values=values, errors=_field_errors(error)
        )
    if body.survey is not None and survey is not None and body.survey != survey:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", "survey"),
                    "msg": f"The body names survey {body.survey}, the link survey {survey}.",
                    "type": "survey",
                }
            ]
        )
    number = _survey(mission, body.survey or survey)
    answer = FollowUpInput(
        application_id=person.id, survey=number, **body.model_dump(exclude={"survey"})
    )
    try:
        client = await request.app.state.temporal.client()
        receipt = await answer_follow_up(client, mission.id, answer)
    except (Refused, Unavailable) as refusal:
        if form is None:
            raise
        return _follow_up_page(
            request, mission, person, given, number, values=values, refusal=refusal
        )
    if form is None:
        return _answer_json(receipt)
    again = _follow_up_link(request, mission, given, number)
    return _saved_page(request, mission, receipt, again=again, survey=number)


@router.get(
    "/feedback/responses",
    response_model=FeedbackResponses,
    dependencies=[Coordinator],
    summary="Every feedback answer, with its consent to publish, and who has not answered",
)
async def feedback_responses(mission: MissionRow, session: SessionDep) -> FeedbackResponses:
    file = MissionFile.model_validate(mission.file)
    people = {p.id: p for p in await participants.everyone(session, mission.id)}
    names = await _names(session, mission.id)
    rows = (
        await session.exec(
            select(Feedback)
            .where(Feedback.mission_id == mission.id)
            .order_by(col(Feedback.submitted_at))
        )
    ).all()
    answered = {row.respondent_id for row in rows}
    return FeedbackResponses(
        closes_at=file.feedback_closes_at,
        asked=len(people),
        answered=len(answered),
        not_answered=sorted(
            (p.name for p in people.values() if p.id not in answered), key=str.casefold
        ),
        responses=[
            FeedbackResponse(
                respondent_id=row.respondent_id,
                respondent_kind=row.respondent_kind,
                organisation=names.get(row.respondent_id, ""),
                rating_matchmaking=row.rating_matchmaking,
                rating_visits=row.rating_visits,
                rating_organisation=row.rating_organisation,
                met_partners=row.met_partners,
                testimonial=row.testimonial,
                consent_to_publish=row.consent_to_publish,
                publishable=publishable_testimonial(row) is not None,
                late=row.late,
                submitted_at=row.submitted_at,
                updated_at=row.updated_at,
            )
            for row in rows
        ],
    )


@router.get(
    "/follow-up/responses",
    response_model=list[FollowUpResponse],
    dependencies=[Coordinator],
    summary="Every answer to the follow-up surveys",
)
async def follow_up_responses(mission: MissionRow, session: SessionDep) -> list[FollowUpResponse]:
    names = await _names(session, mission.id)
    rows = (
        await session.exec(
            select(FollowUpAnswer)
            .where(FollowUpAnswer.mission_id == mission.id)
            .order_by(col(FollowUpAnswer.survey), col(FollowUpAnswer.submitted_at))
        )
    ).all()
    return [
        FollowUpResponse(organisation=names.get(row.application_id, ""), **row.model_dump())
        for row in rows
    ]


async def _respondent(
    session: AsyncSession,
    settings: Settings,
    mission_id: str,
    token: str | None,
    *,
    delegates_only: bool = False,
) -> Participant:
    """The confirmed delegate or host whose private link this is; 404 for any other."""
    if token:
        secret = settings.link_secret()
        for person in await participants.everyone(session, mission_id):
            if delegates_only and person.kind != DELEGATE:
                continue
            kind = "host" if person.kind == HOST else "application"
            if token_matches(secret, person.id, token, kind=kind):
                return person
    raise HTTPException(status.HTTP_404_NOT_FOUND, "No respondent of this mission for this link.")


async def _body(request: Request) -> tuple[FormData | None, Any]:
    """The form posted by the page, or the JSON document of an API client."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "At most 64 KiB.")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        return await request.form(max_files=0), None
    if media_type != "application/json":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Send application/json or a form."
        )
    try:
        return None, json.loads(await request.body())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": f"The body is not valid JSON: {error}", "type": "json"}]
        ) from None


def _survey(mission: Mission, survey: int | None) -> int:
    count = len(MissionFile.model_validate(mission.file).reporting.follow_up)
    if survey is None:
        raise RequestValidationError(
            [{"loc": ("query", "survey"), "msg": "Name the survey: ?survey=1.", "type": "missing"}]
        )
    if survey > count:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"This mission has {count} surveys.")
    return survey


def _answer_json(receipt: AnswerReceipt) -> JSONResponse:
    answer = Answer(
        respondent_id=receipt.respondent_id,
        created=receipt.created,
        changed=receipt.changed,
        late=receipt.late,
    )
    code = status.HTTP_201_CREATED if receipt.created else status.HTTP_200_OK
    return JSONResponse(answer.model_dump(mode="json"), code)


def _located(error: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]} for e in error.errors()
    ]


# The HTML forms


RATINGS = ("rating_matchmaking", "rating_visits", "rating_organisation")
COUNTS = ("agreements", "distribution_deals", "mous", "revisits")


def _feedback_fields(form: FormData) -> dict[str, Any]:
    """A browser sends every field, unanswered ones as "": those are no answer."""
    fields: dict[str, Any] = {
        name: value for name in RATINGS if (value := form.get(name)) not in (None, "")
    }
    met = form.get("met_partners")
    if met not in (None, ""):
        fields["met_partners"] = {"yes": True, "no": False}.get(str(met), met)
    fields["testimonial"] = form.get("testimonial") or None
    fields["consent_to_publish"] = form.get("consent_to_publish") is not None
    return fields


def _follow_up_fields(form: FormData) -> dict[str, Any]:
    fields: dict[str, Any] = {name: form.get(name) or 0 for name in COUNTS}
    fields["expected_revenue_eur"] = form.get("expected_revenue_eur") or None
    fields["comments"] = form.get("comments") or None
    return fields


def _typed(form: FormData) -> dict[str, str]:
    """What the respondent typed, to fill the form again."""
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


def _feedback_values(row: Feedback | None) -> dict[str, str]:
    """A stored answer as the form's fields, to amend it."""
    if row is None:
        return {}
    values = {name: str(getattr(row, name)) for name in RATINGS if getattr(row, name) is not None}
    if row.met_partners is not None:
        values["met_partners"] = "yes" if row.met_partners else "no"
    values["testimonial"] = row.testimonial or ""
    if row.consent_to_publish:
        values["consent_to_publish"] = "on"
    return values


def _follow_up_values(row: FollowUpAnswer | None) -> dict[str, str]:
    if row is None:
        return {}
    values = {name: str(getattr(row, name)) for name in COUNTS}
    if row.expected_revenue_eur is not None:
        values["expected_revenue_eur"] = f"{row.expected_revenue_eur:g}"
    values["comments"] = row.comments or ""
    return values


def _field_errors(error: ValidationError) -> dict[str, str]:
    """One sentence per field, as a respondent reads it."""
    errors: dict[str, str] = {}
    for e in error.errors():
        name = str(e["loc"][0]) if e["loc"] else ""
        if e["type"] in ("int_parsing", "float_parsing", "bool_parsing"):
            message = "Please give a number." if e["type"] != "bool_parsing" else "Yes or no."
        elif name in RATINGS:
            message = "Choose a rating from 1 to 5."
        else:
            message = str(e["msg"]).removeprefix("Value error, ")
            message = message[:1].upper() + message[1:].rstrip(".") + "."
        errors.setdefault(name, message)
    return errors


def _feedback_link(request: Request, mission: Mission, token: str | None) -> str:
    path = request.url_for("feedback_form", mission_id=mission.id).path
    return f"{path}?token={token}"


def _follow_up_link(request: Request, mission: Mission, token: str | None, survey: int) -> str:
    path = request.url_for("follow_up_form", mission_id=mission.id).path
    return f"{path}?token={token}&survey={survey}"


def _refused(refusal: Refused | Unavailable) -> tuple[str, int]:
    if isinstance(refusal, Unavailable):
        return f"{refusal} Please send the form again in a moment.", 503
    codes = {CONFLICT: status.HTTP_409_CONFLICT, NOT_FOUND: status.HTTP_404_NOT_FOUND}
    return str(refusal), codes.get(refusal.kind, status.HTTP_422_UNPROCESSABLE_CONTENT)


def _feedback_page(
    request: Request,
    mission: Mission,
    person: Participant,
    token: str | None,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    refusal: Refused | Unavailable | None = None,
) -> HTMLResponse:
    file = MissionFile.model_validate(mission.file)
    general, code = _refused(refusal) if refusal is not None else (None, 200)
    if errors:
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
    closes_at = file.feedback_closes_at
    return templates.TemplateResponse(
        request,
        "feedback.html",
        {
            "mission": file,
            "organisation": person.name,
            "host": person.kind == HOST,
            "ask_matchmaking": file.matchmaking is not None,
            "ask_visits": person.kind == DELEGATE and bool(file.visits),
            "closes": describe(closes_at, file.timezone, end_of_day=True),
            "closed": closes_at <= datetime.now(UTC),
            "ended": mission.phase in ENDED,
            "action": _feedback_link(request, mission, token),
            "values": values,
            "answered": bool(values) and not errors and refusal is None,
            "errors": errors or {},
            "general": general,
        },
        status_code=code,
        headers=CONFIRMATION_HEADERS,
    )


def _follow_up_page(
    request: Request,
    mission: Mission,
    person: Participant,
    token: str | None,
    survey: int,
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    refusal: Refused | Unavailable | None = None,
) -> HTMLResponse:
    file = MissionFile.model_validate(mission.file)
    general, code = _refused(refusal) if refusal is not None else (None, 200)
    if errors:
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
    closes_at = answers_close_at(file)
    return templates.TemplateResponse(
        request,
        "follow_up.html",
        {
            "mission": file,
            "organisation": person.name,
            "survey": survey,
            "surveys": len(file.reporting.follow_up),
            "closes": describe(closes_at, file.timezone, end_of_day=True) if closes_at else None,
            "ended": mission.phase in ENDED,
            "action": _follow_up_link(request, mission, token, survey),
            "values": values,
            "answered": bool(values) and not errors and refusal is None,
            "errors": errors or {},
            "general": general,
        },
        status_code=code,
        headers=CONFIRMATION_HEADERS,
    )


def _saved_page(
    request: Request,
    mission: Mission,
    receipt: AnswerReceipt,
    *,
    again: str,
    survey: int | None = None,
) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        "answer_saved.html",
        {
            "mission": MissionFile.model_validate(mission.file),
            "receipt": receipt,
            "survey": survey,
            "again": again,
        },
        status_code=status.HTTP_201_CREATED if receipt.created else status.HTTP_200_OK,
        headers=CONFIRMATION_HEADERS,
    )


async def _feedback_row(
    session: AsyncSession, mission_id: str, respondent_id: uuid.UUID
) -> Feedback | None:
    return (
        await session.exec(
            select(Feedback).where(
                Feedback.mission_id == mission_id, Feedback.respondent_id == respondent_id
            )
        )
    ).first()


async def _follow_up_row(
    session: AsyncSession, mission_id: str, application_id: uuid.UUID, survey: int
) -> FollowUpAnswer | None:
    return (
        await session.exec(
            select(FollowUpAnswer).where(
                FollowUpAnswer.mission_id == mission_id,
                FollowUpAnswer.application_id == application_id,
                FollowUpAnswer.survey == survey,
            )
        )
    ).first()


async def _names(session: AsyncSession, mission_id: str) -> dict[uuid.UUID, str]:
    """Every applicant's and host's name, whatever became of their seat since they answered."""
    hosts = (
        await session.exec(select(Host.id, Host.name).where(Host.mission_id == mission_id))
    ).all()
    apps = (
        await session.exec(
            select(Application.id, Application.organisation).where(
                Application.mission_id == mission_id
            )
        )
    ).all()
    return {**dict(apps), **dict(hosts)}
