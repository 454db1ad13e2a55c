"""The post-event report's figures, its CSV and its article, from the mission's raw rows.

Pure functions: the activity reads the rows and hands them over as the plain records below, so
every figure can be checked against hand-built data without a database, and the report of a
version reads the same however often it is produced.

Every rate is a `{"count", "of", "rate", "basis"}` mapping: the numerator, the denominator, the
share (None when the denominator is zero, never a made-up 0 %) and, in words, what it is a share
of. A testimonial is published only when its author consented and wrote something: the
`published` filter is the one gate the figures, the CSV and the article all pass through.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import mean
from typing import Any

from missionflow.domain.instants import describe
from missionflow.domain.mission.selection_section import OrganisationType
from missionflow.domain.selection.scoring import country_name

ASPECTS = ("matchmaking", "visits", "organisation")
"""The feedback form's scores, each 1–5, in the order the report shows them."""

OUTCOMES = ("agreements", "distribution_deals", "mous", "revisits")
"""The follow-up survey's counts; the expected revenue, which may be left blank, is apart."""


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
class FollowUpFacts:
    application_id: uuid.UUID
    survey: int
    agreements: int = 0
    distribution_deals: int = 0
    mous: int = 0
    revisits: int = 0
    expected_revenue_eur: float | None = None


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
    visits: Sequence[VisitFacts] = ()
    registrations: Sequence[RegistrationFacts] = ()
    feedback: Sequence[FeedbackFacts] = ()
    follow_ups: Sequence[FollowUpFacts] = ()
    surveys: int = 0
    """How many follow-up surveys the mission file plans."""

    @property
    def delegation(self) -> list[ApplicationFacts]:
        """The delegates who confirmed their seat, by country then name."""
        return sorted(
            (a for a in self.applications if a.delegate),
            key=lambda a: (a.country, a.organisation.casefold()),
        )


def rate(count: int, of: int, basis: str) -> dict[str, Any]:
    return {
        "count": count,
        "of": of,
        "rate": round(count / of, 4) if of else None,
        "basis": basis,
    }


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
        "follow_up": _follow_up(data),
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


def _follow_up(data: ReportInput) -> dict[str, Any]:
    """Outcomes as delegates last reported them: each survey asks what came of the mission so
    far, so a delegate's newest answer replaces their earlier ones instead of adding to them."""
    members = {a.id for a in data.delegation}
    surveys = []
    for number in range(1, max([data.surveys, *(f.survey for f in data.follow_ups)]) + 1):
        answers = [f for f in data.follow_ups if f.survey == number]
        surveys.append(
            {
                "survey": number,
                "responses": rate(
                    sum(f.application_id in members for f in answers), len(members), "delegates"
                ),
                **_outcomes(answers),
            }
        )
    latest: dict[uuid.UUID, FollowUpFacts] = {}
    for answer in sorted(data.follow_ups, key=lambda f: f.survey):
        latest[answer.application_id] = answer
    return {
        "surveys": surveys,
        "respondents": len(latest),
        "latest": _outcomes(list(latest.values())),
    }


def _outcomes(answers: Sequence[FollowUpFacts]) -> dict[str, Any]:
    totals: dict[str, Any] = {name: sum(getattr(f, name) for f in answers) for name in OUTCOMES}
    revenue = [f.expected_revenue_eur for f in answers if f.expected_revenue_eur is not None]
    totals["expected_revenue_eur"] = round(sum(revenue), 2) if revenue else None
    return totals


CSV_COLUMNS = ("table", "key", "label", "measure", "value", "of", "basis")


def csv_document(report: dict[str, Any]) -> str:
    """The report's tables as one long CSV: one figure a line, so a spreadsheet filters by
    `table` (applications_by_country, meetings, visit, feedback_scores, testimonial, …), then
    `key` (a country code, a visit id, an aspect) and `measure` (count, rate, mean, …). A rate
    fills `of` with its denominator and `basis` with what it is a share of."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in _csv_rows(report):
        writer.writerow(row)
    return out.getvalue()


def _csv_rows(report: dict[str, Any]) -> Iterable[tuple[Any, ...]]:
    def figure(table: str, key: str, label: str, measure: str, value: Any) -> tuple[Any, ...]:
        if isinstance(value, dict) and "basis" in value:
            return (table, key, label, measure, value["count"], value["of"], value["basis"])
        return (table, key, label, measure, "" if value is None else value, "", "")

    applications = report["applications"]
    yield figure("applications", "", "", "received", applications["received"])
    yield figure("applications", "", "", "withdrawn", applications["withdrawn"])
    yield figure("applications", "", "", "complete", applications["complete"])
    for table in ("by_country", "by_sector", "by_organisation_type"):
        for row in applications[table]:
            yield figure(f"applications_{table}", row["key"], row["label"], "count", row)
    for table in ("selection", "meetings"):
        for measure, value in report[table].items():
            yield figure(table, "", "", measure, value)
    for member in report["delegation"]["members"]:
        for measure in ("country", "organisation_type", "sector"):
            yield figure("delegation", member["organisation"], "", measure, member[measure])
    visits = report["visits"]
    for measure in ("planned", "held", "registered", "attended", "attendance_rate"):
        yield figure("visits", "", "", measure, visits[measure])
    yield figure("visits", "", "", "delegates_on_a_visit", visits["delegates_on_a_visit"])
    for visit in visits["by_visit"]:
        for measure in ("starts_at", "capacity", "cancelled", "registered", "waitlisted"):
            yield figure("visit", visit["id"], visit["city"], measure, visit[measure])
        for measure in ("attended", "no_show", "attendance_rate"):
            yield figure("visit", visit["id"], visit["city"], measure, visit[measure])
    feedback = report["feedback"]
    for measure, value in feedback.items():
        if measure != "scores":
            yield figure("feedback", "", "", measure, value)
    for aspect, score in feedback["scores"].items():
        yield figure("feedback_scores", aspect, "", "mean", score["mean"])
        yield figure("feedback_scores", aspect, "", "answers", score["answers"])
        for points, n in score["distribution"].items():
            yield figure("feedback_scores", aspect, "", f"rated_{points}", n)
    for testimonial in report["testimonials"]:
        by, country = testimonial["by"], testimonial["country"]
        yield figure("testimonial", by, country, "text", testimonial["text"])
    follow_up = report["follow_up"]
    for survey in follow_up["surveys"]:
        for measure, value in survey.items():
            if measure != "survey":
                yield figure("follow_up_survey", str(survey["survey"]), "", measure, value)
    for measure, value in follow_up["latest"].items():
        yield figure("follow_up_latest", "", "", measure, value)


def article(report: dict[str, Any], *, testimonials: int = 2) -> str:
    """A short article in Markdown, ready to publish: a title, a lead paragraph, the key
    figures and up to `testimonials` published testimonials, the best-rated first."""
    mission = report["mission"]
    delegation = report["delegation"]
    meetings = report["meetings"]
    visits = report["visits"]
    lead = (
        f"{_count(delegation['size'], 'organisation')} from "
        f"{_count(delegation['countries'], 'country', 'countries')} took part in the "
        f"{mission['title']}, organised by {mission['organiser']} in {mission['destination']}."
    )
    if meetings["held"]:
        lead += (
            f" They held {_count(meetings['held'], 'B2B meeting')} with "
            f"{_count(meetings['hosts'], 'host organisation')}"
        )
        lead += f" and visited {_list(visits['cities'])}." if visits["cities"] else "."
    elif visits["cities"]:
        lead += f" The delegation visited {_list(visits['cities'])}."
    lines = [
        f"# {_inline(mission['title'])}: the results",
        "",
        _inline(lead),
        "",
        "## Key figures",
        "",
    ]
    lines += [f"- {item}" for item in _key_figures(report)]
    chosen = sorted(
        report["testimonials"],
        key=lambda t: -(t["score"] if t["score"] is not None else 0),
    )[:testimonials]
    if chosen:
        lines += ["", "## In their words", ""]
        for testimonial in chosen:
            quoted = [f"> {_inline(line)}".rstrip() for line in testimonial["text"].splitlines()]
            lines += [
                *quoted,
                ">",
                f"> — {_inline(testimonial['by'])} ({_inline(testimonial['country'])})",
                "",
            ]
        lines.pop()
    return "\n".join(lines) + "\n"


def _key_figures(report: dict[str, Any]) -> list[str]:
    applications = report["applications"]
    selection = report["selection"]
    meetings = report["meetings"]
    visits = report["visits"]
    feedback = report["feedback"]
    items = [
        f"{_count(applications['received'], 'application')} from "
        f"{_count(len(applications['by_country']), 'country', 'countries')}",
        f"{_count(report['delegation']['size'], 'delegate')} "
        f"(selection rate {_percent(selection['selection_rate'])})",
        f"{_count(meetings['requested'], 'meeting')} requested, {meetings['accepted']} accepted, "
        f"{meetings['scheduled']} scheduled, {meetings['held']} held",
    ]
    if visits["held"]:
        items.append(
            f"{_count(visits['held'], 'visit')}, attendance {_percent(visits['attendance_rate'])}"
        )
    overall = [s["mean"] for s in feedback["scores"].values() if s["mean"] is not None]
    if overall:
        items.append(
            f"average satisfaction {mean(overall):.1f} out of 5 "
            f"({_percent(feedback['delegates'])} of delegates answered)"
        )
    latest = report["follow_up"]["latest"]
    if report["follow_up"]["respondents"]:
        items.append(
            f"{_count(latest['agreements'], 'agreement')} and "
            f"{_count(latest['distribution_deals'], 'distribution deal')} reported since"
        )
    return items


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _percent(value: dict[str, Any]) -> str:
    return "n/a" if value["rate"] is None else f"{value['rate']:.0%}"


def _list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


_MARKDOWN = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#|"})


def _inline(text: str) -> str:
    """People's words as Markdown text, never as markup (a link, a heading, raw HTML)."""
    return text.translate(_MARKDOWN)
