"""GET /missions/{id}/participants/{pid}/agenda: a participant's agenda as a page, by their
private link: their meetings, the calendar file, and the QR code of their check-in link with the
code written under it, to show at the desk on the day (`missionflow.runtime.check_ins`).

The QR code is inline SVG drawn in the process (no image fetched, nothing the page's Content
Security Policy has to allow). The page speaks the participant's language (`page_language`).
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from api.deps import MissionRow, PrivateLinkDep, SessionDep, SettingsDep
from api.pages.rendering import CONFIRMATION_HEADERS, LanguageQuery, language_links, page_language
from api.pages.rendering import templates as pages
from api.reads import matchmaking_event
from api.routes.meetings import participant_side
from missionflow.domain.matchmaking import agenda
from missionflow.domain.matchmaking.check_in import check_in_code
from missionflow.domain.matchmaking.rules import slots_of
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime import participants
from missionflow.runtime.check_ins import check_in_url, qr_svg
from missionflow.runtime.i18n import breaks_said, country, day, translate

router = APIRouter(prefix="/missions/{mission_id}", tags=["matchmaking"])


@router.get(
    "/participants/{participant_id}/agenda",
    response_class=HTMLResponse,
    summary="A participant's agenda and check-in QR code (HTML, private link or coordinator)",
)
async def agenda_page(
    mission: MissionRow,
    participant_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    link: PrivateLinkDep,
    lang: LanguageQuery = None,
) -> HTMLResponse:
    event = matchmaking_event(mission)
    if not link.coordinator:
        await participant_side(session, link, mission.id, participant_id)
    people = {p.id: p for p in await participants.everyone(session, mission.id)}
    person = people.get(participant_id)
    if person is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such participant.")
    file = MissionFile.model_validate(mission.file)
    language = page_language(request, file, lang, stored=person.language)
    mine = (await participants.agendas(session, mission.id, event, people))[participant_id]
    rows = agenda.agenda_rows(mine, day=lambda value, year: day(value, language, year))
    for row, item in zip(rows, mine.items, strict=True):
        row["with_country"] = country(item.with_country, language)
    code = check_in_code(settings.link_secret(), participant_id)
    title = translate(language, "Your check-in code: %(code)s", code=code)
    token = f"?token={link.token}" if link.token else ""
    return pages.TemplateResponse(
        request,
        "participant_agenda.html",
        {
            "mission": file,
            "language": language,
            "languages": language_links(request, file),
            "event": event,
            "name": person.name,
            "rows": rows,
            "breaks": breaks_said(
                agenda.agenda_breaks(mine.items, slots_of(event)), event.timezone, language
            )
            if mine.items
            else "",
            "ics_url": f"/missions/{mission.id}/participants/{participant_id}/agenda.ics{token}",
            "code": code,
            # segno writes the SVG from the link alone: no text of ours but the escaped title.
            "qr": Markup(qr_svg(check_in_url(settings, mission.id, participant_id), title=title)),
        },
        headers=CONFIRMATION_HEADERS,
    )
