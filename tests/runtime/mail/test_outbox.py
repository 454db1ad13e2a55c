"""Emails: rendering, the outbox, and delivery over real SMTP, exactly once in effect.

Delivery runs against a real aiosmtpd server on loopback that records every envelope and can
refuse or defer chosen recipients, on SQLite and on PostgreSQL. The activity method is called
directly: it is a plain coroutine, and it heartbeats only inside a Temporal activity.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import random
import socket
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from typing import Any

import aiosmtplib
import jinja2
import pytest
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from aiosmtplib import SMTPException
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from support import example
from temporalio.exceptions import ApplicationError

import activities.email as email_activities
from activities.email import EmailActivities
from missionflow.domain.matchmaking.agenda import (
    Agenda,
    AgendaItem,
    agenda_rows,
    changed_items,
    item_rows,
)
from missionflow.domain.mission.file import load_mission
from missionflow.domain.mission.messages import DeliveryReport, DeliveryRequest
from missionflow.domain.visits import itinerary
from missionflow.runtime.mail.message import build_message, message_bytes
from missionflow.runtime.mail.outbox import add_all, compose, queue
from missionflow.runtime.mail.templates import TEMPLATES, render
from missionflow.runtime.models import Mission, OutboxMessage
from missionflow.runtime.settings import Settings

MAIL_FROM = "missionflow <missions@example.org>"
DEADLINE = datetime(2017, 3, 22, 23, 0, tzinfo=UTC)  # midnight CET at the end of 22 March
SHOWN_DEADLINE = "22 Mar 2017 24:00 CET (23:00 UTC)"
COORDINATORS = [
    {"name": "Anna Verbeke", "email": "anna.verbeke@example.org"},
    {"name": "Marco Bellini", "email": "marco.bellini@example.org"},
]
MISSION = {
    "id": "eu-us-2017",
    "title": "High-level EU Cluster Mission to the USA",
    "organiser": "European Cluster Collaboration Platform",
    "destination": "United States",
    "timezone": "Europe/Brussels",
    "coordinators": COORDINATORS,
}
PRIVATE_URL = "http://localhost:8000/missions/eu-us-2017/applications/42?token=s3cret"
APPLY_URL = "http://localhost:8000/missions/eu-us-2017/apply"
MISSION_URL = "http://localhost:8000/missions/eu-us-2017"
APPLICATION = {"organisation": "Bavarian Nano Cluster", "contact_name": "Ana Núñez"}
DECISION_DUE = datetime(2017, 4, 5, 22, 0, tzinfo=UTC)  # midnight CEST at the end of 5 April
RESPOND_BY = datetime(2017, 4, 12, 22, 0, tzinfo=UTC)  # 7 days later, midnight CEST
SHOWN_RESPOND_BY = "12 Apr 2017 24:00 CEST (22:00 UTC)"
# The matchmaking of the EU–US mission: 09:00 at the venue is 13:00 UTC in May (EDT).
EVENT = "U.S.–EU Cluster Matchmaking at TechConnect World Innovation Conference"
VENUE = "Gaylord National Resort & Convention Center, National Harbor (Washington DC)"
VENUE_ZONE = "America/New_York"
REQUESTS_DEADLINE = datetime(2017, 5, 5, 21, 0, tzinfo=UTC)  # 17:00 EDT
SHOWN_REQUESTS_DEADLINE = "5 May 2017 17:00 EDT (21:00 UTC)"
MATCHMAKING_URL = f"{MISSION_URL}/matchmaking"
AGENDA_URL = f"{MATCHMAKING_URL}/participants/7/agenda.ics?token=s3cret"


def meeting(meeting_id: str, hour: int, minute: int, table: int, name: str) -> AgendaItem:
    start = datetime(2017, 5, 15, hour, minute, tzinfo=UTC)
    return AgendaItem(
        meeting_id=meeting_id,
        start=start,
        end=start + timedelta(minutes=20),
        table=table,
        with_name=name,
        with_country="US",
        with_line="Advanced materials: coatings and composites for aerospace",
    )


def agenda(*items: AgendaItem) -> Agenda:
    return Agenda(
        participant_id="7",
        participant_name="Bavarian Nano Cluster",
        event=EVENT,
        venue=VENUE,
        timezone=VENUE_ZONE,
        items=items,
    )


CONSORTIUM = meeting("m-1", 13, 0, 4, "Massachusetts Advanced Materials Consortium")
NANOWORKS = meeting("m-2", 13, 20, 12, "Philadelphia NanoWorks")
ALLIANCE = meeting("m-3", 18, 0, 7, "Capital Region Biotech Alliance")
FIRST_AGENDA = agenda(CONSORTIUM, NANOWORKS, ALLIANCE)
# NanoWorks moves to 14:40 at table 9, the Alliance drops out, a lab joins at 15:00.
NEW_AGENDA = agenda(
    CONSORTIUM,
    meeting("m-2", 18, 40, 9, "Philadelphia NanoWorks"),
    meeting("m-4", 19, 0, 2, "Chesapeake Photonics Lab"),
)


CELL = ' style="padding:4px 12px 4px 0; vertical-align:top;">'


def agenda_changes(before: Agenda, after: Agenda) -> dict[str, Any]:
    added, removed, moved = changed_items(before, after)
    return {
        "rows": agenda_rows(after),
        "added": item_rows(added, after.timezone),
        "removed": item_rows(removed, after.timezone),
        "moved": item_rows(moved, after.timezone),
    }


VISITS = itinerary.rows(load_mission(example("eu-us-2017")).visits, {"boston": "registered"})
MOVED = {**VISITS[1], "when": "Wed 17 May 2017, 10:00–18:00 EDT", "address": "1 Market St"}

CONTEXTS: dict[str, dict[str, Any]] = {
    "call_announcement": {
        "call_opens": datetime(2017, 2, 15, 8, 0, tzinfo=UTC),
        "deadline": DEADLINE,
        "sectors": ["Nanotechnologies", "Biotechnology & medical"],
        "apply_url": APPLY_URL,
        "require_slide": True,
        "invitee_organisation": "Bavarian Nano Cluster",
    },
    "application_received": {
        "application": {
            "organisation": "Bavarian Nano Cluster",
            "contact_name": "Ana Núñez",
            "sectors": ["Nanotechnologies", "Advanced materials"],
        },
        "missing": ["the one-slide presentation"],
        "private_url": PRIVATE_URL,
        "deadline": DEADLINE,
    },
    "deadline_reminder": {
        "deadline": DEADLINE,
        "time_left": "2 days",
        "missing": ["the one-slide presentation"],
        "private_url": PRIVATE_URL,
    },
    "deadline_extended": {
        "previous_deadline": DEADLINE,
        "deadline": datetime(2017, 3, 29, 22, 0, tzinfo=UTC),
        "apply_url": APPLY_URL,
    },
    "call_closed": {
        "deadline": DEADLINE,
        "total": 42,
        "complete": 37,
        "incomplete": 5,
        "by_country": [("DE", 12), ("FR", 9), ("ES", 7)],
        "by_sector": [("Nanotechnologies", 20), ("Advanced materials", 15)],
        "applications_url": "http://localhost:8000/missions/eu-us-2017/applications",
    },
    "selection_review": {
        "reminder": False,
        "decision_due": DECISION_DUE,
        "capacity": 2,
        "eligible": 4,
        "not_eligible": 1,
        "selected": [
            {
                "organisation": "Bavarian Nano Cluster",
                "country": "Germany",
                "score": 12.5,
                "reasons": ["Sector: Nanotechnologies (weight 3)", "First from Germany"],
            },
            {
                "organisation": "Pôle Médicen",
                "country": "France",
                "score": 9.333333,
                "reasons": ["Sector: Biotechnology & medical (weight 2)"],
            },
        ],
        "waitlisted": [
            {
                "organisation": "Clúster Textil de Catalunya",
                "country": "Spain",
                "score": 6.0,
                "reasons": ["Second from its sector"],
            },
        ],
        "selection_url": f"{MISSION_URL}/selection",
        "approve_url": f"{MISSION_URL}/selection/approve",
    },
    "selected": {
        "application": APPLICATION,
        "respond_by": RESPOND_BY,
        "private_url": PRIVATE_URL,
        "confirm_within": "7 days",
    },
    "waitlisted": {
        "application": APPLICATION,
        "position": 2,
        "waitlist_length": 5,
        "private_url": PRIVATE_URL,
    },
    "not_selected": {
        "application": APPLICATION,
        "reason": "The application was incomplete at the deadline.",
        "other_opportunities": [
            {
                "title": "EU Cluster Mission to Japan",
                "url": "https://example.org/missions/eu-japan-2017",
                "description": "Call open until 30 June 2017.",
            },
            {
                "title": "Matchmaking at Hannover Messe",
                "url": "https://example.org/hm",
                "description": None,
            },
        ],
    },
    "seat_reminder": {
        "application": APPLICATION,
        "respond_by": RESPOND_BY,
        "private_url": PRIVATE_URL,
    },
    "seat_released": {
        "application": APPLICATION,
        "reason": "expired",
        "respond_by": RESPOND_BY,
        "at": datetime(2017, 4, 12, 22, 0, 5, tzinfo=UTC),
    },
    "waitlist_promoted": {
        "application": APPLICATION,
        "respond_by": RESPOND_BY,
        "private_url": PRIVATE_URL,
        "confirm_within": "7 days",
    },
    "delegation_final": {
        "locked_at": datetime(2017, 4, 20, 8, 0, tzinfo=UTC),
        "delegates": [
            {
                "organisation": "Bavarian Nano Cluster",
                "country": "Germany",
                "contact_name": "Ana Núñez",
                "contact_email": "ana@example.de",
            },
            {
                "organisation": "Clúster Textil de Catalunya",
                "country": "Spain",
                "contact_name": "Jordi Puig",
                "contact_email": "jordi.puig@example.es",
            },
        ],
        "released": 1,
        "capacity": 2,
        "csv_attached": True,
    },
    "meeting_request": {
        "requester": {
            "name": "Massachusetts Advanced Materials Consortium",
            "country": "United States of America",
            "line": "Advanced materials: coatings and composites for aerospace",
        },
        "priority": 3,
        "note": "We are looking for partners in nanocoatings.\nCould we meet in the morning?",
        "answer_url": f"{MATCHMAKING_URL}/requests/31?token=s3cret",
        "requests_deadline": REQUESTS_DEADLINE,
        "event": EVENT,
        "event_timezone": VENUE_ZONE,
    },
    "meeting_answer": {
        "other": {"name": "Philadelphia NanoWorks", "country": "United States of America"},
        "accepted": True,
        "requests_deadline": REQUESTS_DEADLINE,
        "event": EVENT,
        "event_timezone": VENUE_ZONE,
        "directory_url": f"{MATCHMAKING_URL}/participants",
    },
    "matchmaking_reminder": {
        "pending_answers": [
            {"name": "Philadelphia NanoWorks", "country": "United States of America"},
            {"name": "Pôle Médicen", "country": "France"},
        ],
        "requests_deadline": REQUESTS_DEADLINE,
        "event": EVENT,
        "event_timezone": VENUE_ZONE,
        "private_url": f"{MATCHMAKING_URL}/participants/7?token=s3cret",
    },
    "agenda": {
        "event": EVENT,
        "venue": VENUE,
        "event_timezone": VENUE_ZONE,
        "rows": agenda_rows(FIRST_AGENDA),
        "ics_attached": True,
        "agenda_url": AGENDA_URL,
    },
    "agenda_changed": {
        "event": EVENT,
        "venue": VENUE,
        "event_timezone": VENUE_ZONE,
        **agenda_changes(FIRST_AGENDA, NEW_AGENDA),
        "ics_attached": True,
        "agenda_url": AGENDA_URL,
    },
    "feedback_request": {
        "reminder": False,
        "organisation": "Bavarian Nano Cluster",
        "host": False,
        "ask_visits": True,
        "ask_matchmaking": True,
        "closes_at": datetime(2017, 5, 22, 22, 0, tzinfo=UTC),
        "feedback_url": f"{MISSION_URL}/feedback?token=s3cret",
    },
    "follow_up_survey": {
        "organisation": "Bavarian Nano Cluster",
        "survey": 1,
        "surveys": 2,
        "closes_at": None,
        "survey_url": f"{MISSION_URL}/follow-up?token=s3cret&survey=1",
    },
    "report_ready": {
        "version": 2,
        "reason": "late feedback arrived",
        "produced_at": datetime(2017, 6, 2, 8, 0, tzinfo=UTC),
        "final": False,
        "delegates": 12,
        "meetings_held": 40,
        "feedback": {"count": 9, "of": 12, "rate": 0.75},
        "testimonials": 3,
        "report_url": "https://missions.example.org/missions/eu-us-2017/report.html",
        "attachments": ["eu-us-2017-report-v2.pdf", "eu-us-2017-report-v2-article.md"],
    },
    "itinerary": {"visits": VISITS, "visits_url": f"{MISSION_URL}/visits?delegate=7&token=s3cret"},
    "visit_reminder": {"visit": VISITS[0]},
    "visit_changed": {"visit": MOVED, "before": VISITS[1], "note": None, "status": "registered"},
    "visit_promoted": {"visit": VISITS[2]},
    "mission_cancelled": {"reason": "The venue closed.", "phase": "selection"},
}


def context(template: str, **changes: Any) -> dict[str, Any]:
    return {"mission": MISSION, "recipient_name": "Ana Núñez", **CONTEXTS[template], **changes}


# Rendering


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_template_renders_a_one_line_subject_text_and_html(template: str) -> None:
    rendered = render(template, context(template))

    assert rendered.subject and "\n" not in rendered.subject
    assert rendered.subject == " ".join(rendered.subject.split())
    assert rendered.text.startswith("Dear Ana Núñez,\n")
    assert MISSION["title"] in rendered.text and "Anna Verbeke" in rendered.text
    assert rendered.html.startswith("<!DOCTYPE html>")
    assert f"<title>{rendered.subject}</title>" in rendered.html
    assert 'href="mailto:marco.bellini@example.org"' in rendered.html


def test_html_escapes_what_people_typed_and_text_keeps_it() -> None:
    hostile = "<script>alert(1)</script>"
    rendered = render(
        "call_announcement", context("call_announcement", invitee_organisation=hostile)
    )

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<script>" not in rendered.html
    assert hostile in rendered.text


def test_the_deadline_is_shown_in_the_calls_zone_with_its_name() -> None:
    for template in ("call_announcement", "application_received", "deadline_reminder"):
        rendered = render(template, context(template))
        assert SHOWN_DEADLINE in rendered.text
        assert SHOWN_DEADLINE in rendered.html
    extended = render("deadline_extended", context("deadline_extended"))
    assert "29 Mar 2017 24:00 CEST (22:00 UTC)" in extended.text


def test_a_subject_stays_one_line_whatever_the_title() -> None:
    mission = {**MISSION, "title": "Cluster\r\nBcc: evil@example.net   mission"}
    rendered = render("mission_cancelled", context("mission_cancelled", mission=mission))

    assert rendered.subject == "Cancelled: Cluster Bcc: evil@example.net mission"


def test_reminders_speak_to_applicants_and_to_invitees() -> None:
    applicant = render("deadline_reminder", context("deadline_reminder"))
    invitee_context = context("deadline_reminder", missing=[], apply_url=APPLY_URL)
    del invitee_context["private_url"]
    invitee = render("deadline_reminder", invitee_context)

    assert "incomplete" in applicant.subject and PRIVATE_URL in applicant.text
    assert "the one-slide presentation" in applicant.text
    assert "2 days left to apply" in invitee.subject and APPLY_URL in invitee.text
    assert "token" not in invitee.text


def test_unknown_templates_and_missing_variables_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown email template"):
        render("selected_by_magic", context("call_closed"))
    incomplete = context("call_closed")
    del incomplete["total"]
    with pytest.raises(jinja2.UndefinedError):
        render("call_closed", incomplete)


def body(text: str) -> str:
    """A plain-text message without its greeting and the layout's signature."""
    return text.split("\n", 1)[1].split("Kind regards,")[0]


def test_the_selection_review_says_when_it_is_a_reminder() -> None:
    first = render("selection_review", context("selection_review"))
    reminder = render("selection_review", context("selection_review", reminder=True))

    assert not first.subject.startswith("Reminder")
    assert "Reminder" not in first.text and "Reminder" not in first.html
    assert reminder.subject.startswith("Reminder: the selection awaits your approval")
    assert body(reminder.text).lstrip().startswith("Reminder: the selection awaits your approval")
    assert "Reminder: the selection awaits your approval" in reminder.html
    for rendered in (first, reminder):
        assert "5 Apr 2017 24:00 CEST (22:00 UTC)" in rendered.text
        assert "Bavarian Nano Cluster (Germany), score 12.50" in rendered.text
        assert "score 9.33" in rendered.text and "score 6.00" in rendered.text
        assert "First from Germany" in rendered.text
        assert f"POST {MISSION_URL}/selection/approve" in rendered.text
        assert "coordinator token" in rendered.text
        assert f'href="{MISSION_URL}/selection"' in rendered.html
    text = first.text
    assert text.index("Pôle Médicen") < text.index("Waitlist") < text.index("Clúster Textil")


def test_a_seat_offer_ends_in_the_missions_zone_with_its_name() -> None:
    for template in ("selected", "seat_reminder", "waitlist_promoted"):
        rendered = render(template, context(template))
        assert SHOWN_RESPOND_BY in rendered.text
        assert SHOWN_RESPOND_BY in rendered.html
        assert PRIVATE_URL in rendered.text and f'href="{PRIVATE_URL}"' in rendered.html
        assert "POST …/confirm" in rendered.text and "POST …/decline" in rendered.text
    new_york = render(
        "selected", context("selected", mission={**MISSION, "timezone": "America/New_York"})
    )
    assert "12 Apr 2017 18:00 EDT (22:00 UTC)" in new_york.text
    assert "within 7 days" in new_york.text


def test_the_waitlist_says_where_the_applicant_stands() -> None:
    rendered = render("waitlisted", context("waitlisted"))

    assert "2 of 5" in rendered.text and "2 of 5" in rendered.html
    assert PRIVATE_URL in rendered.text


def test_not_selected_links_other_opportunities_and_leaves_the_paragraph_out_without_any() -> None:
    with_others = render("not_selected", context("not_selected"))
    without = render("not_selected", context("not_selected", other_opportunities=[], reason=None))

    assert "Other opportunities" in with_others.text and "Other opportunities" in with_others.html
    assert (
        "EU Cluster Mission to Japan\n    https://example.org/missions/eu-japan-2017"
        in with_others.text
    )
    assert "Call open until 30 June 2017." in with_others.text
    assert '<a href="https://example.org/missions/eu-japan-2017"' in with_others.html
    assert '<a href="https://example.org/hm"' in with_others.html
    assert "The application was incomplete at the deadline." in with_others.text
    assert "Other opportunities" not in without.text and "Other opportunities" not in without.html
    assert "example.org/missions/eu-japan-2017" not in without.text
    assert "<ul>" not in without.html
    assert "limited number of seats" in without.text
    assert "\n\n\n" not in without.text


def test_each_reason_a_seat_is_released_is_worded_differently() -> None:
    reasons = {
        "declined": "You declined the seat",
        "withdrawn": "You withdrew the application",
        "expired": f"had to be confirmed by {SHOWN_RESPOND_BY}",
        "locked": "became final on 13 Apr 2017 00:00 CEST (12 Apr 22:00 UTC), before the seat",
    }
    bodies = {}
    for reason, words in reasons.items():
        rendered = render("seat_released", context("seat_released", reason=reason))
        assert words in rendered.text
        assert words.replace(f"by {SHOWN_RESPOND_BY}", "by <strong>") in rendered.html
        bodies[reason] = body(rendered.text)
    assert len(set(bodies.values())) == len(reasons)
    assert "did not receive your answer" in bodies["expired"]
    assert not any("did not receive" in bodies[r] for r in ("declined", "withdrawn", "locked"))
    unknown_deadline = render("seat_released", context("seat_released", respond_by=None))
    assert "within the time given" in unknown_deadline.text


def test_the_final_delegation_lists_every_delegate() -> None:
    delegates = [
        {
            "organisation": f"Cluster {n}",
            "country": country,
            "contact_name": f"Contact {n}",
            "contact_email": f"contact{n}@example.org",
        }
        for n, country in enumerate(["Germany", "France", "Spain", "Italy", "Poland"], start=1)
    ]
    rendered = render(
        "delegation_final",
        context(
            "delegation_final", delegates=delegates, capacity=6, released=2, csv_attached=False
        ),
    )

    assert rendered.subject.startswith("Delegation final: 5 delegates")
    assert "20 Apr 2017 10:00 CEST (08:00 UTC)" in rendered.text
    for n, delegate in enumerate(delegates, start=1):
        line = f"{n}. {delegate['organisation']} ({delegate['country']})"
        assert line in rendered.text
        assert f"{delegate['contact_name']} <{delegate['contact_email']}>" in rendered.text
        assert f">{delegate['organisation']}</td>" in rendered.html
        assert f'href="mailto:{delegate["contact_email"]}"' in rendered.html
    assert "CSV" not in rendered.text and "CSV" not in rendered.html
    attached = render("delegation_final", context("delegation_final"))
    assert "attached to this email as a CSV file" in attached.text
    assert "attached to this email as a CSV file" in attached.html
    assert render("delegation_final", context("delegation_final", delegates=[])).subject.startswith(
        "Delegation final: 0 delegates"
    )


def test_an_organisation_named_like_markup_is_escaped_in_html_and_intact_in_text() -> None:
    application = {"organisation": "<b>x</b>", "contact_name": "Jo <i>y</i>"}
    rendered = render("selected", context("selected", application=application))

    assert "&lt;b&gt;x&lt;/b&gt;" in rendered.html and "<b>" not in rendered.html
    assert "Jo &lt;i&gt;y&lt;/i&gt;" in rendered.html and "<i>" not in rendered.html
    assert "<b>x</b>" in rendered.text and "Jo <i>y</i>" in rendered.text
    assert "<b>x</b>" in rendered.subject


@pytest.mark.parametrize(
    "template",
    ["selection_review", "waitlisted", "not_selected", "seat_released", "delegation_final"],
)
def test_what_people_typed_is_escaped_in_every_selection_message(template: str) -> None:
    hostile = "<script>alert(1)</script>"
    entry = {"organisation": hostile, "country": "Germany", "score": 1.0, "reasons": [hostile]}
    delegate = {
        "organisation": hostile,
        "country": "Germany",
        "contact_name": hostile,
        "contact_email": "a@example.org",
    }
    changes: dict[str, Any] = {
        "application": {"organisation": hostile, "contact_name": hostile},
        "selected": [entry],
        "waitlisted": [entry],
        "reason": hostile if template == "not_selected" else "declined",
        "delegates": [delegate],
    }
    own = {key: value for key, value in changes.items() if key in CONTEXTS[template]}
    rendered = render(template, context(template, **own))

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<script>" not in rendered.html
    assert hostile in rendered.text


def test_a_meeting_request_words_its_priority_and_its_deadline_in_the_venues_zone() -> None:
    words = {3: "a top priority", 2: "a priority", 1: "of interest"}
    bodies = set()
    for priority, word in words.items():
        rendered = render("meeting_request", context("meeting_request", priority=priority))
        assert f"a meeting with you is {word}." in rendered.text
        assert f"a meeting with you is <strong>{word}</strong>." in rendered.html
        bodies.add(body(rendered.text))
    assert len(bodies) == 3
    rendered = render("meeting_request", context("meeting_request"))
    answer_url = CONTEXTS["meeting_request"]["answer_url"]
    assert rendered.subject.startswith("Meeting request from Massachusetts Advanced Materials")
    assert SHOWN_REQUESTS_DEADLINE in rendered.text and SHOWN_REQUESTS_DEADLINE in rendered.html
    assert answer_url in rendered.text and f'href="{answer_url}"' in rendered.html
    assert "POST …/accept" in rendered.text and "POST …/decline" in rendered.text
    assert "POST …/accept" in rendered.html and "POST …/decline" in rendered.html
    assert "  We are looking for partners in nanocoatings.\n  Could we meet" in rendered.text
    without_note = render("meeting_request", context("meeting_request", note=None))
    assert "note" not in body(without_note.text) and "blockquote" not in without_note.html
    with pytest.raises(jinja2.UndefinedError):
        render("meeting_request", context("meeting_request", priority=4))


def test_a_meeting_answer_says_accepted_or_declined_and_where_to_find_others() -> None:
    accepted = render("meeting_answer", context("meeting_answer"))
    declined = render("meeting_answer", context("meeting_answer", accepted=False))
    directory_url = CONTEXTS["meeting_answer"]["directory_url"]

    assert accepted.subject.startswith("Meeting accepted: Philadelphia NanoWorks")
    assert declined.subject.startswith("Meeting declined: Philadelphia NanoWorks")
    assert "accepted your request" in accepted.text and "declined" not in body(accepted.text)
    assert "declined your request" in declined.text and "accepted" not in body(declined.text)
    for rendered in (accepted, declined):
        assert SHOWN_REQUESTS_DEADLINE in rendered.text
        assert directory_url in rendered.text and f'href="{directory_url}"' in rendered.html


def test_the_matchmaking_reminder_lists_the_requests_waiting_for_an_answer() -> None:
    waiting = render("matchmaking_reminder", context("matchmaking_reminder"))
    one = render(
        "matchmaking_reminder",
        context(
            "matchmaking_reminder", pending_answers=[{"name": "Pôle Médicen", "country": "France"}]
        ),
    )
    none = render("matchmaking_reminder", context("matchmaking_reminder", pending_answers=[]))

    assert waiting.subject.startswith("Reminder: 2 meeting requests await your answer")
    assert one.subject.startswith("Reminder: 1 meeting request awaits your answer")
    assert none.subject.startswith("Reminder: meeting requests close soon")
    assert "  - Philadelphia NanoWorks (United States of America)\n  - Pôle Médicen (France)" in (
        waiting.text
    )
    assert "<strong>Pôle Médicen</strong> (France)" in waiting.html
    assert "Pôle Médicen" not in none.text and "<ul>" not in none.html
    assert "No request waits for your answer" in none.text
    for rendered in (waiting, one, none):
        assert SHOWN_REQUESTS_DEADLINE in rendered.text
        assert CONTEXTS["matchmaking_reminder"]["private_url"] in rendered.text


def test_the_agenda_shows_each_meeting_in_the_venues_zone_with_its_table() -> None:
    rendered = render("agenda", context("agenda"))

    assert rendered.subject.startswith("Your agenda: 3 meetings at the U.S.–EU Cluster Matchmaking")
    expected = [
        ("15 May 2017 09:00–09:20 EDT", "4", "Massachusetts Advanced Materials Consortium"),
        ("15 May 2017 09:20–09:40 EDT", "12", "Philadelphia NanoWorks"),
        ("15 May 2017 14:00–14:20 EDT", "7", "Capital Region Biotech Alliance"),
    ]
    positions = []
    for time, table, name in expected:
        line = f"  {time}, table {table}\n    {name} (United States of America)\n"
        assert line in rendered.text
        positions.append(rendered.text.index(line))
        assert f"<td{CELL}{time}</td>" in rendered.html
        assert f"<strong>{name}</strong> (United States of America)" in rendered.html
    assert positions == sorted(positions)
    assert "UTC" not in body(rendered.text).split("Times are")[1]
    assert "Gaylord National Resort &amp; Convention Center" in rendered.html
    assert AGENDA_URL in rendered.text and f'href="{AGENDA_URL}"' in rendered.html
    assert "attached to this email as a calendar file" in rendered.text
    assert "attached to this email as a calendar file" in rendered.html
    detached = render("agenda", context("agenda", ics_attached=False))
    assert "attached" not in detached.text and "attached" not in detached.html
    assert AGENDA_URL in detached.text


def test_an_empty_agenda_says_so_kindly_and_whom_to_contact() -> None:
    rendered = render("agenda", context("agenda", rows=[], ics_attached=False))

    assert rendered.subject.startswith("Your agenda: no meeting scheduled")
    assert "no meeting could be scheduled for you" in rendered.text
    assert "no meeting could be scheduled for you" in rendered.html
    assert "coordinators (Anna Verbeke, Marco Bellini)" in body(rendered.text)
    assert "table" not in body(rendered.text) and "<table" not in rendered.html
    assert AGENDA_URL not in rendered.text


def test_a_changed_agenda_lists_what_was_added_removed_and_moved() -> None:
    rendered = render("agenda_changed", context("agenda_changed"))
    text = body(rendered.text)

    added = "  15 May 2017 15:00–15:20 EDT, table 2\n    Chesapeake Photonics Lab"
    moved = "  15 May 2017 14:40–15:00 EDT, table 9\n    Philadelphia NanoWorks"
    removed = "  15 May 2017 14:00–14:20 EDT, table 7\n    Capital Region Biotech Alliance"
    sections = [
        text.index(f"New meeting:\n{added}"),
        text.index(f"Moved to another time or table (as they are now):\n{moved}"),
        text.index(f"Cancelled meeting (no longer in your agenda):\n{removed}"),
        text.index("Your agenda now:\n  15 May 2017 09:00–09:20 EDT, table 4"),
    ]
    assert sections == sorted(sections)
    now = text.split("Your agenda now:")[1]
    assert added in now and moved in now and "Capital Region" not in now
    assert "09:20–09:40" not in text  # the old time of the moved meeting
    assert text.count("Chesapeake Photonics Lab") == 2 and text.count("Capital Region") == 1
    for caption in ("New meeting", "Moved to another time or table", "Cancelled meeting"):
        assert f'padding:0 0 4px;">{caption}' in rendered.html
    assert "removes the cancelled ones" in rendered.text
    unchanged = render(
        "agenda_changed", context("agenda_changed", added=[], removed=[], moved=[], rows=[])
    )
    assert "New meeting" not in unchanged.text and "Cancelled meeting" not in unchanged.text
    assert "No meeting is left in your agenda" in unchanged.text
    assert "<table" not in unchanged.html


@pytest.mark.parametrize(
    "template",
    ["meeting_request", "meeting_answer", "matchmaking_reminder", "agenda", "agenda_changed"],
)
def test_what_people_typed_is_escaped_in_every_matchmaking_message(template: str) -> None:
    hostile = "<script>alert(1)</script>"
    row = {
        "time": "15 May 2017 09:00–09:20 EDT",
        "table": "4",
        "with_name": hostile,
        "with_country": "Germany",
        "with_line": hostile,
    }
    changes: dict[str, Any] = {
        "requester": {"name": hostile, "country": "Germany", "line": hostile},
        "note": hostile,
        "other": {"name": hostile, "country": "Germany"},
        "pending_answers": [{"name": hostile, "country": "Germany"}],
        "event": hostile,
        "venue": hostile,
        "rows": [row],
        "added": [row],
        "removed": [row],
        "moved": [row],
    }
    own = {key: value for key, value in changes.items() if key in CONTEXTS[template]}
    rendered = render(template, context(template, **own))

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<script>" not in rendered.html
    assert hostile in rendered.text


# A real SMTP server


@dataclass
class Delivered:
    mail_from: str
    recipients: list[str]
    peer: Any
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Recorder:
    """An aiosmtpd handler: records what it accepts; answers chosen recipients with `refuse`."""

    delivered: list[Delivered] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)
    connections: int = 0
    on_rcpt: Callable[[str], Awaitable[None]] | None = None
    on_data: Callable[[Delivered], Awaitable[None]] | None = None

    async def handle_EHLO(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if self.on_rcpt:
            await self.on_rcpt(address)
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        delivered = Delivered(envelope.mail_from or "", list(envelope.rcpt_tos), session.peer, raw)
        self.delivered.append(delivered)
        if self.on_data:
            await self.on_data(delivered)
        return "250 Message accepted for delivery"

    def message_ids(self) -> Counter[str]:
        return Counter(str(d.message["Message-ID"]) for d in self.delivered)


def unix_lines(text: str) -> str:
    """A body as rendered: it travels with CRLF line endings and is decoded with them."""
    return text.replace("\r\n", "\n")


async def serve(recorder: Recorder, port: int) -> asyncio.AbstractServer:
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTPServer(recorder, hostname="sink.test", loop=loop), "127.0.0.1", port
    )


@pytest.fixture
async def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def smtp_port(recorder: Recorder) -> AsyncIterator[int]:
    server = await serve(recorder, 0)
    yield server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()


@pytest.fixture
async def mission_id(session_factory: async_sessionmaker[AsyncSession]) -> str:
    async with session_factory() as session:
        session.add(
            Mission(
                id=MISSION["id"],
                workflow_id=f"mission-{MISSION['id']}",
                title=MISSION["title"],
                organiser=MISSION["organiser"],
                timezone=MISSION["timezone"],
                phase="call_open",
                file={},
            )
        )
        await session.commit()
    return MISSION["id"]


def activities_for(engine: AsyncEngine, port: int) -> EmailActivities:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from=MAIL_FROM)
    return EmailActivities(engine, settings)


async def queue_one(
    session: AsyncSession, mission_id: str, template: str, recipient: str, **options: Any
) -> OutboxMessage:
    values: dict[str, Any] = {
        "recipient_name": "Ana Núñez",
        "context": context(template),
        "idempotency_key": f"{mission_id}:{template}:{recipient}",
        "reply_to": [f"{c['name']} <{c['email']}>" for c in COORDINATORS],
        "from_name": MISSION["organiser"],
        "auto_submitted": template == "deadline_reminder",
        "sender": MAIL_FROM,
        "now": datetime.now(UTC),
        **options,
    }
    return await queue(
        session, mission_id=mission_id, template=template, recipient=recipient, **values
    )


async def queue_many(
    session_factory: async_sessionmaker[AsyncSession], mission_id: str, count: int
) -> list[OutboxMessage]:
    """Alternating reminders and confirmations to applicant-<i>@example.org."""
    async with session_factory() as session:
        rows = [
            await queue_one(
                session,
                mission_id,
                "deadline_reminder" if i % 2 == 0 else "application_received",
                f"applicant-{i}@example.org",
            )
            for i in range(count)
        ]
        await session.commit()
    return rows


async def statuses(session_factory: async_sessionmaker[AsyncSession]) -> dict[str, OutboxMessage]:
    async with session_factory() as session:
        rows = await session.exec(select(OutboxMessage).order_by(col(OutboxMessage.created_at)))
        return {row.recipient: row for row in rows}


# The outbox


async def test_queue_is_idempotent_per_key(
    session_factory: async_sessionmaker[AsyncSession], mission_id: str
) -> None:
    async with session_factory() as session:
        first = await queue_one(session, mission_id, "deadline_reminder", "ana@example.es")
        await session.commit()
    async with session_factory() as session:
        again = await queue_one(
            session,
            mission_id,
            "deadline_reminder",
            "ana@example.es",
            context=context("deadline_reminder", time_left="1 day"),
        )
        await session.commit()

    rows = await statuses(session_factory)
    assert list(rows) == ["ana@example.es"]
    assert again.id == first.id and again.message_id == first.message_id
    assert "2 days" in rows["ana@example.es"].subject  # unchanged, not re-rendered
    assert first.message_id.endswith("@example.org>") and first.status == "queued"
    assert first.headers == {
        "From": MISSION["organiser"],
        "X-Missionflow-Template": "deadline_reminder",
        "X-Missionflow-Mission": mission_id,
        "Reply-To": "Anna Verbeke <anna.verbeke@example.org>, "
        "Marco Bellini <marco.bellini@example.org>",
        "Auto-Submitted": "auto-generated",
    }


async def test_queue_belongs_to_the_callers_transaction(
    session_factory: async_sessionmaker[AsyncSession], mission_id: str
) -> None:
    async with session_factory() as session:
        await queue_one(session, mission_id, "deadline_reminder", "ana@example.es")
        await session.rollback()

    assert await statuses(session_factory) == {}


async def test_queue_racing_an_uncommitted_twin_returns_the_twin(
    session_factory: async_sessionmaker[AsyncSession], mission_id: str
) -> None:
    """Two transactions queue the same message at once: the second waits for the first (on
    PostgreSQL's unique index, on SQLite's write lock), then finds its row instead of failing."""
    async with session_factory() as first, session_factory() as second:
        one = await queue_one(first, mission_id, "deadline_reminder", "ana@example.es")
        racing = asyncio.create_task(
            queue_one(second, mission_id, "deadline_reminder", "ana@example.es")
        )
        await asyncio.sleep(0.3)
        assert not racing.done()  # blocked behind the first transaction's insert
        await first.commit()
        two = await racing
        await second.commit()

    assert two.id == one.id and two.message_id == one.message_id
    assert len(await statuses(session_factory)) == 1


async def test_add_all_queues_each_key_once_in_order(
    session_factory: async_sessionmaker[AsyncSession], mission_id: str
) -> None:
    """Many messages in one statement: a key queued before, or twice in the list, is stored
    once, and each position answers the stored row."""
    async with session_factory() as session:
        earlier = await queue_one(session, mission_id, "deadline_reminder", "ana@example.es")
        await session.commit()

    def composed(recipient: str) -> OutboxMessage:
        return compose(
            mission_id=mission_id,
            template="deadline_reminder",
            recipient=recipient,
            recipient_name=None,
            context=context("deadline_reminder"),
            idempotency_key=f"{mission_id}:deadline_reminder:{recipient}",
            reply_to=[],
            from_name=MISSION["organiser"],
            sender=MAIL_FROM,
            now=datetime.now(UTC),
        )

    rows = [composed(r) for r in ("bo@example.se", "ana@example.es", "cy@example.fr")]
    twin = composed("bo@example.se")
    async with session_factory() as session:
        stored = await add_all(session, [*rows, twin])
        await session.commit()

    assert [row.message_id for row in stored] == [
        rows[0].message_id,
        earlier.message_id,
        rows[2].message_id,
        rows[0].message_id,
    ]
    assert sorted(await statuses(session_factory)) == [
        "ana@example.es",
        "bo@example.se",
        "cy@example.fr",
    ]


# The bytes of a message


def outbox_row(**changes: Any) -> OutboxMessage:
    rendered = render("application_received", context("application_received"))
    values: dict[str, Any] = {
        "mission_id": "eu-us-2017",
        "template": "application_received",
        "idempotency_key": "k",
        "recipient": "ana@example.es",
        "recipient_name": "Ana Núñez",
        "subject": rendered.subject,
        "text_body": rendered.text,
        "html_body": rendered.html,
        "headers": {
            "From": MISSION["organiser"],
            "X-Missionflow-Template": "application_received",
            "X-Missionflow-Mission": "eu-us-2017",
            "Reply-To": "Anna Verbeke <anna.verbeke@example.org>",
        },
        "message_id": "<0123456789abcdef@example.org>",
        "status": "queued",
        **changes,
    }
    return OutboxMessage(**values)


LONG = "A line long enough to need a soft break when it travels quoted-printable: " * 3
SHAPES: dict[str, dict[str, Any]] = {
    "confirmation": {},
    "short ascii lines: 7bit": {"text_body": "Hello.\nSee you.\n", "html_body": "<p>Hi</p>"},
    "long lines: quoted-printable": {"text_body": LONG + "\n" + LONG, "html_body": LONG},
    "mostly not latin: base64": {"text_body": "ご応募ありがとうございます。\n" * 30},
    "mixed line endings": {"text_body": "one\r\ntwo\rthree\nfour", "html_body": ""},
    "a line like a boundary": {"text_body": "--===============0000000000000000042==\n"},
    "no reply-to, auto-submitted": {
        "headers": {
            "From": "Org",
            "X-Missionflow-Template": "deadline_reminder",
            "X-Missionflow-Mission": "m",
            "Auto-Submitted": "auto-generated",
        }
    },
    "no from name": {"headers": {"X-Missionflow-Mission": "m"}},
    "a name with specials": {"recipient_name": 'Smith, "J." <boss@example.net> (CEO) \\ x'},
    "a name like an encoded word": {"recipient_name": "=?utf-8?q?Bcc=3A_evil@example.net?="},
    "a long non-ascii name": {"recipient_name": "Ñandú Çağlar Øre " * 8},
    "no name": {"recipient_name": None},
    "a long non-ascii subject": {"subject": "Délégation – agenda, " * 10},
    "a subject like an encoded word": {"subject": "=?utf-8?b?4oCT?= and =?x?q?y?="},
    "a non-ascii domain: smtputf8": {"recipient": "ana@bücher.example"},
    "an organiser with specials": {
        "headers": {"From": "Cluster; Org. (EU) <x>", "X-Missionflow-Mission": "m"}
    },
    "a header compose does not write": {"headers": {"X-Other": "1"}},
}


@pytest.mark.parametrize("changes", SHAPES.values(), ids=SHAPES.keys())
def test_message_bytes_are_build_messages_bytes(
    changes: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast builder writes exactly what the email package writes, whatever the names."""
    monkeypatch.setattr("random.randrange", lambda _: 42)  # one boundary for both
    row = outbox_row(**changes)
    now = datetime(2017, 3, 1, 12, 30, tzinfo=UTC)

    fast = message_bytes(row, sender=MAIL_FROM, now=now)

    assert fast == build_message(row, sender=MAIL_FROM, now=now).as_bytes()


_NAME_CHARACTERS = st.characters(codec="utf-8", exclude_categories=("Cs",))
"""Any name people type: plain words most of the time, specials, quotes, non-ASCII and
controls at others (the fast paths must recognise what they cannot write)."""


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.one_of(
        st.none(),
        st.from_regex(r"[A-Za-z0-9'_-]{1,20}( [A-Za-z0-9.'_-]{1,20}){0,4}", fullmatch=True),
        st.text(_NAME_CHARACTERS, max_size=80),
    ),
    local=st.from_regex(r"[A-Za-z0-9_+-]{1,30}(\.[A-Za-z0-9_+-]{1,10}){0,2}", fullmatch=True),
    domain=st.from_regex(r"[A-Za-z0-9-]{1,20}(\.[A-Za-z0-9-]{1,20}){1,3}", fullmatch=True),
    subject=st.text(_NAME_CHARACTERS, min_size=1, max_size=120),
    body=st.lists(
        st.sampled_from(["Dear Ana,", "", "Déjà vu – ñ", "x" * 90, "ends in a space ", "=?"])
        | st.text(_NAME_CHARACTERS, max_size=100),
        max_size=14,
    ),
)
def test_message_bytes_are_build_messages_bytes_for_any_name_subject_and_body(
    name: str | None, local: str, domain: str, subject: str, body: list[str]
) -> None:
    """The recipient written without parsing, the subject folded once and the bodies encoded
    line by line from a cache: what goes out is still, byte for byte, the email package's, or
    the same refusal."""
    text = "\n".join(body)
    row = outbox_row(
        recipient_name=name,
        recipient=f"{local}@{domain}",
        subject=subject,
        text_body=text,
        html_body=f"<p>{text}</p>",
    )
    now = datetime(2017, 3, 1, 12, 30, tzinfo=UTC)
    random.seed(7)
    try:
        expected = build_message(row, sender=MAIL_FROM, now=now).as_bytes()
    except ValueError:
        with pytest.raises(ValueError):
            message_bytes(row, sender=MAIL_FROM, now=now)
        return
    random.seed(7)
    assert message_bytes(row, sender=MAIL_FROM, now=now) == expected


@pytest.mark.parametrize("digits", [0, 42, 1234567890123456789, 9999999999999999999])
@pytest.mark.parametrize(
    "domain", ["example.org", "mail." + "very-long-subdomain." * 4 + "example.org", "x.y"]
)
def test_message_bytes_fold_every_message_id_and_boundary_as_the_email_package(
    digits: int, domain: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Message-IDs as `compose` makes them and boundaries as the generator makes them are
    folded once per shape and filled in: the bytes are still the email package's, also where
    the header is too long for one line."""
    monkeypatch.setattr("random.randrange", lambda _: digits)
    now = datetime(2017, 3, 1, 12, 30, tzinfo=UTC)
    for hex_id in ("0" * 32, "f" * 32, "0123456789abcdef" * 2, "a0" * 16):
        row = outbox_row(message_id=f"<{hex_id}@{domain}>")

        fast = message_bytes(row, sender=MAIL_FROM, now=now)

        assert fast == build_message(row, sender=MAIL_FROM, now=now).as_bytes()


@pytest.mark.parametrize(
    "changes",
    [
        {"headers": {"X-Missionflow-Mission": "m\r\nBcc: evil@example.net"}},
        {"headers": {"Reply-To": "a@example.org\nBcc: evil@example.net"}},
        {"recipient": "not an address"},
        {"recipient": "núñez@example.es"},  # the email package refuses a non-ASCII local part
        {"message_id": "<1@example.org>\r\nBcc: evil@example.net"},
    ],
)
def test_message_bytes_refuse_what_build_message_refuses(changes: dict[str, Any]) -> None:
    row = outbox_row(**changes)
    now = datetime.now(UTC)
    with pytest.raises(ValueError):
        build_message(row, sender=MAIL_FROM, now=now)
    with pytest.raises(ValueError):
        message_bytes(row, sender=MAIL_FROM, now=now)


# Delivery


async def test_a_batch_goes_out_once_each_over_one_connection_with_its_headers(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    queued = await queue_many(session_factory, mission_id, 50)
    delivery = activities_for(engine, smtp_port)

    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=50, failed=0, deferred=0, remaining=0)
    assert recorder.connections == 1
    assert len({d.peer for d in recorder.delivered}) == 1
    assert recorder.message_ids() == Counter({row.message_id: 1 for row in queued})
    rows = await statuses(session_factory)
    for delivered in recorder.delivered:
        message = delivered.message
        row = rows[delivered.recipients[0]]
        assert delivered.recipients == [row.recipient]
        assert delivered.mail_from == "missions@example.org"
        assert message["Message-ID"] == row.message_id
        assert message["From"].addresses[0].display_name == MISSION["organiser"]
        assert message["From"].addresses[0].addr_spec == "missions@example.org"
        assert str(message["To"]) == f"Ana Núñez <{row.recipient}>"
        assert [a.addr_spec for a in message["Reply-To"].addresses] == [
            c["email"] for c in COORDINATORS
        ]
        assert message["Subject"] == row.subject
        assert parsedate_to_datetime(message["Date"]).tzinfo is not None
        assert message["X-Missionflow-Template"] == row.template
        assert message["X-Missionflow-Mission"] == mission_id
        if row.template == "deadline_reminder":
            assert message["Auto-Submitted"] == "auto-generated"
        else:
            assert "Auto-Submitted" not in message
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        assert text is not None and html is not None
        assert unix_lines(text.get_content()) == row.text_body
        assert unix_lines(html.get_content()) == row.html_body
        assert SHOWN_DEADLINE in text.get_content()
    assert {row.status for row in rows.values()} == {"sent"}
    assert all(row.sent_at and row.attempts == 1 for row in rows.values())


async def test_a_refused_recipient_fails_alone(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    await queue_many(session_factory, mission_id, 6)
    recorder.refuse["applicant-2@example.org"] = "550 5.1.1 <applicant-2@example.org>: no such user"

    report = await activities_for(engine, smtp_port).deliver_outbox(
        DeliveryRequest(mission_id=mission_id)
    )

    assert report == DeliveryReport(sent=5, failed=1, deferred=0, remaining=0)
    rows = await statuses(session_factory)
    refused = rows["applicant-2@example.org"]
    assert refused.status == "failed" and refused.smtp_code == 550
    assert refused.last_error == "550 5.1.1 <applicant-2@example.org>: no such user"
    assert refused.failed_at is not None and refused.sent_at is None
    assert sorted(d.recipients[0] for d in recorder.delivered) == sorted(
        r for r in rows if r != "applicant-2@example.org"
    )


async def test_addresses_that_cannot_be_sent_fail_alone(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    """Not an address at all, or a non-ASCII one for a server without SMTPUTF8."""
    async with session_factory() as session:
        for recipient in ("ana@example.es", "not-an-address", "jose@exämple.es", "bo@example.se"):
            await queue_one(session, mission_id, "call_closed", recipient)
        await session.commit()

    report = await activities_for(engine, smtp_port).deliver_outbox(
        DeliveryRequest(mission_id=mission_id)
    )

    assert report == DeliveryReport(sent=2, failed=2, deferred=0, remaining=0)
    rows = await statuses(session_factory)
    assert "is not an email address" in (rows["not-an-address"].last_error or "")
    assert "SMTPUTF8" in (rows["jose@exämple.es"].last_error or "")
    assert sorted(d.recipients[0] for d in recorder.delivered) == [
        "ana@example.es",
        "bo@example.se",
    ]


async def test_a_deferred_recipient_is_queued_again_with_the_servers_answer(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    await queue_many(session_factory, mission_id, 4)
    recorder.refuse["applicant-1@example.org"] = "451 4.7.1 Greylisted, try again later"
    delivery = activities_for(engine, smtp_port)

    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=3, failed=0, deferred=1, remaining=1)
    deferred = (await statuses(session_factory))["applicant-1@example.org"]
    assert deferred.status == "queued" and deferred.smtp_code == 451
    assert deferred.last_error == "451 4.7.1 Greylisted, try again later"

    recorder.refuse.clear()
    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=1, failed=0, deferred=0, remaining=0)
    assert sum(recorder.message_ids().values()) == 4 == len(recorder.message_ids())
    assert (await statuses(session_factory))["applicant-1@example.org"].attempts == 2


async def test_hostile_names_inject_no_header_and_no_recipient(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    mission = {**MISSION, "title": "Mission\r\nBcc: evil-subject@example.net"}
    async with session_factory() as session:
        await queue_one(
            session,
            mission_id,
            "mission_cancelled",
            "ana@example.es",
            recipient_name="Eve\r\nBcc: evil@example.net",
            from_name="Organiser\nX-Injected: yes",
            context=context("mission_cancelled", mission=mission),
        )
        await session.commit()

    report = await activities_for(engine, smtp_port).deliver_outbox(
        DeliveryRequest(mission_id=mission_id)
    )

    assert report.sent == 1
    [delivered] = recorder.delivered
    assert delivered.recipients == ["ana@example.es"]
    message = delivered.message
    assert "Bcc" not in message and "X-Injected" not in message
    headers = delivered.raw.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in headers and b"\r\nX-Injected:" not in headers
    assert message["To"].addresses[0].display_name == "Eve Bcc: evil@example.net"
    assert message["To"].addresses[0].addr_spec == "ana@example.es"
    assert message["Subject"] == "Cancelled: Mission Bcc: evil-subject@example.net"


async def test_a_stored_header_with_a_line_break_is_refused_not_sent() -> None:
    row = OutboxMessage(
        mission_id="m",
        template="call_closed",
        idempotency_key="k",
        recipient="ana@example.es",
        subject="s",
        text_body="t",
        html_body="<p>h</p>",
        headers={"X-Missionflow-Mission": "m\r\nBcc: evil@example.net"},
        message_id="<1@example.org>",
        status="queued",
    )
    with pytest.raises(ValueError):
        build_message(row, sender=MAIL_FROM, now=datetime.now(UTC))


async def test_a_line_holding_only_a_dot_arrives_intact(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    reason = "The venue closed.\n.\n..and nothing else could be found."
    async with session_factory() as session:
        row = await queue_one(
            session,
            mission_id,
            "mission_cancelled",
            "ana@example.es",
            context=context("mission_cancelled", reason=reason),
        )
        await session.commit()

    await activities_for(engine, smtp_port).deliver_outbox(DeliveryRequest(mission_id=mission_id))

    [delivered] = recorder.delivered
    html = delivered.message.get_body(("html",))
    assert html is not None and unix_lines(html.get_content()) == row.html_body
    assert f">{reason}</blockquote>" in row.html_body


async def test_a_message_larger_than_the_socket_buffers_arrives_whole(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With small socket buffers, most of a 1 MB message waits in asyncio's own buffer (the
    "sent" commit waits for it to leave); it must still arrive whole and once."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.setblocking(False)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTPServer(recorder, hostname="sink.test", loop=loop), sock=listener
    )
    connect = EmailActivities._connect

    async def small_send_buffer(self: EmailActivities) -> aiosmtplib.SMTP:
        smtp = await connect(self)
        smtp.get_transport_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        return smtp

    monkeypatch.setattr(EmailActivities, "_connect", small_send_buffer)
    reason = "\n".join(f"Paragraph {n}: the venue withdrew its offer." for n in range(20_000))
    async with session_factory() as session:
        row = await queue_one(
            session,
            mission_id,
            "mission_cancelled",
            "ana@example.es",
            context=context("mission_cancelled", reason=reason),
        )
        await session.commit()

    try:
        report = await activities_for(engine, listener.getsockname()[1]).deliver_outbox(
            DeliveryRequest(mission_id=mission_id)
        )
    finally:
        server.close()
        await server.wait_closed()

    assert report.sent == 1
    [delivered] = recorder.delivered
    assert len(delivered.raw) > 1_000_000
    text = delivered.message.get_body(("plain",))
    assert text is not None and unix_lines(text.get_content()) == row.text_body


async def test_an_unreachable_server_loses_nothing_and_later_sends_everything_once(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    unused_port: int,
) -> None:
    queued = await queue_many(session_factory, mission_id, 10)
    delivery = activities_for(engine, unused_port)

    with pytest.raises((SMTPException, OSError)):
        await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    rows = await statuses(session_factory)
    assert len(rows) == 10
    assert {row.status for row in rows.values()} <= {"queued", "sending"}

    server = await serve(recorder, unused_port)
    try:
        report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))
    finally:
        server.close()
        await server.wait_closed()

    assert report == DeliveryReport(sent=10, failed=0, deferred=0, remaining=0)
    assert recorder.message_ids() == Counter({row.message_id: 1 for row in queued})


async def test_a_delivery_cut_mid_batch_resumes_without_duplicates_or_losses(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    """Cancel the activity while the server is taking the 5th message (as a worker shutdown
    does): what the server took and what the rows say must agree, and a new attempt sends the
    rest."""
    queued = await queue_many(session_factory, mission_id, 12)
    delivery = activities_for(engine, smtp_port)
    attempt = asyncio.create_task(delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id)))

    async def cut_at_the_fifth(_: Delivered) -> None:
        if len(recorder.delivered) == 5:
            attempt.cancel()

    recorder.on_data = cut_at_the_fifth

    with pytest.raises(asyncio.CancelledError):
        await attempt

    rows = await statuses(session_factory)
    server_has = set(recorder.message_ids())
    assert {r.message_id for r in rows.values() if r.status == "sent"} == server_has
    assert len(server_has) == 5
    assert {r.status for r in rows.values() if r.message_id not in server_has} == {"sending"}

    recorder.on_data = None
    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=7, failed=0, deferred=0, remaining=0)
    assert recorder.message_ids() == Counter({row.message_id: 1 for row in queued})


async def test_a_cancel_during_the_sent_commit_still_ends_that_message(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The one instant a cancel could lose a message: the row committed as sent, the final "."
    not yet written. The step finishes first, then the cancellation goes through."""
    queued = await queue_many(session_factory, mission_id, 8)
    settle = email_activities._settle
    sent_commits = 0

    async def cancel_at_the_third(
        db: AsyncConnection, row: OutboxMessage, previous: str, **values: object
    ) -> bool:
        nonlocal sent_commits
        if values.get("status") == "sent":
            sent_commits += 1
            if sent_commits == 3:
                attempt.cancel()
        return await settle(db, row, previous, **values)

    monkeypatch.setattr(email_activities, "_settle", cancel_at_the_third)
    delivery = activities_for(engine, smtp_port)
    attempt = asyncio.create_task(delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id)))

    with pytest.raises(asyncio.CancelledError):
        await attempt

    rows = await statuses(session_factory)
    assert {r.message_id for r in rows.values() if r.status == "sent"} == set(
        recorder.message_ids()
    )
    assert len(recorder.delivered) == 3
    monkeypatch.setattr(email_activities, "_settle", settle)
    await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))
    assert recorder.message_ids() == Counter({row.message_id: 1 for row in queued})


async def test_a_message_is_committed_sent_before_the_server_has_it(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    """aiosmtpd calls handle_DATA once it has read the final ".": the row must say sent by then."""
    await queue_many(session_factory, mission_id, 5)
    seen: list[str] = []

    async def row_status(delivered: Delivered) -> None:
        async with session_factory() as session:
            statement = select(OutboxMessage.status).where(
                OutboxMessage.message_id == delivered.message["Message-ID"]
            )
            seen.append((await session.exec(statement)).one())

    recorder.on_data = row_status
    await activities_for(engine, smtp_port).deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert seen == ["sent"] * 5


async def test_a_delivery_whose_claim_was_taken_over_stops_before_the_final_dot(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    """A zombie attempt (Temporal retried the activity elsewhere, the old one still runs) must
    not send a message the newer attempt claimed: it cannot mark it sent, so it never ends it."""
    queued = await queue_many(session_factory, mission_id, 4)

    async def newer_claim(address: str) -> None:
        if address == "applicant-2@example.org":
            async with session_factory() as session:
                await session.exec(  # type: ignore[call-overload]
                    update(OutboxMessage)
                    .where(col(OutboxMessage.recipient) == address)
                    .values(attempts=col(OutboxMessage.attempts) + 1)
                )
                await session.commit()

    recorder.on_rcpt = newer_claim
    delivery = activities_for(engine, smtp_port)

    with pytest.raises(ApplicationError, match="claimed again"):
        await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert [d.recipients[0] for d in recorder.delivered] == [
        "applicant-0@example.org",
        "applicant-1@example.org",
    ]
    recorder.on_rcpt = None
    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=2, failed=0, deferred=0, remaining=0)
    assert recorder.message_ids() == Counter({row.message_id: 1 for row in queued})


async def test_a_rerun_after_everything_is_sent_sends_nothing(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    await queue_many(session_factory, mission_id, 3)
    delivery = activities_for(engine, smtp_port)
    await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    report = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id))

    assert report == DeliveryReport(sent=0, failed=0, deferred=0, remaining=0)
    assert len(recorder.delivered) == 3 and recorder.connections == 1


async def test_a_batch_limit_leaves_the_rest_for_the_next_call(
    engine: AsyncEngine,
    session_factory: async_sessionmaker[AsyncSession],
    mission_id: str,
    recorder: Recorder,
    smtp_port: int,
) -> None:
    queued = await queue_many(session_factory, mission_id, 5)
    delivery = activities_for(engine, smtp_port)

    first = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id, limit=3))
    second = await delivery.deliver_outbox(DeliveryRequest(mission_id=mission_id, limit=3))

    assert (first.sent, first.remaining, second.sent, second.remaining) == (3, 2, 2, 0)
    delivered_order = [d.message["Message-ID"] for d in recorder.delivered]
    assert delivered_order == [row.message_id for row in queued]  # oldest first
