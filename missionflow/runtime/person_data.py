"""Everything a mission keeps about one applicant, gathered for their right of access (GDPR
article 15): the application, the slide's metadata, the emails sent to them, the selection's
decisions about them, their meetings and agenda, visit places, feedback and follow-up answers.

One builder serves the applicant's private link and the coordinators alike, so both see the
same export. Only this person's rows are read; other people appear as what the person was
already shown of them (a meeting's other side as its organisation name, as in the agenda), never
their contact data.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.matchmaking.rules import DELEGATE
from missionflow.runtime import representatives
from missionflow.runtime.models import (
    AgendaSent,
    Application,
    Feedback,
    FollowUpAnswer,
    Host,
    InvitedOrganisation,
    Meeting,
    OutboxMessage,
    SelectionDecision,
    SelectionEvent,
    Slide,
    VisitRegistration,
)
from missionflow.runtime.person_data_export import (
    AgendaData,
    ApplicationData,
    ColleagueData,
    EmailData,
    FeedbackData,
    FollowUpData,
    InvitationData,
    MeetingData,
    PersonData,
    SelectionData,
    SelectionEventData,
    SlideData,
    VisitRegistrationData,
)


async def person_data(
    session: AsyncSession,
    application: Application,
    *,
    base_url: str,
    disclosed: bool,
    now: datetime,
) -> PersonData:
    """Gather the export of one application's person.

    Args:
        session: a read session.
        application: the person's application (already authorised by the caller).
        base_url: the public URL, for the slide's download link.
        disclosed: whether the selection's decision and its log may be shown (the same rule
            as the application's own view: coordinators always, the applicant once approved).
        now: when the export is made, stated in it.
    """
    aid, mission_id = application.id, application.mission_id
    base = f"{base_url}/missions/{mission_id}/applications/{aid}"
    slide = (await session.exec(select(Slide).where(Slide.application_id == aid))).first()
    decision = await session.get(SelectionDecision, aid) if disclosed else None
    events = await _rows(
        session,
        select(SelectionEvent)
        .where(SelectionEvent.application_id == aid)
        .order_by(col(SelectionEvent.at)),
    )
    feedback = (
        await session.exec(
            select(Feedback).where(
                Feedback.mission_id == mission_id,
                Feedback.respondent_kind == DELEGATE,
                Feedback.respondent_id == aid,
            )
        )
    ).first()
    return PersonData(
        exported_at=now,
        application=ApplicationData.model_validate(application, from_attributes=True),
        invitation=await _invitation(session, application),
        slide=SlideData(**slide.model_dump(exclude={"content"}), download_url=f"{base}/slide")
        if slide
        else None,
        emails=[
            EmailData.model_validate(row, from_attributes=True)
            for row in await _emails(session, application)
        ],
        selection=SelectionData.model_validate(decision, from_attributes=True)
        if decision
        else None,
        selection_events=[
            SelectionEventData.model_validate(row, from_attributes=True)
            for row in (events if disclosed else [])
        ],
        meetings=await _meetings(session, mission_id, aid),
        agenda=await _agenda(session, mission_id, aid),
        colleagues=[
            ColleagueData.model_validate(row, from_attributes=True)
            for row in await representatives.of_organisations(session, mission_id, [aid])
        ],
        visit_registrations=[
            VisitRegistrationData.model_validate(row, from_attributes=True)
            for row in await _rows(
                session,
                select(VisitRegistration)
                .where(
                    VisitRegistration.mission_id == mission_id,
                    VisitRegistration.application_id == aid,
                )
                .order_by(col(VisitRegistration.registered_at)),
            )
        ],
        feedback=FeedbackData.model_validate(feedback, from_attributes=True) if feedback else None,
        follow_up_answers=[
            FollowUpData.model_validate(row, from_attributes=True)
            for row in await _rows(
                session,
                select(FollowUpAnswer)
                .where(
                    FollowUpAnswer.mission_id == mission_id,
                    FollowUpAnswer.application_id == aid,
                )
                .order_by(col(FollowUpAnswer.survey)),
            )
        ],
    )


async def _rows(session: AsyncSession, query: Any) -> list[Any]:
    return list((await session.exec(query)).all())


async def _invitation(session: AsyncSession, application: Application) -> InvitationData | None:
    row = (
        await session.exec(
            select(InvitedOrganisation).where(
                InvitedOrganisation.mission_id == application.mission_id,
                InvitedOrganisation.email_key == application.email_key,
            )
        )
    ).first()
    return InvitationData.model_validate(row, from_attributes=True) if row else None


async def _emails(session: AsyncSession, application: Application) -> list[OutboxMessage]:
    """The messages about this application, and those to their address about no application
    (an invitation, a reminder before they applied, a meeting request from a host). Once erased,
    the address is every erased person's: only the application's own messages are theirs."""
    mine = col(OutboxMessage.application_id) == application.id
    if application.erased_at is None:
        mine = or_(
            mine,
            (col(OutboxMessage.application_id).is_(None))
            & (func.lower(OutboxMessage.recipient) == application.contact_email.lower()),
        )
    return await _rows(
        session,
        select(OutboxMessage)
        .where(OutboxMessage.mission_id == application.mission_id)
        .where(mine)
        .order_by(col(OutboxMessage.created_at)),
    )


async def _meetings(session: AsyncSession, mission_id: str, aid: uuid.UUID) -> list[MeetingData]:
    rows: list[Meeting] = await _rows(
        session,
        select(Meeting)
        .where(Meeting.mission_id == mission_id)
        .where(
            or_(
                (col(Meeting.requester_id) == aid) & (col(Meeting.requester_kind) == DELEGATE),
                (col(Meeting.invitee_id) == aid) & (col(Meeting.invitee_kind) == DELEGATE),
            )
        )
        .order_by(col(Meeting.requested_at)),
    )
    names = await _organisation_names(session, mission_id, rows, aid)
    out = []
    for row in rows:
        mine = row.requester_id == aid and row.requester_kind == DELEGATE
        other, kind = (
            (row.invitee_id, row.invitee_kind) if mine else (row.requester_id, row.requester_kind)
        )
        out.append(
            MeetingData(
                **row.model_dump(exclude={"id"}),
                id=row.id,
                requested_by_me=mine,
                with_organisation=names.get(other),
                with_kind=kind,
            )
        )
    return out


async def _organisation_names(
    session: AsyncSession, mission_id: str, meetings: list[Meeting], aid: uuid.UUID
) -> dict[uuid.UUID, str]:
    """The names of the organisations this person meets, and nothing else of them."""
    others = {m.invitee_id if m.requester_id == aid else m.requester_id for m in meetings}
    if not others:
        return {}
    hosts = await _rows(
        session,
        select(Host.id, Host.name).where(Host.mission_id == mission_id, col(Host.id).in_(others)),
    )
    delegates = await _rows(
        session,
        select(Application.id, Application.organisation).where(
            Application.mission_id == mission_id, col(Application.id).in_(others)
        ),
    )
    return {**dict(delegates), **dict(hosts)}


async def _agenda(session: AsyncSession, mission_id: str, aid: uuid.UUID) -> AgendaData | None:
    row = await session.get(AgendaSent, (mission_id, aid))
    return AgendaData.model_validate(row, from_attributes=True) if row else None
