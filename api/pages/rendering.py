"""How every page is rendered: one autoescaping Jinja2 environment over `api/templates`, and
the headers the public forms are served with."""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"

templates = Jinja2Templates(
    env=Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=True)
)

FORM_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
}
"""The public forms (apply, feedback, follow-up): no script, posted to this origin only."""
CONFIRMATION_HEADERS = {**FORM_HEADERS, "Cache-Control": "no-store"}
"""A confirmation or a form opened by private link carries the link: never kept in a cache."""
