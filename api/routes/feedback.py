"""The coordinators' view of the answers after the event: every feedback answer with its consent
to publish and who has not answered, every answer to the follow-up surveys, and every meeting
outcome rating with its comment.

Respondents answer through their forms, `api.pages.feedback` and `api.pages.follow_up`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel import col, select

from api.deps import Coordinator, MissionRow, SessionDep
from api.reads import organisation_names
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.reporting.feedback import publishable_testimonial
from missionflow.runtime import meeting_ratings, participants
from missionflow.runtime.models import Feedback, FollowUpAnswer
from missionflow.runtime.person_data_export import FollowUpData

router = APIRouter(prefix="/missions/{mission_id}", tags=["feedback"])


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


class MeetingRatingResponse(BaseModel):
    meeting_id: uuid.UUID
    stage: int = Field(description="1 after the event, 2 at the follow-up surveys.")
    rater_kind: str
    rater_id: uuid.UUID
    rater: str = Field(description="The rater's organisation.")
    outcome: str
    comment: str | None
    updated_at: datetime


class FollowUpResponse(FollowUpData):
    """A delegate's follow-up answers as the coordinator's list shows them: whose they are."""

    application_id: uuid.UUID
    organisation: str


@router.get(
    "/feedback/responses",
    response_model=FeedbackResponses,
    dependencies=[Coordinator],
    summary="Every feedback answer, with its consent to publish, and who has not answered",
)
async def feedback_responses(mission: MissionRow, session: SessionDep) -> FeedbackResponses:
    file = MissionFile.model_validate(mission.file)
    people = {p.id: p for p in await participants.everyone(session, mission.id)}
    names = await organisation_names(session, mission.id)
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
    names = await organisation_names(session, mission.id)
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


@router.get(
    "/meeting-ratings",
    response_model=list[MeetingRatingResponse],
    dependencies=[Coordinator],
    summary="Every meeting outcome rating, with its comment (docs/meeting-ratings.md)",
)
async def meeting_rating_list(
    mission: MissionRow, session: SessionDep
) -> list[MeetingRatingResponse]:
    names = await organisation_names(session, mission.id)
    return [
        MeetingRatingResponse(rater=names.get(row.rater_id, ""), **row.model_dump())
        for row in await meeting_ratings.every_rating(session, mission.id)
    ]
