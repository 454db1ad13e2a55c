"""The pure rules of an expression of interest: the form, the call's sectors and questions,
completeness, slides recognised by content, and private links."""

from __future__ import annotations

import io
import uuid
import zipfile
from typing import Any

import pytest
from pydantic import ValidationError
from support import example

from missionflow.domain.access import access_token, token_matches
from missionflow.domain.call.applications import (
    ApplicationForm,
    canonical_sectors,
    email_key,
    form_errors,
    missing_items,
    organisation_key,
)
from missionflow.domain.call.slides import PDF, PPTX, SlideRefused, content_type_of
from missionflow.domain.mission.file import load_mission

MISSION = load_mission(example("eu-us-2017"))


def form(**changes: Any) -> dict[str, Any]:
    return {
        "organisation": "Cluster Nano Bavaria",
        "organisation_type": "cluster_organisation",
        "country": "de",
        "city": "Munich",
        "website": "https://nano.example.org",
        "contact_name": "Jana Weber",
        "contact_email": "Jana.Weber@example.org",
        "sectors": ["nanotechnologies"],
        "answers": {},
        "consent": True,
        **changes,
    }


def test_a_good_form_is_normalised() -> None:
    parsed = ApplicationForm.model_validate(form())
    assert parsed.country == "DE"
    assert canonical_sectors(MISSION, parsed.sectors) == ["Nanotechnologies"]
    assert form_errors(MISSION, sectors=parsed.sectors, answers=parsed.answers) == []


@pytest.mark.parametrize(
    ("changes", "location", "message"),
    [
        ({"country": "XX"}, ("country",), "not an ISO 3166 country code"),
        ({"contact_email": "not-an-email"}, ("contact_email",), "email"),
        ({"consent": False}, (), "consent to the processing of the data is required"),
        ({"organisation": ""}, ("organisation",), "at least 1 character"),
        ({"organisation_type": "guild"}, ("organisation_type",), "Input should be"),
        ({"website": "not a url"}, ("website",), "URL"),
        ({"sectors": []}, ("sectors",), "at least 1 item"),
        ({"shoe_size": 44}, ("shoe_size",), "Extra inputs are not permitted"),
    ],
)
def test_form_refusals(changes, location, message) -> None:
    with pytest.raises(ValidationError) as refused:
        ApplicationForm.model_validate(form(**changes))
    errors = refused.value.errors()
    assert any(tuple(e["loc"]) == location and message in e["msg"] for e in errors), errors


@pytest.mark.parametrize(
    ("sectors", "answers", "location", "message"),
    [
        (["Knitting"], {}, ("sectors", 0), "not a sector of this call"),
        (["Nanotechnologies", "nanotechnologies"], {}, ("sectors",), "chosen once"),
        (
            ["Nanotechnologies"],
            {"favourite_colour": "blue"},
            ("answers", "favourite_colour"),
            "no such question",
        ),
        (
            ["Nanotechnologies"],
            {"member_organisations": "many"},
            ("answers", "member_organisations"),
            "whole number",
        ),
        (
            ["Nanotechnologies"],
            {"member_organisations": True},
            ("answers", "member_organisations"),
            "whole number",
        ),
        (
            ["Nanotechnologies"],
            {"management_label": "Platinum"},
            ("answers", "management_label"),
            "one of",
        ),
        (
            ["Nanotechnologies"],
            {"us_partnerships": "yes"},
            ("answers", "us_partnerships"),
            "true or false",
        ),
        (
            ["Nanotechnologies"],
            {"mission_objectives": "x" * 5001},
            ("answers", "mission_objectives"),
            "at most",
        ),
    ],
)
def test_errors_against_the_call(sectors, answers, location, message) -> None:
    errors = form_errors(MISSION, sectors=sectors, answers=answers)
    assert any(e["loc"] == location and message in e["msg"] for e in errors), errors


def test_completeness_lists_what_is_missing_in_words() -> None:
    required = [q for q in MISSION.call.questionnaire if q.required]
    missing = missing_items(MISSION, {}, has_slide=False)
    assert len(missing) == len(required) + 1
    assert missing[-1] == "the one-slide presentation (PDF or PPTX)"
    answers = {q.id: _answer(q.type.value, q.choices) for q in required}
    assert missing_items(MISSION, answers, has_slide=True) == []
    assert missing_items(MISSION, {**answers, required[0].id: ""}, has_slide=True) == [
        f"an answer to “{required[0].text}”"
    ]


def _answer(kind: str, choices: list[str] | None) -> Any:
    return {"integer": 12, "boolean": False, "choice": (choices or [""])[0]}.get(kind, "Text")


def test_the_same_applicant_despite_case_and_spacing() -> None:
    assert organisation_key("  Cluster  Nano\tBavaria ") == organisation_key("cluster nano bavaria")
    assert email_key(" Jana.Weber@Example.org") == email_key("jana.weber@example.org")


def test_slides_are_recognised_by_content() -> None:
    assert content_type_of(b"%PDF-1.7\n...") == PDF
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("ppt/presentation.xml", "<presentation/>")
    assert content_type_of(buffer.getvalue()) == PPTX
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    for content in (other.getvalue(), b"GIF89a", b"PK\x03\x04 broken zip", b""):
        with pytest.raises(SlideRefused) as refused:
            content_type_of(content)
        assert not refused.value.too_large
    with pytest.raises(SlideRefused) as refused:
        content_type_of(b"%PDF-" + b"0" * (10 * 1024 * 1024))
    assert refused.value.too_large and "at most 10 MB" in str(refused.value)


def test_private_links_are_signed_per_application() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    token = access_token("secret", first)
    assert token == access_token("secret", first)
    assert token_matches("secret", first, token)
    assert not token_matches("secret", second, token)
    assert not token_matches("other secret", first, token)
    assert not token_matches("secret", first, None)
    assert not token_matches("secret", first, token[:-1])
