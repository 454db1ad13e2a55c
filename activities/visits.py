"""The visits' effects: places written down, the itinerary, the day-before reminders, changes
told to the delegates concerned, and attendance.

The workflow decides every place and passes the visits as they stand (coordinators change them
after the mission file was written), so these only record and tell, under outbox keys that
make a retried activity send nothing twice.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.applications import mission_file
from missionflow.domain.mission.event_sections import Visit
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.refusals import CONFLICT
from missionflow.domain.visits import itinerary
from missionflow.domain.visits.messages import VisitNotice, VisitPlace, VisitReceipt
from missionflow.domain.visits.rules import REGISTERED, WAITLISTED
from missionflow.runtime import participants
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.i18n import N_, translate, visit_span
from missionflow.runtime.mail import context as mail
from missionflow.runtime.mail.outbox import Attachment, sender_domain
from missionflow.runtime.models import Application, Mission, VisitRegistration
from missionflow.runtime.settings import Settings


class VisitActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="record_visit_places")
    async def record_visit_places(self, notice: VisitNotice) -> None:
        """Places as the workflow decided them; a delegate promoted from a waitlist is told."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            for place in notice.changes:
                row = await _registration(
                    session, notice.mission_id, place.visit_id, place.application_id
                )
                promoted = (
                    row is not None and row.status == WAITLISTED and place.status == REGISTERED
                )
                if row is None:
                    row = VisitRegistration(
                        mission_id=notice.mission_id,
                        visit_id=place.visit_id,
                        application_id=place.application_id,
                        status=place.status,
                        registered_at=place.at,
                        updated_at=place.at,
                    )
                row.status, row.updated_at = place.status, place.at
                session.add(row)
                if promoted:
                    await self._tell_promoted(session, mission, notice, place)
            await _renumber(session, notice)

    async def _tell_promoted(
        self, session: AsyncSession, mission: MissionFile, notice: VisitNotice, place: VisitPlace
    ) -> None:
        visit = _visit(notice.visits, place.visit_id)
        delegate = await session.get(Application, place.application_id)
        assert delegate is not None
        await mail.post(
            session,
            mission,
            self._settings,
            template="visit_promoted",
            recipient=delegate.contact_email,
            recipient_name=delegate.contact_name,
            context={"visit": shown(notice.visits, delegate.language)[notice.visits.index(visit)]},
            key=f"visit_promoted:{visit.id}:{delegate.id}:{place.at.isoformat()}",
            application_id=delegate.id,
            language=delegate.language,
        )

    @activity.defn(name="send_itinerary")
    async def send_itinerary(self, notice: VisitNotice) -> int:
        """Every confirmed delegate gets every visit, with their place on each and one calendar
        file; returns how many were written to the outbox."""
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            calendar = self._calendar(
                mission, notice.visits, notice, "itinerary", sequences=notice.sequences
            )
            delegates = await participants.delegation(session, mission.id)
            for number, delegate in enumerate(delegates, start=1):
                statuses = _statuses(notice.places, delegate.id)
                await mail.post(
                    session,
                    mission,
                    self._settings,
                    template="itinerary",
                    recipient=delegate.contact_email,
                    recipient_name=delegate.contact_name,
                    context={
                        "visits": shown(notice.visits, delegate.language, statuses),
                        "visits_url": mail.visits_url(self._settings, mission.id, delegate.id),
                    },
                    key=f"itinerary:{delegate.id}",
                    application_id=delegate.id,
                    language=delegate.language,
                    attachments=[calendar],
                )
                if number % 50 == 0:
                    activity.heartbeat(number)
            return len(delegates)

    @activity.defn(name="remind_visit")
    async def remind_visit(self, notice: VisitNotice) -> int:
        """The day before, the registered delegates get the address, the meeting point and
        what to bring."""
        visit = _visit(notice.visits, notice.visit_id)
        index = notice.visits.index(visit)
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            return await self._tell_places(
                session,
                mission,
                visit,
                notice,
                template="visit_reminder",
                key=f"visit_reminder:{visit.id}@{visit.starts_at.isoformat()}",
                context=lambda language: {"visit": shown(notice.visits, language)[index]},
                reminder=True,
            )

    @activity.defn(name="record_visit_change")
    async def record_visit_change(self, notice: VisitNotice) -> int:
        """Keep the mission's stored file in step with the workflow, and tell every delegate
        holding a place (or waiting for one) what changed, with the calendar event updated."""
        change = notice.change
        assert change is not None
        visit = _visit(notice.visits, notice.visit_id)
        async with transaction(self._sessions) as session:
            stored = await session.get(Mission, notice.mission_id, with_for_update=True)
            assert stored is not None
            before = _visit(
                [Visit.model_validate(v) for v in stored.file.get("visits", [])], visit.id
            )
            stored.file = {
                **stored.file,
                "visits": [
                    visit.model_dump(mode="json") if v["id"] == visit.id else v
                    for v in stored.file.get("visits", [])
                ],
            }
            stored.updated_at = notice.at
            session.add(stored)
            await session.flush()
            mission = await mission_file(session, notice.mission_id, fresh=True)
            index = notice.visits.index(visit)
            return await self._tell_places(
                session,
                mission,
                visit,
                notice,
                template="visit_changed",
                key=f"visit_changed:{visit.id}:{notice.sequence}",
                context=lambda language: {
                    "visit": shown(notice.visits, language)[index],
                    "before": shown([*notice.visits[:index], before], language)[index],
                    "note": change.note,
                },
            )

    @activity.defn(name="record_visit_attendance")
    async def record_visit_attendance(self, notice: VisitNotice) -> VisitReceipt:
        attendance = notice.attendance
        assert attendance is not None
        async with transaction(self._sessions) as session:
            row = await _registration(
                session, notice.mission_id, attendance.visit_id, attendance.application_id
            )
            if row is None or row.status != REGISTERED:
                raise ApplicationError(
                    "This delegate holds no place on the visit.", type=CONFLICT, non_retryable=True
                )
            changed = row.attendance != attendance.attendance
            row.attendance, row.attendance_at = attendance.attendance, notice.at
            session.add(row)
            return VisitReceipt(
                visit_id=row.visit_id,
                application_id=row.application_id,
                status=attendance.attendance,
                changed=changed,
            )

    def _calendar(
        self,
        mission: MissionFile,
        visits: list[Visit],
        notice: VisitNotice,
        name: str,
        *,
        sequences: dict[str, int],
    ) -> Attachment:
        return Attachment(
            filename=f"{mission.id}-{name}.ics",
            content_type="text/calendar",
            content=itinerary.ics(
                mission.id,
                visits,
                organiser_email=str(mission.coordinators[0].email),
                domain=sender_domain(self._settings.mail_from),
                sequences=sequences,
                stamp=notice.at,
            ),
        )

    async def _tell_places(
        self,
        session: AsyncSession,
        mission: MissionFile,
        visit: Visit,
        notice: VisitNotice,
        *,
        template: str,
        key: str,
        context: Callable[[str | None], dict[str, Any]],
        reminder: bool = False,
    ) -> int:
        """One email to each delegate of `notice.places`, with the visit's calendar event;
        `key` is completed per delegate (their id), and `context`, given their language, with
        their place's status."""
        calendar = self._calendar(
            mission, [visit], notice, visit.id, sequences={visit.id: notice.sequence}
        )
        ids = [place.application_id for place in notice.places]
        rows = await session.exec(select(Application).where(col(Application.id).in_(ids)))
        delegates = {row.id: row for row in rows.all()}
        for place in notice.places:
            delegate = delegates[place.application_id]
            await mail.post(
                session,
                mission,
                self._settings,
                template=template,
                recipient=delegate.contact_email,
                recipient_name=delegate.contact_name,
                context=context(delegate.language) | {"status": place.status},
                key=f"{key}:{delegate.id}",
                application_id=delegate.id,
                language=delegate.language,
                reminder=reminder,
                attachments=[calendar],
            )
        return len(notice.places)


async def _registration(
    session: AsyncSession, mission_id: str, visit_id: str, application_id: uuid.UUID
) -> VisitRegistration | None:
    return (
        await session.exec(
            select(VisitRegistration)
            .where(VisitRegistration.mission_id == mission_id)
            .where(VisitRegistration.visit_id == visit_id)
            .where(VisitRegistration.application_id == application_id)
        )
    ).first()


async def _renumber(session: AsyncSession, notice: VisitNotice) -> None:
    """Waitlist positions as the workflow orders them (order of arrival)."""
    positions: dict[tuple[str, uuid.UUID], int] = {}
    for place in notice.places:
        if place.status == WAITLISTED:
            waiting = sum(1 for key in positions if key[0] == place.visit_id)
            positions[(place.visit_id, place.application_id)] = waiting + 1
    for visit_id in {place.visit_id for place in notice.changes}:
        rows = (
            await session.exec(
                select(VisitRegistration)
                .where(VisitRegistration.mission_id == notice.mission_id)
                .where(VisitRegistration.visit_id == visit_id)
            )
        ).all()
        for row in rows:
            row.waitlist_position = positions.get((visit_id, row.application_id))
            session.add(row)


VISIT_TITLE = N_("Visit %(number)s of %(count)s: %(city)s")


def shown(
    visits: Sequence[Visit], language: str | None, statuses: dict[str, str] | None = None
) -> list[dict[str, str]]:
    """The visits as `itinerary.rows` gives them, titled and timed in `language`."""
    rows = itinerary.rows(visits, statuses)
    for number, (row, visit) in enumerate(zip(rows, visits, strict=True), start=1):
        row["title"] = translate(
            language, VISIT_TITLE, number=number, count=len(visits), city=visit.city
        )
        row["when"] = visit_span(visit, language)
    return rows


def _statuses(places: Sequence[VisitPlace], application_id: uuid.UUID) -> dict[str, str]:
    statuses: dict[str, str] = {}
    for place in places:
        if place.application_id == application_id:
            statuses[place.visit_id] = place.status
    return statuses


def _visit(visits: Sequence[Visit], visit_id: str | None) -> Visit:
    found = next((visit for visit in visits if visit.id == visit_id), None)
    if found is None:
        raise ApplicationError(f"no visit {visit_id!r} in the notice", non_retryable=True)
    return found
