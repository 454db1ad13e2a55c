"""The feedback form after the event, for a delegate or a host by private link, and what it
(or a JSON client) posts. What both answer forms share is in `api.pages.answers`."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.datastructures import FormData

from api.deps import MissionRow, PrivateLinkDep, SessionDep
from api.errors import body_errors
from api.missions import give_feedback
from api.pages.answers import (
    ANSWERS,
    ENDED,
    RATINGS,
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
from missionflow.domain.matchmaking.rules import DELEGATE, HOST
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.reporting.meeting_ratings import EVENT, EventRatings
from missionflow.domain.reporting.messages import FeedbackInput
from missionflow.runtime.i18n import when
from missionflow.runtime.models import Feedback, Mission
from missionflow.runtime.participants import Participant

router = APIRouter(prefix="/missions/{mission_id}", tags=["feedback"])

Rating = Annotated[int, Field(ge=1, le=5)] | None


class FeedbackBody(BaseModel):
    """One whole answer: an amendment sends every field again, as the form does."""

    model_config = ConfigDict(extra="forbid")

    rating_matchmaking: Rating = None
    rating_visits: Rating = None
    rating_organisation: Rating = None
    met_partners: bool | None = None
    testimonial: Annotated[str, Field(max_length=3000)] | None = None
    consent_to_publish: bool = False
    meeting_ratings: EventRatings = Field(
        default=None,
        description="Every meeting's outcome this respondent gives (the whole list: a meeting "
        "left out has no rating); absent, the stored ratings stay.",
    )


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
    link: PrivateLinkDep,
    lang: LanguageQuery = None,
) -> HTMLResponse:
    person = await respondent(session, mission.id, link)
    row = await _feedback_row(session, mission.id, person.id)
    language = respondent_language(request, mission, person, lang)
    values = _feedback_values(row) | await stored_values(session, mission.id, person.id, EVENT)
    meetings = await _meetings(session, mission, person, language)
    return _feedback_page(request, mission, person, link.token, language, meetings, values=values)


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
    link: PrivateLinkDep,
    lang: LanguageQuery = None,
) -> Response:
    given = link.token
    person = await respondent(session, mission.id, link)
    language = respondent_language(request, mission, person, lang)
    meetings = await _meetings(session, mission, person, language)
    form, document = await posted(request)
    values = typed(form) if form is not None else {}
    try:
        body = FeedbackBody.model_validate(_feedback_fields(form) if form is not None else document)
    except ValidationError as error:
        if form is None:
            raise body_errors(error.errors()) from None
        errors = field_errors(error, language)
        return _feedback_page(
            request, mission, person, given, language, meetings, values=values, errors=errors
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
        return _feedback_page(
            request, mission, person, given, language, meetings, values=values, refusal=refusal
        )
    if form is None:
        return answer_json(receipt)
    again = _feedback_link(request, mission, given, language)
    return saved_page(request, mission, receipt, again=again, language=language)


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
    fields["meeting_ratings"] = form_ratings(form)
    return fields


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


def _feedback_link(request: Request, mission: Mission, token: str | None, language: str) -> str:
    path = request.url_for("feedback_form", mission_id=mission.id).path
    return f"{path}?token={token}&lang={language}"


def _feedback_page(
    request: Request,
    mission: Mission,
    person: Participant,
    token: str | None,
    language: str,
    meetings: list[dict[str, str]],
    *,
    values: dict[str, str],
    errors: dict[str, str] | None = None,
    refusal: Refused | Unavailable | None = None,
) -> HTMLResponse:
    file = MissionFile.model_validate(mission.file)
    shown, code = form_state(values, errors, refusal, language, file.timezone)
    closes_at = file.feedback_closes_at
    return templates.TemplateResponse(
        request,
        "feedback.html",
        {
            "mission": file,
            "language": language,
            "languages": language_links(request, file),
            "organisation": person.name,
            "host": person.kind == HOST,
            "ask_matchmaking": file.matchmaking is not None,
            "ask_visits": person.kind == DELEGATE and bool(file.visits),
            "closes": when(closes_at, file.timezone, language, end_of_day=True),
            "closed": closes_at <= datetime.now(UTC),
            "meetings": meetings,
            "ended": mission.phase in ENDED,
            "action": _feedback_link(request, mission, token, language),
            **shown,
        },
        status_code=code,
        headers=CONFIRMATION_HEADERS,
    )


async def _meetings(
    session: AsyncSession, mission: Mission, person: Participant, language: str
) -> list[dict[str, str]]:
    """The meetings to rate, while the feedback is open (ratings close with it)."""
    file = MissionFile.model_validate(mission.file)
    if file.matchmaking is None or file.feedback_closes_at <= datetime.now(UTC):
        return []
    return await rated_meetings(session, mission.id, file.timezone, person, language)


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
