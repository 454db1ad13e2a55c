"""Personal agendas after each schedule: sent to those whose agenda changed, with a calendar
file, and remembered so the next schedule tells only what moved."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.matchmaking import agenda
from missionflow.domain.matchmaking.check_in import check_in_code
from missionflow.domain.matchmaking.messages import MatchmakingNotice
from missionflow.domain.matchmaking.rules import DELEGATE, HOST, slots_of
from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime import participants
from missionflow.runtime.check_ins import calendar_line, check_in_url, qr_png
from missionflow.runtime.i18n import breaks_said, country, day
from missionflow.runtime.mail import context as mail
from missionflow.runtime.mail.outbox import Attachment
from missionflow.runtime.models import AgendaSent
from missionflow.runtime.participants import Participant
from missionflow.runtime.settings import Settings

CHECK_IN_QR = "check-in-qr@missionflow"
"""The Content-ID of the check-in QR code the agenda emails show (`cid:` in their HTML)."""


async def send_agendas(
    session: AsyncSession,
    settings: Settings,
    mission: MissionFile,
    event: Matchmaking,
    people: dict[uuid.UUID, Participant],
    notice: MatchmakingNotice,
) -> int:
    """Each participant whose agenda changed since the one last sent gets it by email, with a
    calendar file (cancelled meetings included); what was sent is kept to compare next time.
    Returns how many were sent."""
    built = await participants.agendas(session, mission.id, event, people)
    slots = slots_of(event)
    sent = 0
    for person in people.values():
        mine = built[person.id]
        previous = await session.get(AgendaSent, (mission.id, person.id))
        before = _restored(previous, mine) if previous is not None else None
        if before is not None and before.items == mine.items:
            continue
        if before is None and not mine.items and notice.version > 1:
            continue
        sequence = 0 if previous is None else previous.sequence + 1
        language = person.language
        waits = breaks_said(agenda.agenda_breaks(mine.items, slots), event.timezone, language)
        added, removed, moved = (
            agenda.changed_items(before, mine) if before is not None else ([], [], [])
        )
        context: dict[str, Any] = {
            "event": event.event,
            "venue": event.venue,
            "event_timezone": event.timezone,
            "rows": _rows(mine, mine.items, language),
            "breaks": waits if mine.items else "",
            "ics_attached": True,
            "agenda_url": _agenda_url(settings, mission.id, person),
            "check_in_code": check_in_code(settings.link_secret(), person.id)
            if mine.items
            else None,
            "check_in_qr": f"cid:{CHECK_IN_QR}",
            "agenda_page_url": _agenda_url(settings, mission.id, person, page=True),
        }
        template = "agenda"
        if before is not None:
            template = "agenda_changed"
            context |= {
                "added": _rows(mine, added, language),
                "removed": _rows(mine, removed, language),
                "moved": _rows(mine, moved, language),
            }
        attachments = []
        if mine.items or removed:  # nothing to put in a calendar otherwise
            calendar = agenda.ics(
                mine,
                sequence=sequence,
                organiser_email=str(mission.coordinators[0].email),
                domain=_domain(settings.mail_from),
                cancelled=removed,
                stamp=notice.at,
                note=waits if mine.items else None,
                check_in=calendar_line(settings, mission.id, person.id),
            )
            attachments.append(
                Attachment(
                    filename=f"{mission.id}-agenda.ics",
                    content_type="text/calendar",
                    content=calendar,
                )
            )
        context["ics_attached"] = bool(attachments)
        if mine.items:  # the check-in link's QR code, shown in the HTML body
            url = check_in_url(settings, mission.id, person.id)
            attachments.append(
                Attachment("check-in.png", "image/png", qr_png(url), content_id=CHECK_IN_QR)
            )
        await mail.post(
            session,
            mission,
            settings,
            template=template,
            recipient=person.contact_email,
            recipient_name=person.contact_name,
            context=context,
            key=f"{template}:{person.id}:{sequence}",
            application_id=person.id if person.kind == DELEGATE else None,
            attachments=attachments,
            language=language,
        )
        await session.merge(
            AgendaSent(
                mission_id=mission.id,
                participant_id=person.id,
                sequence=sequence,
                items=[_item_json(item) for item in mine.items],
                sent_at=notice.at,
            )
        )
        sent += 1
    return sent


def _agenda_url(
    settings: Settings, mission_id: str, person: Participant, *, page: bool = False
) -> str:
    """The calendar file, or with `page` the agenda page (which shows the check-in QR code)."""
    link = mail.participant_url(settings, mission_id, person.id, host=person.kind == HOST)
    token = link.partition("?")[2]
    name = "agenda" if page else "agenda.ics"
    return f"{settings.base_url}/missions/{mission_id}/participants/{person.id}/{name}?{token}"


def _rows(
    whole: agenda.Agenda, items: Sequence[agenda.AgendaItem], language: str | None
) -> list[dict[str, str]]:
    """Meetings of `whole` as the templates show them, days and countries in `language`."""
    rows = agenda.agenda_rows(
        replace(whole, items=tuple(items)),
        day=lambda value, with_year: day(value, language, with_year),
    )
    for row, item in zip(rows, items, strict=True):
        row["with_country"] = country(item.with_country, language)
    return rows


def _item_json(item: agenda.AgendaItem) -> dict[str, Any]:
    return {
        "meeting_id": item.meeting_id,
        "start": item.start.isoformat(),
        "end": item.end.isoformat(),
        "table": item.table,
        "with_name": item.with_name,
        "with_country": item.with_country,
        "with_line": item.with_line,
        "table_name": item.table_name,
        "location": item.location,
        "video_link": item.video_link,
    }


def _restored(previous: AgendaSent, current: agenda.Agenda) -> agenda.Agenda:
    items = tuple(
        agenda.AgendaItem(
            meeting_id=item["meeting_id"],
            start=datetime.fromisoformat(item["start"]),
            end=datetime.fromisoformat(item["end"]),
            table=item["table"],
            with_name=item["with_name"],
            with_country=item["with_country"],
            with_line=item["with_line"],
            # agendas sent before tables had names and meetings links have none
            table_name=item.get("table_name"),
            location=item.get("location"),
            video_link=item.get("video_link"),
        )
        for item in previous.items
    )
    return replace(current, items=items)


def _domain(sender: str) -> str:
    return sender.rsplit("@", 1)[-1].strip("> ") or "missionflow.local"
