"""The post-event report's figures, from the mission's raw rows (its CSV: `report_csv`; its
article: `article`).

Pure functions: the activity reads the rows and hands them over as the plain records below, so
every figure can be checked against hand-built data without a database, and the report of a
version reads the same however often it is produced.

Every rate is a `{"count", "of", "rate", "basis"}` mapping: the numerator, the denominator, the
share (None when the denominator is zero, never a made-up 0 %) and, in words, what it is a share
of. A testimonial is published only when its author consented and wrote something: the
`published` filter is the one gate the figures, the CSV and the article all pass through.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import mean
from typing import Any

from missionflow.domain.instants import describe
from missionflow.domain.mission.selection_section import OrganisationType
from missionflow.domain.reporting.arrivals import ArrivalFacts, AttendanceFacts, arrival_figures
from missionflow.domain.reporting.follow_up import FollowUpFacts, follow_up_figures
from missionflow.domain.reporting.meeting_ratings import RatingFacts, rating_figures
from missionflow.domain.reporting.rates import rate
from missionflow.domain.reporting.schedule import ScheduleFacts, schedule_figures
from missionflow.domain.selection.scoring import country_name

ASPECTS = ("matchmaking", "visits", "organisation")
"""The feedback form's scores, each 1–5, in the order the report shows them."""


@dataclass(frozen=True)
class ApplicationFacts:
    """One application with its selection decision and seat (None before any)."""

    id: uuid.UUID
    organisation: str
    organisation_type: str
    country: str
    sector: str
    """The primary sector: the first the applicant chose."""
    withdrawn: bool
    complete: bool
    decision: str | None = None
    seat: str | None = None

    @property
    def delegate(self) -> bool:
        return self.seat == "confirmed" and not self.withdrawn


@dataclass(frozen=True)
class MeetingFacts:
    status: str
    scheduled: bool
    attendance: str | None = None


@dataclass(frozen=True)
class VisitFacts:
    id: str
    city: str
    host: str
    timezone: str
    starts_at: datetime
    capacity: int
    cancelled: bool = False


@dataclass(frozen=True)
class RegistrationFacts:
    visit_id: str
    application_id: uuid.UUID
    status: str
    attendance: str | None = None


@dataclass(frozen=True)
class FeedbackFacts:
    respondent_kind: str
    respondent_id: uuid.UUID
    respondent_name: str
    """The organisation (a delegate's) or the host's name: how a testimonial is signed."""
    country: str
    ratings: dict[str, int | None]
    """Per aspect of `ASPECTS`, 1–5 or None when not answered."""
    met_partners: bool | None = None
    testimonial: str | None = None
    consent_to_publish: bool = False
    late: bool = False


@dataclass(frozen=True)
class ReportInput:
    """Everything a report is computed from."""

    mission_id: str
    title: str
    organiser: str
    destination: str
    timezone: str
    version: int
    reason: str
    produced_at: datetime
    final: bool = False
    applications: Sequence[ApplicationFacts] = ()
    hosts: int = 0
    meetings: Sequence[MeetingFacts] = ()
    schedule: ScheduleFacts | None = None
    """The latest schedule's figures; None before the first."""
    visits: Sequence[VisitFacts] = ()
    registrations: Sequence[RegistrationFacts] = ()
    feedback: Sequence[FeedbackFacts] = ()
    follow_ups: Sequence[FollowUpFacts] = ()
    surveys: int = 0
    """How many follow-up surveys the mission file plans."""
    expected: Sequence[ArrivalFacts] = ()
    """The matchmaking event's participants (confirmed delegates and hosts), by side."""
    arrivals: Sequence[ArrivalFacts] = ()
    """Those the check-in desk marked arrived."""
    meeting_ratings: Sequence[RatingFacts] = ()

    @property
    def delegation(self) -> list[ApplicationFacts]:
        """The delegates who confirmed their seat, by country then name."""
        return sorted(
            (a for a in self.applications if a.delegate),
            key=lambda a: (a.country, a.organisation.casefold()),
        )


def published(feedback: Iterable[FeedbackFacts]) -> list[FeedbackFacts]:
    """The testimonials that may be shown: consented to, and not blank."""
    return [f for f in feedback if f.consent_to_publish and (f.testimonial or "").strip()]


def figures(data: ReportInput) -> dict[str, Any]:
    """Every figure of the report, JSON-able; the HTML, CSV and article are built from it."""
    return {
        "mission": {
            "id": data.mission_id,
            "title": data.title,
            "organiser": data.organiser,
            "destination": data.destination,
        },
        "version": data.version,
        "reason": data.reason,
        "final": data.final,
        "produced_at": data.produced_at.isoformat(),
        "produced_at_local": describe(data.produced_at, data.timezone),
        "applications": _applications(data.applications),
        "selection": _selection(data.applications),
        "delegation": _delegation(data.delegation),
        "meetings": _meetings(data.meetings, data.hosts),
        "schedule": schedule_figures(data.schedule),
        "visits": _visits(data.visits, data.registrations, data.delegation),
        "feedback": _feedback(data),
        "testimonials": [
            {
                "text": f.testimonial.strip() if f.testimonial else "",
                "by": f.respondent_name,
                "kind": f.respondent_kind,
                "country": country_name(f.country),
                "score": _mean_score(f),
            }
            for f in published(data.feedback)
        ],
        "follow_up": follow_up_figures(
            data.follow_ups, data.surveys, {a.id for a in data.delegation}
        ),
        "arrivals": arrival_figures(
            data.expected,
            data.arrivals,
            [
                AttendanceFacts(m.attendance)
                for m in data.meetings
                if m.status == "accepted" and m.scheduled
            ],
        ),
        "meeting_ratings": rating_figures(data.meeting_ratings),
    }


def _breakdown(values: Iterable[str], label: Callable[[str], str]) -> list[dict[str, Any]]:
    """Counts by value, largest first, each with its share of all the values counted."""
    counts = Counter(values)
    total = sum(counts.values())
    return [
        {"key": key, "label": label(key), **rate(n, total, "applications received")}
        for key, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def _type_label(value: str) -> str:
    try:
        return OrganisationType(value).label
    except ValueError:
        return value


def _applications(applications: Sequence[ApplicationFacts]) -> dict[str, Any]:
    return {
        "received": len(applications),
        "withdrawn": sum(a.withdrawn for a in applications),
        "complete": rate(
            sum(a.complete for a in applications), len(applications), "applications received"
        ),
        "by_country": _breakdown((a.country for a in applications), country_name),
        "by_sector": _breakdown((a.sector for a in applications), str),
        "by_organisation_type": _breakdown(
            (a.organisation_type for a in applications), _type_label
        ),
    }


def _selection(applications: Sequence[ApplicationFacts]) -> dict[str, Any]:
    decided = [a for a in applications if a.decision is not None]
    decisions = Counter(a.decision for a in decided)
    offered = [a for a in applications if a.seat is not None]
    confirmed = sum(a.delegate for a in applications)
    return {
        "decided": len(decided),
        "selected": decisions["selected"],
        "waitlisted": decisions["waitlisted"],
        "not_selected": decisions["not_selected"],
        "not_eligible": decisions["not_eligible"],
        "selection_rate": rate(
            decisions["selected"], len(decided), "applications with a selection decision"
        ),
        "seats_offered": len(offered),
        "confirmation_rate": rate(confirmed, len(offered), "seat offers (waitlist included)"),
    }


def _delegation(delegation: Sequence[ApplicationFacts]) -> dict[str, Any]:
    return {
        "size": len(delegation),
        "countries": len({a.country for a in delegation}),
        "members": [
            {
                "organisation": a.organisation,
                "country": a.country,
                "country_name": country_name(a.country),
                "organisation_type": _type_label(a.organisation_type),
                "sector": a.sector,
            }
            for a in delegation
        ],
    }


def _meetings(meetings: Sequence[MeetingFacts], hosts: int) -> dict[str, Any]:
    statuses = Counter(m.status for m in meetings)
    accepted = statuses["accepted"]
    answered = accepted + statuses["declined"]
    scheduled = sum(m.status == "accepted" and m.scheduled for m in meetings)
    held = sum(m.attendance == "held" for m in meetings)
    no_show = sum(m.attendance == "no_show" for m in meetings)
    return {
        "hosts": hosts,
        "requested": len(meetings),
        "accepted": accepted,
        "declined": statuses["declined"],
        "pending": statuses["pending"],
        "cancelled": statuses["cancelled"],
        "expired": statuses["expired"],
        "scheduled": scheduled,
        "held": held,
        "no_show": no_show,
        "acceptance_rate": rate(accepted, answered, "requests answered (accepted or declined)"),
        "scheduling_rate": rate(scheduled, accepted, "accepted requests"),
        "held_rate": rate(held, held + no_show, "scheduled meetings with attendance recorded"),
    }


def _visits(
    visits: Sequence[VisitFacts],
    registrations: Sequence[RegistrationFacts],
    delegation: Sequence[ApplicationFacts],
) -> dict[str, Any]:
    rows = []
    for visit in visits:
        mine = [r for r in registrations if r.visit_id == visit.id]
        registered = sum(r.status == "registered" for r in mine)
        attended = sum(r.attendance == "attended" for r in mine)
        rows.append(
            {
                "id": visit.id,
                "city": visit.city,
                "host": visit.host,
                "starts_at": visit.starts_at.isoformat(),
                "starts_at_local": describe(visit.starts_at, visit.timezone),
                "capacity": visit.capacity,
                "cancelled": visit.cancelled,
                "registered": registered,
                "waitlisted": sum(r.status == "waitlisted" for r in mine),
                "attended": attended,
                "no_show": sum(r.attendance == "no_show" for r in mine),
                "attendance_rate": rate(attended, registered, "delegates registered"),
            }
        )
    held = [row for row in rows if not row["cancelled"]]
    registered = sum(row["registered"] for row in held)
    attended = sum(row["attended"] for row in held)
    members = {a.id for a in delegation}
    visitors = {
        r.application_id
        for r in registrations
        if r.attendance == "attended" and r.application_id in members
    }
    return {
        "planned": len(rows),
        "held": len(held),
        "cities": sorted({row["city"] for row in held}),
        "registered": registered,
        "attended": attended,
        "attendance_rate": rate(attended, registered, "registrations on visits not cancelled"),
        "delegates_on_a_visit": rate(len(visitors), len(members), "delegates"),
        "by_visit": rows,
    }


def _mean_score(feedback: FeedbackFacts) -> float | None:
    given = [v for v in feedback.ratings.values() if v is not None]
    return round(float(mean(given)), 2) if given else None


def _feedback(data: ReportInput) -> dict[str, Any]:
    delegates = {a.id for a in data.delegation}
    by_delegates = [
        f for f in data.feedback if f.respondent_kind == "delegate" and f.respondent_id in delegates
    ]
    by_hosts = [f for f in data.feedback if f.respondent_kind == "host"]
    scores = {}
    for aspect in ASPECTS:
        given = [f.ratings.get(aspect) for f in data.feedback]
        values = [v for v in given if v is not None]
        scores[aspect] = {
            "mean": round(float(mean(values)), 2) if values else None,
            "answers": len(values),
            "distribution": {str(n): values.count(n) for n in range(1, 6)},
        }
    answered = [f.met_partners for f in data.feedback if f.met_partners is not None]
    with_text = [f for f in data.feedback if (f.testimonial or "").strip()]
    return {
        "responses": len(data.feedback),
        "late": sum(f.late for f in data.feedback),
        "delegates": rate(len(by_delegates), len(delegates), "delegates in the delegation"),
        "hosts": rate(len(by_hosts), data.hosts, "hosts"),
        "scores": scores,
        "met_partners": rate(sum(answered), len(answered), "respondents who answered"),
        "testimonials_written": len(with_text),
        "testimonials_published": rate(
            len(published(data.feedback)), len(with_text), "testimonials written"
        ),
    }
