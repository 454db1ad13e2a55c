"""The selection's emails: the review, seat offers, the waitlist, refusals, released seats
and the final delegation, each worded for its case and escaping what people typed.
"""

from __future__ import annotations

from typing import Any

import pytest
from mail_contexts import (
    CONTEXTS,
    MISSION,
    MISSION_URL,
    PRIVATE_URL,
    SHOWN_RESPOND_BY,
    body,
    context,
)

from missionflow.runtime.mail.templates import render


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
