"""The selection phase's effects: the proposal, the coordinators' review emails, overrides and
approval written with their audit trail, and the decision emails to every applicant.

Each activity is safe to retry: the proposal is written once per mission (a retry returns what
was written), audit events have ids derived from the event, and emails have keys.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from activities.applications import mission_file
from missionflow.domain.call.applications import ApplicationStatus, email_key
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.selection import review
from missionflow.domain.selection.messages import SelectionEntry, SelectionNotice
from missionflow.domain.selection.scoring import Candidate, Decision, propose
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.i18n import N_, country, duration
from missionflow.runtime.mail import context as mail
from missionflow.runtime.models import Application, SelectionDecision, SelectionEvent
from missionflow.runtime.settings import Settings

INCOMPLETE_AT_THE_DEADLINE = N_("The application was incomplete at the deadline.")
"""Why an application not eligible was not selected: the template says it in its applicant's
language."""


class SelectionActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="propose_selection")
    async def propose_selection(self, notice: SelectionNotice) -> list[SelectionEntry]:
        """Score every application, write the proposal and ask the coordinators to review it."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            rows = await _decisions(session, mission.id)
            applications = await _applications(session, mission.id)
            if not rows:
                proposal = propose(
                    mission.selection,
                    mission.call.sectors,
                    [
                        _candidate(a)
                        for a in applications.values()
                        if a.status != ApplicationStatus.WITHDRAWN
                    ],
                )
                for item in proposal:
                    session.add(
                        SelectionDecision(
                            application_id=uuid.UUID(item.candidate.id),
                            mission_id=mission.id,
                            score=item.score.total,
                            breakdown=item.score.breakdown,
                            rank=item.rank,
                            proposed=item.decision.value,
                            decision=item.decision.value,
                            waitlist_position=item.waitlist_position,
                            reasons=list(item.reasons),
                            updated_at=notice.at,
                        )
                    )
                await log_event(
                    session,
                    mission_id=mission.id,
                    at=notice.at,
                    by=notice.by,
                    action="proposed",
                    reason=f"{len(proposal)} applications",
                )
                await session.flush()
                rows = await _decisions(session, mission.id)
            await self._ask_for_review(session, mission, rows, applications, reminder=0)
            return [
                _entry(row, applications[row.application_id])
                for row in rows
                if row.decision in review.IN_PLAY
            ]

    @activity.defn(name="remind_review")
    async def remind_review(self, notice: SelectionNotice) -> None:
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            rows = await _decisions(session, mission.id)
            applications = await _applications(session, mission.id)
            await self._ask_for_review(
                session, mission, rows, applications, reminder=notice.reminder
            )

    @activity.defn(name="record_review")
    async def record_review(self, notice: SelectionNotice) -> None:
        """Write the overrides, and on approval every final decision and its email."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            rows = {row.application_id: row for row in await _decisions(session, mission.id)}
            for override in notice.overrides:
                row = rows[override.application_id]
                await log_event(
                    session,
                    mission_id=mission.id,
                    at=notice.at,
                    by=notice.by,
                    action="overridden",
                    application_id=row.application_id,
                    previous=row.decision,
                    decision=override.decision,
                    reason=override.reason,
                )
                row.decision = override.decision
                row.override_reason = override.reason
            if notice.approved:
                positions = review.waitlist_positions(notice.entries)
                playing = {entry.application_id: entry.decision for entry in notice.entries}
                for row in rows.values():
                    if row.application_id in playing:
                        row.decision = playing[row.application_id]
                    elif row.decision in review.IN_PLAY:
                        row.decision = Decision.NOT_SELECTED.value
                    row.waitlist_position = positions.get(str(row.application_id))
                for seat in notice.seats:
                    rows[seat.application_id].seat = seat.state
                    rows[seat.application_id].respond_by = seat.respond_by
                await log_event(
                    session,
                    mission_id=mission.id,
                    at=notice.at,
                    by=notice.by,
                    action="approved",
                    reason=f"{len(playing)} in play",
                )
            for row in rows.values():
                row.updated_at = notice.at
                session.add(row)
            await session.flush()
            if notice.approved:
                await self._announce_decisions(session, mission, list(rows.values()), notice)

    async def _ask_for_review(
        self,
        session: AsyncSession,
        mission: MissionFile,
        rows: Sequence[SelectionDecision],
        applications: dict[uuid.UUID, Application],
        *,
        reminder: int,
    ) -> None:
        language = mail.coordinators_language(mission)

        def listed(decision: Decision) -> list[dict[str, Any]]:
            chosen = [row for row in rows if row.decision == decision.value]
            return [
                {
                    "organisation": applications[row.application_id].organisation,
                    "country": country(applications[row.application_id].country, language),
                    "score": row.score,
                    "reasons": row.reasons,
                }
                for row in sorted(chosen, key=lambda row: row.waitlist_position or row.rank)
            ]

        selection_url = f"{self._settings.base_url}/missions/{mission.id}/selection"
        for coordinator in mission.coordinators:
            await mail.post(
                session,
                mission,
                self._settings,
                template="selection_review",
                recipient=str(coordinator.email),
                recipient_name=coordinator.name,
                context={
                    "reminder": reminder > 0,
                    "decision_due": mission.selection.decision_due,
                    "capacity": mission.selection.capacity,
                    "eligible": sum(r.proposed != Decision.NOT_ELIGIBLE.value for r in rows),
                    "not_eligible": sum(r.proposed == Decision.NOT_ELIGIBLE.value for r in rows),
                    "selected": listed(Decision.SELECTED),
                    "waitlisted": listed(Decision.WAITLISTED),
                    "selection_url": selection_url,
                    "approve_url": f"{selection_url}/approve",
                },
                key=f"selection_review:{reminder}:{email_key(str(coordinator.email))}",
                reminder=reminder > 0,
                language=language,
            )

    async def _announce_decisions(
        self,
        session: AsyncSession,
        mission: MissionFile,
        rows: Sequence[SelectionDecision],
        notice: SelectionNotice,
    ) -> None:
        """Every applicant still in the call hears the decision: a seat offer, a waitlist
        position, or a courteous no with other opportunities."""
        applications = await _applications(session, mission.id)
        respond_by = {seat.application_id: seat.respond_by for seat in notice.seats}
        waitlist_length = sum(row.decision == Decision.WAITLISTED.value for row in rows)
        opportunities = [
            {"title": o.title, "url": str(o.url), "description": o.description}
            for o in mission.selection.other_opportunities
        ]
        for count, row in enumerate(rows, start=1):
            application = applications[row.application_id]
            if application.status == ApplicationStatus.WITHDRAWN:
                continue
            language = application.language
            context: dict[str, Any] = {
                "application": {
                    "organisation": application.organisation,
                    "contact_name": application.contact_name,
                },
            }
            link = mail.private_url(self._settings, mission.id, application.id)
            match row.decision:
                case Decision.SELECTED.value:
                    template = "selected"
                    context |= {
                        "respond_by": respond_by[row.application_id],
                        "private_url": link,
                        "confirm_within": duration(mission.selection.confirm_within, language),
                    }
                case Decision.WAITLISTED.value:
                    template = "waitlisted"
                    context |= {
                        "position": row.waitlist_position,
                        "waitlist_length": waitlist_length,
                        "private_url": link,
                    }
                case _:
                    template = "not_selected"
                    context |= {
                        "reason": (
                            INCOMPLETE_AT_THE_DEADLINE
                            if row.decision == Decision.NOT_ELIGIBLE.value
                            else None
                        ),
                        "other_opportunities": opportunities,
                    }
            await mail.post(
                session,
                mission,
                self._settings,
                template=template,
                recipient=application.contact_email,
                recipient_name=application.contact_name,
                context=context,
                key=f"{template}:{application.id}",
                application_id=application.id,
                language=language,
            )
            if count % 200 == 0 and activity.in_activity():
                activity.heartbeat(count)


def _candidate(row: Application) -> Candidate:
    return Candidate(
        id=str(row.id),
        organisation=row.organisation,
        country=row.country,
        sectors=tuple(row.sectors),
        organisation_type=row.organisation_type,
        answers=row.answers,
        complete=row.complete,
        missing=tuple(row.missing),
        submitted_at=row.submitted_at,
    )


def _entry(row: SelectionDecision, application: Application) -> SelectionEntry:
    return SelectionEntry(
        application_id=row.application_id,
        country=application.country,
        sector=application.sectors[0] if application.sectors else "",
        rank=row.rank,
        score=row.score,
        decision=row.decision,
    )


async def _applications(session: AsyncSession, mission_id: str) -> dict[uuid.UUID, Application]:
    query = select(Application).where(Application.mission_id == mission_id)
    return {row.id: row for row in (await session.exec(query)).all()}


async def _decisions(session: AsyncSession, mission_id: str) -> list[SelectionDecision]:
    query = (
        select(SelectionDecision)
        .where(SelectionDecision.mission_id == mission_id)
        .order_by(col(SelectionDecision.rank))
    )
    return list((await session.exec(query)).all())


async def log_event(
    session: AsyncSession,
    *,
    mission_id: str,
    at: datetime,
    by: str | None,
    action: str,
    application_id: uuid.UUID | None = None,
    previous: str | None = None,
    decision: str | None = None,
    reason: str | None = None,
) -> None:
    """One audit event, written once however often the activity runs: a retry finds the
    event the first attempt committed and keeps it as it was."""
    identity = f"{mission_id}/{at.isoformat()}/{action}/{application_id}"
    event_id = uuid.uuid5(uuid.NAMESPACE_URL, identity)
    if await session.get(SelectionEvent, event_id) is not None:
        return
    session.add(
        SelectionEvent(
            id=event_id,
            mission_id=mission_id,
            at=at,
            by=by,
            action=action,
            application_id=application_id,
            previous=previous,
            decision=decision,
            reason=reason,
        )
    )
