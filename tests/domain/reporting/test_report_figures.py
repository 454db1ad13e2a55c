"""The report's figures, CSV and article, checked against hand-built raw data, without I/O."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from missionflow.domain.reporting import figures as report
from missionflow.domain.reporting.article import article
from missionflow.domain.reporting.figures import (
    ApplicationFacts,
    FeedbackFacts,
    FollowUpFacts,
    MeetingFacts,
    RegistrationFacts,
    ReportInput,
    VisitFacts,
)
from missionflow.domain.reporting.report_csv import CSV_COLUMNS, csv_document
from missionflow.domain.reporting.schedule import ScheduleFacts, schedule_figures

AT = datetime(2017, 5, 22, 8, 0, tzinfo=UTC)
SECRET = "Unconsented: we hated the hotel"
BLANK = "   "


def app(name: str, country: str, **facts: Any) -> ApplicationFacts:
    defaults: dict[str, Any] = {
        "organisation_type": "cluster_organisation",
        "sector": "Nanotechnologies",
        "withdrawn": False,
        "complete": True,
    }
    return ApplicationFacts(
        id=uuid.uuid5(uuid.NAMESPACE_DNS, name),
        organisation=name,
        country=country,
        **(defaults | facts),
    )


# Nine applications: four delegates (DE, DE, FR, IT), one offer still open, one declined, one
# waitlisted, one not selected who withdrew, one not eligible (its answers incomplete).
NANO = app("Nano Bavaria", "DE", decision="selected", seat="confirmed")
BIO = app("BioCluster Berlin", "DE", decision="selected", seat="confirmed", sector="Biotech")
MAT = app("Materials Lyon", "FR", decision="selected", seat="confirmed", organisation_type="sme")
CHEM = app("Chem Milano", "IT", decision="selected", seat="confirmed", complete=False)
OPEN = app("Open Offer", "FR", decision="selected", seat="offered")
GONE = app("Declined Seat", "ES", decision="selected", seat="released")
WAIT = app("Waiting", "ES", decision="waitlisted")
LEFT = app("Left", "PL", decision="not_selected", withdrawn=True, sector="Biotech")
SHORT = app("Short Answers", "PT", decision="not_eligible", complete=False)
APPLICATIONS = [NANO, BIO, MAT, CHEM, OPEN, GONE, WAIT, LEFT, SHORT]
HOST_A, HOST_B = uuid.uuid4(), uuid.uuid4()

VISITS = [
    VisitFacts("boston", "Boston", "MIT", "America/New_York", AT, capacity=4),
    VisitFacts("philly", "Philadelphia", "NanoWorks", "America/New_York", AT, capacity=2),
    VisitFacts("dc", "Washington DC", "NIST", "America/New_York", AT, capacity=5, cancelled=True),
]
REGISTRATIONS = [
    RegistrationFacts("boston", NANO.id, "registered", "attended"),
    RegistrationFacts("boston", BIO.id, "registered", "attended"),
    RegistrationFacts("boston", MAT.id, "registered", "no_show"),
    RegistrationFacts("philly", NANO.id, "registered", "attended"),
    RegistrationFacts("philly", MAT.id, "registered", None),
    RegistrationFacts("philly", CHEM.id, "waitlisted", None),
    RegistrationFacts("dc", CHEM.id, "registered", None),
]


def feedback(author: ApplicationFacts | uuid.UUID, ratings: tuple, **facts: Any) -> FeedbackFacts:
    delegate = isinstance(author, ApplicationFacts)
    return FeedbackFacts(
        respondent_kind="delegate" if delegate else "host",
        respondent_id=author.id if delegate else author,
        respondent_name=author.organisation if delegate else "Host Inc",
        country=author.country if delegate else "US",
        ratings=dict(zip(report.ASPECTS, ratings, strict=True)),
        **facts,
    )


FEEDBACK = [
    feedback(
        NANO,
        (5, 4, 5),
        met_partners=True,
        testimonial="Superb matchmaking.",
        consent_to_publish=True,
    ),
    feedback(BIO, (3, None, 4), met_partners=False, testimonial=SECRET, consent_to_publish=False),
    feedback(
        MAT, (4, 4, None), met_partners=True, testimonial=BLANK, consent_to_publish=True, late=True
    ),
    feedback(HOST_A, (2, None, 3), testimonial="A *good* <b>visit</b>.", consent_to_publish=True),
]
MEETINGS = [
    *[MeetingFacts("accepted", scheduled=True, attendance="held")] * 5,
    MeetingFacts("accepted", scheduled=True, attendance="no_show"),
    MeetingFacts("accepted", scheduled=True),
    MeetingFacts("accepted", scheduled=False),
    MeetingFacts("declined", scheduled=False),
    MeetingFacts("declined", scheduled=False),
    MeetingFacts("pending", scheduled=False),
    MeetingFacts("cancelled", scheduled=False),
]
# The latest schedule: 7 of the 8 accepted placed; one more could not be (upper bound 7).
SCHEDULE = ScheduleFacts(
    version=2,
    requested=8,
    scheduled=7,
    upper_bound=7,
    breaks=5,
    breaks_bound=3,
    idle_slots=9,
    break_difference=2,
    max_break_difference=2,
    method="exact",
    value=15,
    value_bound=15,
    solve_seconds=1.234,
)
FOLLOW_UPS = [
    FollowUpFacts(NANO.id, 1, agreements=1, distribution_deals=0, expected_revenue_eur=10_000),
    FollowUpFacts(
        NANO.id, 2, agreements=3, distribution_deals=1, mous=1, expected_revenue_eur=50_000
    ),
    FollowUpFacts(BIO.id, 1, agreements=0, revisits=2),
]


def data(**changes: Any) -> ReportInput:
    base: dict[str, Any] = {
        "mission_id": "eu-us-2017",
        "title": "High-level EU Cluster Mission to the USA",
        "organiser": "European Cluster Collaboration Platform",
        "destination": "United States",
        "timezone": "Europe/Brussels",
        "version": 1,
        "reason": "the feedback closed",
        "produced_at": AT,
        "applications": APPLICATIONS,
        "hosts": 2,
        "meetings": MEETINGS,
        "schedule": SCHEDULE,
        "visits": VISITS,
        "registrations": REGISTRATIONS,
        "feedback": FEEDBACK,
        "follow_ups": FOLLOW_UPS,
        "surveys": 3,
    }
    return ReportInput(**(base | changes))


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    return report.figures(data())


def ratio(count: int, of: int) -> tuple[int, int, float | None]:
    return count, of, round(count / of, 4) if of else None


def seen(value: dict[str, Any]) -> tuple[int, int, float | None]:
    return value["count"], value["of"], value["rate"]


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("applications", "received"), 9),
        (("applications", "withdrawn"), 1),
        (("selection", "decided"), 9),
        (("selection", "selected"), 6),
        (("selection", "waitlisted"), 1),
        (("selection", "not_selected"), 1),
        (("selection", "not_eligible"), 1),
        (("selection", "seats_offered"), 6),
        (("delegation", "size"), 4),
        (("delegation", "countries"), 3),
        (("meetings", "requested"), 12),
        (("meetings", "accepted"), 8),
        (("meetings", "declined"), 2),
        (("meetings", "pending"), 1),
        (("meetings", "cancelled"), 1),
        (("meetings", "scheduled"), 7),
        (("meetings", "held"), 5),
        (("meetings", "no_show"), 1),
        (("visits", "planned"), 3),
        (("visits", "held"), 2),
        (("visits", "registered"), 5),
        (("visits", "attended"), 3),
        (("feedback", "responses"), 4),
        (("feedback", "late"), 1),
        (("feedback", "testimonials_written"), 3),
        (("follow_up", "respondents"), 2),
    ],
)
def test_counts_match_the_raw_data(figures: dict, path: tuple[str, str], expected: int) -> None:
    assert figures[path[0]][path[1]] == expected


@pytest.mark.parametrize(
    ("path", "expected", "basis"),
    [
        (("applications", "complete"), ratio(7, 9), "applications received"),
        (("selection", "selection_rate"), ratio(6, 9), "applications with a selection decision"),
        (("selection", "confirmation_rate"), ratio(4, 6), "seat offers (waitlist included)"),
        (("meetings", "acceptance_rate"), ratio(8, 10), "requests answered (accepted or declined)"),
        (("meetings", "scheduling_rate"), ratio(7, 8), "accepted requests"),
        (("meetings", "held_rate"), ratio(5, 6), "scheduled meetings with attendance recorded"),
        (("visits", "attendance_rate"), ratio(3, 5), "registrations on visits not cancelled"),
        (("visits", "delegates_on_a_visit"), ratio(2, 4), "delegates"),
        (("feedback", "delegates"), ratio(3, 4), "delegates in the delegation"),
        (("feedback", "hosts"), ratio(1, 2), "hosts"),
        (("feedback", "met_partners"), ratio(2, 3), "respondents who answered"),
        (("feedback", "testimonials_published"), ratio(2, 3), "testimonials written"),
    ],
)
def test_rates_say_what_they_are_a_share_of(
    figures: dict, path: tuple[str, str], expected: tuple, basis: str
) -> None:
    value = figures[path[0]][path[1]]
    assert seen(value) == expected
    assert value["basis"] == basis


def test_applications_by_country_sector_and_type(figures: dict) -> None:
    by = figures["applications"]
    assert [(r["key"], r["count"]) for r in by["by_country"]] == [
        ("DE", 2), ("ES", 2), ("FR", 2), ("IT", 1), ("PL", 1), ("PT", 1),
    ]  # fmt: skip
    assert by["by_country"][0]["label"] == "Germany" and by["by_country"][0]["rate"] == 0.2222
    assert [(r["key"], r["count"]) for r in by["by_sector"]] == [
        ("Nanotechnologies", 7), ("Biotech", 2),
    ]  # fmt: skip
    assert [(r["label"], r["count"]) for r in by["by_organisation_type"]] == [
        ("Cluster organisation", 8), ("SME", 1),
    ]  # fmt: skip


def test_the_delegation_is_the_confirmed_seats_by_country(figures: dict) -> None:
    members = figures["delegation"]["members"]
    assert [m["organisation"] for m in members] == [
        "BioCluster Berlin", "Nano Bavaria", "Materials Lyon", "Chem Milano",
    ]  # fmt: skip
    assert members[2]["organisation_type"] == "SME" and members[2]["country_name"] == "France"


def test_visits_one_by_one(figures: dict) -> None:
    boston, philly, dc = figures["visits"]["by_visit"]
    assert (boston["registered"], boston["attended"], boston["no_show"]) == (3, 2, 1)
    assert seen(boston["attendance_rate"]) == ratio(2, 3)
    assert (philly["registered"], philly["waitlisted"], philly["attended"]) == (2, 1, 1)
    assert dc["cancelled"] and dc["registered"] == 1
    assert figures["visits"]["cities"] == ["Boston", "Philadelphia"]
    assert boston["starts_at_local"] == "22 May 2017 04:00 EDT (08:00 UTC)"


def test_feedback_scores_ignore_unanswered_ratings(figures: dict) -> None:
    scores = figures["feedback"]["scores"]
    assert scores["matchmaking"]["mean"] == 3.5  # (5 + 3 + 4 + 2) / 4
    assert scores["matchmaking"]["distribution"] == {"1": 0, "2": 1, "3": 1, "4": 1, "5": 1}
    assert (scores["visits"]["mean"], scores["visits"]["answers"]) == (4.0, 2)
    assert scores["organisation"]["mean"] == 4.0  # (5 + 4 + 3) / 3


def test_follow_up_by_survey_and_as_last_reported(figures: dict) -> None:
    first, second, third = figures["follow_up"]["surveys"]
    assert seen(first["responses"]) == ratio(2, 4)
    assert (first["agreements"], first["revisits"], first["expected_revenue_eur"]) == (1, 2, 10_000)
    assert (second["agreements"], second["mous"]) == (3, 1)
    assert seen(third["responses"]) == ratio(0, 4) and third["expected_revenue_eur"] is None
    # Nano Bavaria's second answer replaces its first; BioCluster's first still counts.
    assert figures["follow_up"]["latest"] == {
        "agreements": 3,
        "distribution_deals": 1,
        "mous": 1,
        "revisits": 2,
        "expected_revenue_eur": 50_000,
    }


def test_only_consented_non_blank_testimonials_are_published(figures: dict) -> None:
    assert [(t["by"], t["text"]) for t in figures["testimonials"]] == [
        ("Nano Bavaria", "Superb matchmaking."),
        ("Host Inc", "A *good* <b>visit</b>."),
    ]
    document = csv_document(figures)
    text = article(figures)
    for output in (str(figures), document, text):
        assert SECRET not in output and "hated" not in output


def test_an_empty_mission_has_no_rate_invented() -> None:
    empty = report.figures(data(applications=[], meetings=[], registrations=[], feedback=[]))
    assert empty["selection"]["selection_rate"]["rate"] is None
    assert empty["feedback"]["delegates"] == {
        "count": 0, "of": 0, "rate": None, "basis": "delegates in the delegation",
    }  # fmt: skip
    assert empty["testimonials"] == []
    assert "## In their words" not in article(empty)


def test_the_csv_is_one_filterable_table(figures: dict) -> None:
    rows = list(csv.DictReader(io.StringIO(csv_document(figures))))
    assert list(rows[0]) == list(CSV_COLUMNS)

    def find(table: str, key: str, measure: str) -> dict[str, str]:
        (row,) = [r for r in rows if (r["table"], r["key"], r["measure"]) == (table, key, measure)]
        return row

    assert find("applications_by_country", "DE", "count")["value"] == "2"
    assert find("applications_by_country", "DE", "count")["of"] == "9"
    rate = find("meetings", "", "acceptance_rate")
    assert (rate["value"], rate["of"]) == ("8", "10")
    assert rate["basis"] == "requests answered (accepted or declined)"
    assert find("visit", "boston", "attended")["value"] == "2"
    assert find("feedback_scores", "visits", "mean")["value"] == "4.0"
    assert find("follow_up_survey", "2", "agreements")["value"] == "3"
    assert find("testimonial", "Host Inc", "text")["value"] == "A *good* <b>visit</b>."
    assert len([r for r in rows if r["table"] == "testimonial"]) == 2
    assert len([r for r in rows if r["table"] == "delegation"]) == 4 * 3


def test_the_article_has_a_title_a_lead_figures_and_two_testimonials(figures: dict) -> None:
    text = article(figures)
    title, blank, lead = text.splitlines()[:3]
    assert title == "# High-level EU Cluster Mission to the USA: the results" and blank == ""
    assert lead.startswith("4 organisations from 3 countries took part in the High-level EU")
    assert "They held 5 B2B meetings with 2 host organisations" in lead
    assert "visited Boston and Philadelphia." in lead
    assert "- 9 applications from 6 countries" in text
    assert "- 12 meetings requested, 8 accepted, 7 scheduled, 5 held" in text
    # Best-rated first; what people typed is quoted as text, never as markup.
    quotes = text.split("## In their words\n\n")[1]
    assert quotes.index("Superb matchmaking.") < quotes.index("visit")
    assert "> A \\*good\\* \\<b\\>visit\\</b\\>." in quotes
    assert "> — Nano Bavaria (Germany)" in quotes


def test_the_article_quotes_at_most_two(figures: dict) -> None:
    more = [
        feedback(
            app(f"Org {n}", "FR"), (n, n, n), testimonial=f"Quote {n}", consent_to_publish=True
        )
        for n in (1, 2, 3)
    ]
    text = article(report.figures(data(feedback=more)))
    assert "Quote 3" in text and "Quote 2" in text and "Quote 1" not in text


def test_the_schedule_against_its_bounds(figures: dict) -> None:
    schedule = figures["schedule"]
    assert (schedule["version"], schedule["method"]) == (2, "exact")
    assert schedule["solve_seconds"] == 1.23
    assert seen(schedule["placed"]) == ratio(7, 7) and schedule["meetings_optimal"]
    assert schedule["placed"]["basis"] == "the most meetings any schedule places"
    assert (schedule["breaks"], schedule["breaks_bound"], schedule["breaks_gap"]) == (5, 3, 2)
    assert schedule["breaks_optimality"] == "gap 2"
    assert (schedule["idle_slots"], schedule["break_difference_met"]) == (9, True)
    # It adds up: the schedule's requests are the accepted ones, what it placed is scheduled,
    # and no bound is on the wrong side of its figure.
    assert schedule["requested"] == figures["meetings"]["accepted"]
    assert schedule["scheduled"] == figures["meetings"]["scheduled"]
    assert schedule["scheduled"] <= schedule["upper_bound"] <= schedule["requested"]
    assert schedule["breaks_bound"] <= schedule["breaks"]


@pytest.mark.parametrize(
    ("bound", "words", "gap"),
    [(5, "proven optimal", 0), (None, "no lower bound proven", None), (4, "gap 1", 1)],
)
def test_breaks_are_proven_optimal_or_show_their_gap(
    bound: int | None, words: str, gap: int | None
) -> None:
    schedule = schedule_figures(replace(SCHEDULE, breaks_bound=bound))
    assert schedule is not None
    assert (schedule["breaks_optimality"], schedule["breaks_gap"]) == (words, gap)


def test_before_any_schedule_there_are_no_schedule_figures() -> None:
    assert report.figures(data(schedule=None))["schedule"] is None
    rows = list(csv.DictReader(io.StringIO(csv_document(report.figures(data(schedule=None))))))
    assert not [r for r in rows if r["table"] == "schedule"]


def test_the_csv_has_the_schedule(figures: dict) -> None:
    rows = list(csv.DictReader(io.StringIO(csv_document(figures))))
    found = {r["measure"]: r for r in rows if r["table"] == "schedule"}
    assert found["breaks_bound"]["value"] == "3" and found["breaks_optimality"]["value"] == "gap 2"
    assert (found["placed"]["value"], found["placed"]["of"]) == ("7", "7")
