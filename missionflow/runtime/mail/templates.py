"""Rendering the messages missionflow sends, from the templates in `email_templates/`.

Every message renders through one autoescaping Jinja environment: an organisation that calls
itself `<script>…` reaches an HTML body as text, never as markup. Plain-text templates are not
escaped (there is nothing to escape in text). A missing context variable is an error, not an empty
string, so a message cannot go out saying "apply by ." because a caller forgot the deadline.

Each message is a pair `<name>.txt` / `<name>.html` extending a shared layout. Its subject is the
`subject` block of the text template, rendered alone and collapsed to one line because it travels
in a header; the HTML template receives it as `subject` for its `<title>`.

A message speaks its recipient's language, the context's `language` (English when absent):
`{% trans %}` blocks, `_()`, and the `when` and `number` filters follow it (see
`missionflow.runtime.i18n`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from missionflow.runtime import i18n

TEMPLATES = (
    "call_announcement",
    "application_received",
    "deadline_reminder",
    "deadline_extended",
    "call_closed",
    "selection_review",
    "selected",
    "waitlisted",
    "not_selected",
    "seat_reminder",
    "seat_released",
    "waitlist_promoted",
    "delegation_final",
    "meeting_request",
    "meeting_answer",
    "matchmaking_reminder",
    "meeting_expired",
    "matchmaking_nudge",
    "agenda",
    "agenda_changed",
    "itinerary",
    "visit_reminder",
    "visit_changed",
    "visit_promoted",
    "feedback_request",
    "follow_up_survey",
    "report_ready",
    "mission_cancelled",
)
"""The catalogue rendered so far (DESIGN.md, "Emails"). The names are a contract: they travel in
the `X-Missionflow-Template` header that mail filters, support and tests select on."""

_BLANK_RUNS = re.compile(r"\n{3,}")


environment = Environment(
    # Found through the import system, so a checkout, an editable install and a wheel all work.
    loader=PackageLoader("email_templates", "."),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    # The templates ship with the code and change with a deploy, which restarts the process:
    # checking each one's file on every render was a stat per message, 3% of the worker's CPU
    # while 10,000 applicants were confirmed.
    auto_reload=False,
)
# `when` says an instant the way the reader's calendar shows it, zone named, UTC beside:
# `{{ deadline|when(mission.timezone, end_of_day=True) }}` gives `22 Mar 2017 24:00 CET (23:00
# UTC)` in English and `22 mars 2017 24:00 CET (23:00 UTC)` in French.
i18n.install(environment)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


def render(template: str, context: dict[str, Any]) -> RenderedEmail:
    """Render one message of the catalogue.

    Args:
        template: a name from `TEMPLATES`.
        context: the variables documented at the top of the template (the layout's `mission` and
            `recipient_name`, plus the message's own); `language`, the recipient's, is optional.

    Raises:
        ValueError: the template is not in the catalogue.
        jinja2.UndefinedError: the context lacks a variable the template uses.
    """
    if template not in TEMPLATES:
        raise ValueError(f"unknown email template {template!r}: expected one of {TEMPLATES}")
    context = {**context, "language": context.get("language") or i18n.SOURCE_LANGUAGE}
    text_template = environment.get_template(f"{template}.txt")
    subject_parts = text_template.blocks["subject"](text_template.new_context(dict(context)))
    subject = " ".join("".join(subject_parts).split())
    # Conditional paragraphs leave runs of blank lines behind them in plain text.
    text = _BLANK_RUNS.sub("\n\n", text_template.render(context)).strip() + "\n"
    html = environment.get_template(f"{template}.html").render({**context, "subject": subject})
    # Both bodies end with one newline, as they do once in a MIME part.
    html = html.rstrip("\n") + "\n"
    return RenderedEmail(subject=subject, text=text, html=html)
