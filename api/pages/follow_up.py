"""The follow-up surveys months after the event, for a delegate by private link, and what the
form (or a JSON client) posts. What both answer forms share is in `api.pages.answers`."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData

from api.deps import MissionRow, PrivateLinkDep, SessionDep
from api.errors import body_errors
from api.missions import answer_follow_up
from api.pages.answers import (
    ANSWERS,
    ENDED,
    Answer,
    answer_json,
    field_errors,
    form_state,
    posted,
    respondent,
    respondent_language,
    saved_page,
    typed,
)
from api.pages.meeting_ratings import form_ratings, rated_meetings, stored_values
from api.pages.rendering import (
    CONFIRMATION_HEADERS,
    LanguageQuery,
    language_links,
    templates,
)
from api.updates import Refused, Unavailable
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.reporting.feedback import answers_close_at
from missionflow.domain.reporting.meeting_ratings import FOLLOW_UP, FollowUpRatings
from missionflow.domain.reporting.messages import FollowUpInput
from missionflow.runtime.i18n import when
from missionflow.runtime.models import FollowUpAnswer, Mission
from missionflow.runtime.participants import Participant

router = APIRouter(prefix="/missions/{mission_id}", tags=["feedback"])

SurveyQuery = Annotated[int | None, Query(ge=1, description="The survey's number, from 1.")]
Count = Annotated[int, Field(ge=0, le=10_000)]
COUNTS = ("agreements", "distribution_deals", "mous", "revisits")


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
    meeting_ratings: FollowUpRatings = Field(
        default=None,
        description="What became of each meeting (the whole list: a meeting left out has no "
        "rating); absent, the stored ratings stay.",
    )


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
    link: PrivateLinkDep,
    survey: SurveyQuery = None,
    lang: LanguageQuery = None,
) -> HTMLResponse:
    person = await respondent(session, mission.id, link, delegates_only=True)
    language = respondent_language(request, mission, person, lang)
    number = _survey(mission, survey)
    row = await _follow_up_row(session, mission.id, person.id, number)
    values = _follow_up_values(row) | await stored_values(session, mission.id, person.id, FOLLOW_UP)
    meetings = await _meetings(session, mission, person, language)
    return _follow_up_page(
        request, mission, person, link.token, number, language, meetings, values=values
    )


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
    link: PrivateLinkDep,
    survey: SurveyQuery = None,
    lang: LanguageQuery = None,
) -> Response:
    given = link.token
    person = await respondent(session, mission.id, link, delegates_only=True)
    language = respondent_language(request, mission, person, lang)
    meetings = await _meetings(session, mission, person, language)
    form, document = await posted(request)
    values = typed(form) if form is not None else {}
    try:
        body = FollowUpBody.model_validate(
            _follow_up_fields(form) if form is not None else document
        )
    except ValidationError as error:
        if form is None:
            raise body_errors(error.errors()) from None
        number = _survey(mission, survey)
        errors = field_errors(error, language)
        return _follow_up_page(
            request,
            mission,
            person,
            given,
            number,
            language,
            meetings,
            values=values,
            errors=errors,
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
            request,
            mission,
            person,
            given,
            number,
            language,
            meetings,
            values=values,
            refusal=refusal,
        )
    if form is None:
        return answer_json(receipt)
    again = _follow_up_link(request, mission, given, number, language)
    return saved_page(request, mission, receipt, again=again, language=language, survey=number)


def _survey(mission: Mission, survey: int | None) -> int:
    count = len(MissionFile.model_validate(mission.file).reporting.follow_up)
    if survey is None:
        raise RequestValidationError(
            [{"loc": ("query", "survey"), "msg": "Name the survey: ?survey=1.", "type": "missing"}]
        )
    if survey > count:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"This mission has {count} surveys.")
    return survey


def _follow_up_fields(form: FormData) -> dict[str, Any]:
    fields: dict[str, Any] = {name: form.get(name) or 0 for name in COUNTS}
    fields["expected_revenue_eur"] = form.get("expected_revenue_eur") or None
    fields["comments"] = form.get("comments") or None
    fields["meeting_ratings"] = form_ratings(form)
    return fields


def _follow_up_values(row: FollowUpAnswer | None) -> dict[str, str]:
    if row is None:
        return {}
    values = {name: str(getattr(row, name)) for name in COUNTS}
    if row.expected_revenue_eur is not None:
        values["expected_revenue_eur"] = f"{row.expected_revenue_eur:g}"
    values["comments"] = row.comments or ""
    return values


def _follow_up_link(
    request: Request, mission: Mission, token: str | None, survey: int, language: str
) -> str:
    path = request.url_for("follow_up_form", mission_id=mission.id).path
    return f"{path}?token={token}&survey={survey}&lang={language}"


def _follow_up_page(
    request: Request,
    mission: Mission,
    person: Participant,
    token: str | None,
    survey: int,
    language: str,
    meetings: list[dict[str, str]],
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    refusal: Refused | Unavailable | None = None,
) -> HTMLResponse:
    file = MissionFile.model_validate(mission.file)
    shown, code = form_state(values, errors, refusal, language, file.timezone)
    closes_at = answers_close_at(file)
    return templates.TemplateResponse(
        request,
        "follow_up.html",
        {
            "mission": file,
            "language": language,
            "languages": language_links(request, file),
            "organisation": person.name,
            "survey": survey,
            "surveys": len(file.reporting.follow_up),
            "closes": when(closes_at, file.timezone, language, end_of_day=True)
            if closes_at
            else None,
            "ended": mission.phase in ENDED,
            "meetings": meetings,
            "action": _follow_up_link(request, mission, token, survey, language),
            **shown,
        },
        status_code=code,
        headers=CONFIRMATION_HEADERS,
    )


async def _meetings(
    session: AsyncSession, mission: Mission, person: Participant, language: str
) -> list[dict[str, str]]:
    file = MissionFile.model_validate(mission.file)
    return await rated_meetings(session, mission.id, file.timezone, person, language)


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
