"""The call's communications: announcement, reminders, extensions, closing, cancellation.

Each activity writes its emails to the outbox under keys that name the occasion (the deadline and
the reminder's offset), so a retried or replayed activity queues nothing twice, and a reminder
planned against an extended deadline is a new message.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from activities.applications import mission_file
from missionflow.domain.call.applications import ApplicationStatus, email_key
from missionflow.domain.call.messages import CallNotice, CallSummary, InviteeNotice, InviteeReceipt
from missionflow.domain.durations import IsoDuration
from missionflow.domain.mission.call_section import Invitee
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.messages import MissionNotice
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.i18n import country, duration, missing_in
from missionflow.runtime.invitees import invitees_of
from missionflow.runtime.mail import context as mail
from missionflow.runtime.models import Application, InvitedOrganisation, Slide
from missionflow.runtime.settings import Settings

HEARTBEAT_EVERY = 200
T = TypeVar("T")


class CallActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="announce_call")
    async def announce_call(self, notice: CallNotice) -> int:
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            invitees = await invitees_of(session, mission)
            await self._announce(
                session, mission, invitees, mission.call.opens_at or notice.at, notice.deadline
            )
            return len(invitees)

    @activity.defn(name="add_invitees")
    async def add_invitees(self, notice: InviteeNotice) -> InviteeReceipt:
        """Store the invitees not invited yet and, once the call is open, announce it to them.
        A retry finds them stored and announced (by key), and adds and sends nothing again."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            known = {email_key(str(i.email)) for i in await invitees_of(session, mission)}
            new = [i for i in notice.invitees if email_key(str(i.email)) not in known]
            session.add_all(
                InvitedOrganisation(
                    mission_id=mission.id,
                    organisation=invitee.organisation,
                    email=str(invitee.email),
                    email_key=email_key(str(invitee.email)),
                    name=invitee.name,
                    country=invitee.country,
                    added_at=notice.at,
                )
                for invitee in new
            )
            await session.flush()
            if notice.announce:
                await self._announce(session, mission, new, notice.opens, notice.deadline)
            return InviteeReceipt(
                added=len(new),
                already_invited=len(notice.invitees) - len(new),
                announced=len(new) if notice.announce else 0,
            )

    async def _announce(
        self,
        session: AsyncSession,
        mission: MissionFile,
        invitees: list[Invitee],
        opens: datetime,
        deadline: datetime,
    ) -> None:
        for count, invitee in _counted(invitees):
            await mail.post(
                session,
                mission,
                self._settings,
                template="call_announcement",
                recipient=str(invitee.email),
                recipient_name=invitee.name,
                context={
                    "call_opens": opens,
                    "deadline": deadline,
                    "sectors": mission.call.sectors,
                    "apply_url": mail.apply_url(self._settings, mission.id),
                    "require_slide": mission.call.require_slide,
                    "invitee_organisation": invitee.organisation,
                },
                key=f"call_announcement:{email_key(str(invitee.email))}",
            )
            _progress(count)

    @activity.defn(name="send_reminders")
    async def send_reminders(self, notice: CallNotice) -> int:
        """To incomplete applications and to invitees who have not applied."""
        assert notice.reminder is not None
        time_left = IsoDuration.parse(notice.reminder)
        occasion = f"{notice.deadline.isoformat()}:{notice.reminder}"
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            applications = [a for a in await _active(session, mission.id) if not a.complete]
            return await self._tell_call(
                session,
                mission,
                template="deadline_reminder",
                occasion=occasion,
                applications=applications,
                invitees=await _not_applied(session, mission),
                context={"deadline": notice.deadline},
                time_left=time_left,
                reminder=True,
            )

    @activity.defn(name="announce_extension")
    async def announce_extension(self, notice: CallNotice) -> int:
        """To every applicant still in the call and to invitees who have not applied."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            return await self._tell_call(
                session,
                mission,
                template="deadline_extended",
                occasion=notice.deadline.isoformat(),
                applications=await _active(session, mission.id),
                invitees=await _not_applied(session, mission),
                context={
                    "previous_deadline": notice.previous_deadline,
                    "deadline": notice.deadline,
                },
            )

    async def _tell_call(
        self,
        session: AsyncSession,
        mission: MissionFile,
        *,
        template: str,
        occasion: str,
        applications: list[Application],
        invitees: list[Invitee],
        context: dict[str, Any],
        time_left: IsoDuration | None = None,
        reminder: bool = False,
    ) -> int:
        """One message to each application (its private link, what it still misses) and one to
        each invitee who has not applied (the form's link); keyed by the occasion, so once.
        Each application is told in the language it was written in, an invitee in the
        mission's default."""

        def said(language: str) -> dict[str, Any]:
            if time_left is None:
                return context
            return {**context, "time_left": duration(time_left, language)}

        for count, row in _counted(applications):
            await mail.post(
                session,
                mission,
                self._settings,
                template=template,
                recipient=row.contact_email,
                recipient_name=row.contact_name,
                context={
                    **said(row.language),
                    "missing": missing_in(row.missing, mission, row.language),
                    "private_url": mail.private_url(self._settings, mission.id, row.id),
                    "apply_url": None,
                },
                key=f"{template}:{occasion}:{row.id}",
                application_id=row.id,
                reminder=reminder,
                language=row.language,
            )
            _progress(count)
        for invitee in invitees:
            await mail.post(
                session,
                mission,
                self._settings,
                template=template,
                recipient=str(invitee.email),
                recipient_name=invitee.name,
                context={
                    **said(mission.languages[0]),
                    "missing": [],
                    "private_url": None,
                    "apply_url": mail.apply_url(self._settings, mission.id),
                },
                key=f"{template}:{occasion}:{email_key(str(invitee.email))}",
                reminder=reminder,
            )
        return len(applications) + len(invitees)

    @activity.defn(name="close_call")
    async def close_call(self, notice: CallNotice) -> CallSummary:
        """Count what the call received and send the coordinators the figures. Slides staged
        for an application that never came (the API stopped between storing the upload and the
        workflow's answer) can no longer be attached to anything, and are deleted."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            await session.exec(  # type: ignore[call-overload]
                delete(Slide).where(
                    col(Slide.mission_id) == mission.id, col(Slide.application_id).is_(None)
                )
            )
            rows = (
                await session.exec(select(Application).where(Application.mission_id == mission.id))
            ).all()
            summary = call_summary(rows)
            language = mail.coordinators_language(mission)
            by_country = [(country(code, language), n) for code, n in summary.by_country]
            for coordinator in mission.coordinators:
                await mail.post(
                    session,
                    mission,
                    self._settings,
                    template="call_closed",
                    recipient=str(coordinator.email),
                    recipient_name=coordinator.name,
                    context={
                        "deadline": notice.deadline,
                        "total": summary.total,
                        "complete": summary.complete,
                        "incomplete": summary.incomplete,
                        "withdrawn": summary.withdrawn,
                        "by_country": by_country,
                        "by_sector": summary.by_sector,
                        "applications_url": (
                            f"{self._settings.base_url}/missions/{mission.id}/applications"
                        ),
                    },
                    key=f"call_closed:{notice.deadline.isoformat()}:{email_key(str(coordinator.email))}",
                    language=language,
                )
            return summary

    @activity.defn(name="announce_cancellation")
    async def announce_cancellation(self, notice: MissionNotice) -> int:
        """To coordinators, applicants still in the mission (each in the language of their
        application) and invitees."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            applications = await _active(session, mission.id)
            people: dict[str, tuple[str, str | None, Any, str | None]] = {}
            for coordinator in mission.coordinators:
                people[email_key(str(coordinator.email))] = (
                    str(coordinator.email),
                    coordinator.name,
                    None,
                    None,
                )
            for invitee in await invitees_of(session, mission):
                people.setdefault(
                    email_key(str(invitee.email)), (str(invitee.email), invitee.name, None, None)
                )
            for row in applications:
                people[row.email_key] = (row.contact_email, row.contact_name, row.id, row.language)
            for count, (key, (address, name, application_id, language)) in _counted(people.items()):
                await mail.post(
                    session,
                    mission,
                    self._settings,
                    template="mission_cancelled",
                    recipient=address,
                    recipient_name=name,
                    context={"reason": notice.reason, "phase": notice.phase.title},
                    key=f"mission_cancelled:{key}",
                    application_id=application_id,
                    language=language,
                )
                _progress(count)
            return len(people)


def call_summary(rows: Iterable[Application]) -> CallSummary:
    """The figures coordinators read when the call closes; withdrawn applications count apart."""
    rows = list(rows)
    active = [row for row in rows if row.status != ApplicationStatus.WITHDRAWN]
    complete = sum(1 for row in active if row.complete)
    countries = Counter(row.country for row in active)
    sectors = Counter(sector for row in active for sector in row.sectors)
    return CallSummary(
        total=len(active),
        complete=complete,
        incomplete=len(active) - complete,
        withdrawn=len(rows) - len(active),
        by_country=sorted(countries.items(), key=lambda item: (-item[1], item[0])),
        by_sector=sorted(sectors.items(), key=lambda item: (-item[1], item[0])),
    )


async def _active(session: AsyncSession, mission_id: str) -> list[Application]:
    query = select(Application).where(
        Application.mission_id == mission_id,
        Application.status != ApplicationStatus.WITHDRAWN.value,
    )
    return list((await session.exec(query)).all())


async def _not_applied(session: AsyncSession, mission: MissionFile) -> list[Invitee]:
    """Invitees with no application at all: one who applied and withdrew is not chased."""
    query = select(Application.email_key).where(Application.mission_id == mission.id)
    applied = set((await session.exec(query)).all())
    return [
        i for i in await invitees_of(session, mission) if email_key(str(i.email)) not in applied
    ]


def _counted(items: Iterable[T]) -> Iterable[tuple[int, T]]:
    return enumerate(items, start=1)


def _progress(count: int) -> None:
    if count % HEARTBEAT_EVERY == 0 and activity.in_activity():
        activity.heartbeat(count)
