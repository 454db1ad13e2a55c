"""How every page is rendered: one autoescaping Jinja2 environment over `api/templates`, the
language each page speaks, and the headers the public forms are served with.

A page speaks the `language` its context gives (English when none): `_()`, `{% trans %}`, and
the `when`, `number` and `local` filters follow it (`missionflow.runtime.i18n`). Every page
chooses it with `page_language`, so the apply form and the pages opened by private link agree
on what `?lang=` and the browser's `Accept-Language` mean."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Query, Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from missionflow.domain.mission.file import MissionFile
from missionflow.runtime import i18n
from missionflow.runtime.settings import Settings

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"

_environment = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
i18n.install(_environment)
templates = Jinja2Templates(env=_environment)

FORM_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
}
"""The public forms (apply, feedback, follow-up): no script, posted to this origin only."""
CONFIRMATION_HEADERS = {**FORM_HEADERS, "Cache-Control": "no-store"}
"""A confirmation or a form opened by private link carries the link: never kept in a cache."""

LanguageQuery = Annotated[
    str | None, Query(description="One of the mission's languages, for the page to speak.")
]
"""`?lang=`: where a page's language switch links to."""


def page_language(
    request: Request, mission: MissionFile, asked: str | None, *, stored: str | None = None
) -> str:
    """The language a page speaks, among the mission's: the one asked for with `?lang=` (the
    switch), else the one stored for the person the page is for (the language they applied in),
    else the first of their browser's `Accept-Language` the mission speaks, else its default.

    A person without a stored language (a host, someone applying) is thus spoken to as their
    browser asks, and an applicant keeps their choice on any device until they switch."""
    if asked not in mission.languages:
        asked = stored
    return i18n.choose(
        mission.languages, asked=asked, accept_language=request.headers.get("accept-language")
    )


def language_links(request: Request, mission: MissionFile) -> list[tuple[str, str, str]]:
    """The switch to the mission's languages: (code, name in itself, this page in it). Every
    other parameter of the address is kept, the private link's token first of all."""
    links = []
    for code in mission.languages:
        url = request.url.include_query_params(lang=code)
        links.append((code, i18n.language_name(code), f"{url.path}?{url.query}"))
    return links


def temporal_ui(request: Request, settings: Settings) -> str:
    """The Temporal UI as this browser reaches it: the configured URL, else the dev server's UI
    port on the host name the browser came by (a cookie set for one name is not sent to the
    other, and a link to localhost from 127.0.0.1 would lose the codec sign-in)."""
    host = request.url.hostname or "localhost"
    return str(settings.temporal_ui_url or f"http://{host}:{settings.temporal_ui_port}")
