"""Seat changes written down and told: the decision rows, the audit log, and the emails to the
applicant concerned; at the lock, the final delegation to the coordinators with a CSV.

The workflow decides every change (who is promoted, whose window ended); these only record and
tell, under keys and derived ids, so a retried activity repeats nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio import activity

from activities.applications import mission_file
from activities.selection import log_event
from missionflow.domain.call.applications import email_key
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.selection.messages import SeatChange, SeatNotice
from missionflow.runtime.db import sessions, transaction
from missionflow.runtime.i18n import country, duration
from missionflow.runtime.mail import context as mail
from missionflow.runtime.mail.outbox import Attachment
from missionflow.runtime.models import Application, SelectionDecision
from missionflow.runtime.settings import Settings

RELEASES = {"declined", "withdrawn", "expired", "locked"}


class SeatActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="record_seats")
    async def record_seats(self, notice: SeatNotice) -> None:
        async with transaction(self._sessions) as session:
            mission = await mission_file(session, notice.mission_id)
            for change in notice.changes:
                await self._record(session, mission, notice, change)
            if notice.final:
                await self._tell_final(session, mission, notice)

    async def _record(
        self, session: AsyncSession, mission: MissionFile, notice: SeatNotice, change: SeatChange
    ) -> None:
        row = await session.get(SelectionDecision, change.application_id)
        application = await session.get(Application, change.application_id)
        assert row is not None and application is not None
        previous = row.seat
        if change.event == "confirmed":
            row.seat = "confirmed"
        elif change.event == "promoted":
            row.seat, row.decision, row.waitlist_position = "offered", "selected", None
            row.respond_by = change.respond_by
        elif change.event in RELEASES:
            row.seat, row.seat_note = "released", change.event
            if row.decision == "waitlisted":  # withdrew while waiting: leaves the waitlist
                row.decision, row.waitlist_position = "not_selected", None
        row.updated_at = notice.at
        session.add(row)
        if change.event != "reminded":
            await log_event(
                session,
                mission_id=mission.id,
                at=notice.at,
                by=None,
                action=change.event,
                application_id=row.application_id,
                previous=previous,
                decision=row.seat,
            )
        context = {
            "application": {
                "organisation": application.organisation,
                "contact_name": application.contact_name,
            }
        }
        link = mail.private_url(self._settings, mission.id, application.id)
        language = application.language
        match change.event:
            case "promoted":
                template, key = "waitlist_promoted", f"waitlist_promoted:{application.id}"
                context |= {
                    "respond_by": change.respond_by,
                    "private_url": link,
                    "confirm_within": duration(mission.selection.confirm_within, language),
                }
            case "reminded":
                template = "seat_reminder"
                key = f"seat_reminder:{application.id}:{row.respond_by}"
                context |= {"respond_by": row.respond_by, "private_url": link}
            case event if event in RELEASES and previous is not None:  # held a seat
                template, key = "seat_released", f"seat_released:{application.id}"
                context |= {"reason": event, "respond_by": row.respond_by, "at": notice.at}
            case _:
                return
        await mail.post(
            session,
            mission,
            self._settings,
            template=template,
            recipient=application.contact_email,
            recipient_name=application.contact_name,
            context=context,
            key=key,
            application_id=application.id,
            reminder=template == "seat_reminder",
            language=language,
        )

    async def _tell_final(
        self, session: AsyncSession, mission: MissionFile, notice: SeatNotice
    ) -> None:
        rows = (
            await session.exec(
                select(SelectionDecision, Application)
                .join(Application, col(Application.id) == SelectionDecision.application_id)
                .where(SelectionDecision.mission_id == mission.id)
                .where(SelectionDecision.seat == "confirmed")
                .order_by(col(Application.country), col(Application.organisation))
            )
        ).all()
        delegates = [application for _, application in rows]
        released = await session.scalar(
            select(func.count())
            .select_from(SelectionDecision)
            .where(SelectionDecision.mission_id == mission.id)
            .where(SelectionDecision.seat == "released")
        )
        attachment = Attachment(
            filename=f"{mission.id}-delegation.csv",
            content_type="text/csv",
            content=delegation_csv(delegates),
        )
        language = mail.coordinators_language(mission)
        for coordinator in mission.coordinators:
            await mail.post(
                session,
                mission,
                self._settings,
                template="delegation_final",
                recipient=str(coordinator.email),
                recipient_name=coordinator.name,
                context={
                    "locked_at": notice.at,
                    "delegates": [
                        {
                            "organisation": a.organisation,
                            "country": country(a.country, language),
                            "contact_name": a.contact_name,
                            "contact_email": a.contact_email,
                        }
                        for a in delegates
                    ],
                    "released": released or 0,
                    "capacity": mission.selection.capacity,
                    "csv_attached": True,
                },
                key=f"delegation_final:{email_key(str(coordinator.email))}",
                attachments=[attachment],
                language=language,
            )
        await log_event(
            session,
            mission_id=mission.id,
            at=notice.at,
            by=None,
            action="locked",
            reason=f"{len(delegates)} delegates",
        )


def delegation_csv(delegates: Sequence[Application]) -> bytes:
    """The final delegation as a spreadsheet opens it (UTF-8 with a byte-order mark)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["organisation", "country", "city", "contact_name", "contact_email", "sectors"])
    for a in delegates:
        writer.writerow(
            [
                a.organisation,
                a.country,
                a.city,
                a.contact_name,
                a.contact_email,
                "; ".join(a.sectors),
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()
