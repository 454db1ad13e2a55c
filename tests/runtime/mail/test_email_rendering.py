"""Every email template renders a one-line subject, a text and an HTML part; what people
typed is escaped, deadlines are shown in the mission's zone, unknown templates are refused.
"""

from __future__ import annotations

import jinja2
import pytest
from mail_contexts import APPLY_URL, MISSION, PRIVATE_URL, SHOWN_DEADLINE, context

from missionflow.runtime.mail.templates import TEMPLATES, render


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
