"""How every page is rendered: one autoescaping Jinja2 environment over `api/templates`, and
the headers the public forms are served with.

A page speaks the `language` its context gives (English when none): `_()`, `{% trans %}`, and
the `when`, `number` and `local` filters follow it (`missionflow.runtime.i18n`)."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

from missionflow.runtime import i18n

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
