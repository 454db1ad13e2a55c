"""The EU–US mission as the email tests know it, and a context for every email template.

Shared by the rendering, outbox and delivery tests: `context(template, **changes)` is what
a template is rendered with, `body(text)` a rendered text without greeting and signature.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from support import example

from missionflow.domain.matchmaking.agenda import (
    Agenda,
    AgendaItem,
    agenda_breaks,
    agenda_rows,
    breaks_text,
    changed_items,
    item_rows,
)
from missionflow.domain.matchmaking.rules import SlotTime
from missionflow.domain.mission.file import load_mission
from missionflow.domain.visits import itinerary

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
# One session, 09:00–17:00 EDT, of 20-minute slots.
GRID = [
    SlotTime(str(n), 1, start, start + timedelta(minutes=20))
    for n in range(24)
    for start in [datetime(2017, 5, 15, 13, 0, tzinfo=UTC) + timedelta(minutes=20 * n)]
]


def waits_of(the_agenda: Agenda) -> str:
    return breaks_text(agenda_breaks(the_agenda.items, GRID), the_agenda.timezone)


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
        "by_country": [("Germany", 12), ("France", 9), ("Spain", 7)],
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
    "meeting_expired": {
        "other": {"name": "Philadelphia NanoWorks", "country": "United States of America"},
        "asked_by_recipient": True,
        "requested_at": REQUESTS_DEADLINE - timedelta(days=5),
        "requests_deadline": REQUESTS_DEADLINE,
        "event": EVENT,
        "event_timezone": VENUE_ZONE,
        "private_url": f"{MATCHMAKING_URL}/participants/7?token=s3cret",
    },
    "matchmaking_nudge": {
        "waiting": 2,
        "requests_deadline": REQUESTS_DEADLINE,
        "event": EVENT,
        "event_timezone": VENUE_ZONE,
        "private_url": f"{MATCHMAKING_URL}/participants/7?token=s3cret",
    },
    "agenda": {
        "check_in_code": "ABCDE-FGHIJ",
        "check_in_qr": "cid:check-in-qr@missionflow",
        "agenda_page_url": f"{MISSION_URL}/participants/p1/agenda?token=s3cret",
        "event": EVENT,
        "venue": VENUE,
        "event_timezone": VENUE_ZONE,
        "rows": agenda_rows(FIRST_AGENDA),
        "breaks": waits_of(FIRST_AGENDA),
        "ics_attached": True,
        "agenda_url": AGENDA_URL,
    },
    "agenda_changed": {
        "check_in_code": "ABCDE-FGHIJ",
        "check_in_qr": "cid:check-in-qr@missionflow",
        "agenda_page_url": f"{MISSION_URL}/participants/p1/agenda?token=s3cret",
        "event": EVENT,
        "venue": VENUE,
        "event_timezone": VENUE_ZONE,
        **agenda_changes(FIRST_AGENDA, NEW_AGENDA),
        "breaks": waits_of(NEW_AGENDA),
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


def body(text: str) -> str:
    """A plain-text message without its greeting and the layout's signature."""
    return text.split("\n", 1)[1].split("Kind regards,")[0]
