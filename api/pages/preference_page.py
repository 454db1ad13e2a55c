"""A participant's preference list as a page, by their private link: everyone of the other side,
each with a small form (no script) to mark them must meet, would like or no thanks, or to clear
the mark. The forms post to the same address; a mark goes to the mission workflow through the
same Update as the JSON route's (`api.routes.preferences`), so both are refused alike.

Only the participant's own marks are on the page: nobody sees what the other side marked about
them (`missionflow.domain.matchmaking.preferences`).
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import MissionRow, PrivateLinkDep, SessionDep, TemporalDep
from api.pages.answers import refused
from api.pages.rendering import CONFIRMATION_HEADERS, LanguageQuery, language_links, page_language
from api.pages.rendering import templates as pages
from api.reads import matchmaking_event
from api.routes.preferences import own_side, send_mark
from api.updates import Refused, Unavailable
from missionflow.domain.matchmaking.preferences import MARKS
from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime import participants
from missionflow.runtime.i18n import N_, country, translate, when
from missionflow.runtime.models import Mission
from missionflow.runtime.preference_marks import own_marks

router = APIRouter(prefix="/missions/{mission_id}", tags=["matchmaking"])

_CHOOSE_A_MARK = N_("Choose one of the marks.")
_NOT_ON_THE_LIST = N_("This participant is not on your list.")


@router.get(
    "/participants/{participant_id}/preference-list",
    response_class=HTMLResponse,
    name="preference_list_page",
    summary="A participant's preference list with its forms (HTML, private link or coordinator)",
)
async def preference_list_page(
    mission: MissionRow,
    participant_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    link: PrivateLinkDep,
    lang: LanguageQuery = None,
    saved: bool = False,
) -> HTMLResponse:
    event = matchmaking_event(mission)
    side = await own_side(session, link, mission.id, participant_id)
    show = (request, session, mission, event, participant_id, side, link.token, lang)
    return await _page(*show, saved=saved)


@router.post(
    "/participants/{participant_id}/preference-list",
    response_class=HTMLResponse,
    summary="Set or clear a mark from the preference list's page (HTML form)",
    responses={
        303: {"description": "Saved: back to the page"},
        409: {"description": "The lists are not open"},
        422: {"description": "A mark or a participant the form does not offer"},
    },
)
async def post_mark(
    mission: MissionRow,
    participant_id: uuid.UUID,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    link: PrivateLinkDep,
    lang: LanguageQuery = None,
) -> Response:
    """Form fields `other_id` and `mark` (empty: clear it)."""
    event = matchmaking_event(mission)
    side = await own_side(session, link, mission.id, participant_id)
    form = await request.form()
    mark, other = str(form.get("mark") or ""), str(form.get("other_id") or "")
    others = {str(p.id) for p in await participants.everyone(session, mission.id) if p.kind != side}
    errors = {}
    if other not in others:
        errors["other_id"] = _NOT_ON_THE_LIST
    if mark and mark not in MARKS:
        errors["mark"] = _CHOOSE_A_MARK
    show = (request, session, mission, event, participant_id, side, link.token, lang)
    if errors:
        return await _page(*show, errors=errors)
    try:
        await send_mark(client, mission.id, participant_id, uuid.UUID(other), mark or None)
    except (Refused, Unavailable) as refusal:
        return await _page(*show, refusal=refusal)
    return RedirectResponse(
        f"{_address(request, mission, participant_id, link.token, lang)}&saved=true",
        status_code=status.HTTP_303_SEE_OTHER,
        headers=CONFIRMATION_HEADERS,
    )


def _address(
    request: Request, mission: Mission, pid: uuid.UUID, token: str | None, lang: str | None
) -> str:
    path = request.url_for("preference_list_page", mission_id=mission.id, participant_id=pid)
    query = f"?token={token or ''}" + (f"&lang={lang}" if lang else "")
    return f"{path.path}{query}"


async def _page(
    request: Request,
    session: AsyncSession,
    mission: Mission,
    event: Matchmaking,
    participant_id: uuid.UUID,
    side: str,
    token: str | None,
    lang: str | None,
    *,
    saved: bool = False,
    errors: dict[str, str] | None = None,
    refusal: Refused | Unavailable | None = None,
) -> HTMLResponse:
    file = MissionFile.model_validate(mission.file)
    people = await participants.everyone(session, mission.id)
    mine = {row.other_id: row.mark for row in await own_marks(session, mission.id, participant_id)}
    person = next((p for p in people if p.id == participant_id), None)
    language = page_language(request, file, lang, stored=person.language if person else None)
    general, code = refused(refusal, language, file.timezone) if refusal else (None, 200)
    if errors:
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
    rows: list[dict[str, Any]] = [
        {
            "id": str(p.id),
            "name": p.name,
            "country": country(p.country, language),
            "line": p.line,
            "mark": mine.get(p.id, ""),
        }
        for p in sorted(people, key=lambda p: p.name.casefold())
        if p.kind != side
    ]
    return pages.TemplateResponse(
        request,
        "preference_list.html",
        {
            "mission": file,
            "language": language,
            "languages": language_links(request, file),
            "event": event,
            "name": person.name if person else "",
            "closes": when(event.preferences_deadline, event.timezone, language)
            if event.preferences_deadline
            else None,
            "rows": rows,
            "action": _address(request, mission, participant_id, token, lang),
            "saved": saved and not errors and refusal is None,
            "errors": {k: translate(language, v) for k, v in (errors or {}).items()},
            "general": general,
        },
        status_code=code,
        headers=CONFIRMATION_HEADERS,
    )
