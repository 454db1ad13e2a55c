"""The public application form: generated from the call and sent as a browser sends it (a real
headless Chromium uses it in test_apply_in_browser.py)."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest
from iso3166 import countries_by_alpha2
from sqlmodel import func, select
from support import eventually, rehearsal

from missionflow.runtime.models import Application, Slide

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ANONYMOUS = {"Authorization": ""}
FIRST_MISSION = {
    "id": "first_mission",
    "text": "Is this your first trade mission?",
    "type": "boolean",
    "required": False,
}


async def started(api: httpx.AsyncClient, **call: Any) -> dict[str, Any]:
    """The rehearsal mission, with a yes/no question so every question type is on the form."""
    document = rehearsal()
    document["call"]["questionnaire"].append(FIRST_MISSION)
    document["call"].update(call)
    response = await api.post("/missions", json=document)
    assert response.status_code == 201, response.text
    return document


def filled(**changes: Any) -> dict[str, Any]:
    """The form's fields as a browser sends them."""
    fields = {
        "organisation": "Cluster Nano Bavaria",
        "organisation_type": "cluster_organisation",
        "country": "DE",
        "city": "Munich",
        "website": "https://nano.example.org",
        "contact_name": "Jana Weber",
        "contact_email": "jana.weber@example.org",
        "sectors": ["Advanced materials"],
        "answers.member_organisations": "120",
        "answers.management_label": "Gold",
        "answers.mission_objectives": "",
        "answers.first_mission": "true",
        "consent": "on",
        **changes,
    }
    return {key: value for key, value in fields.items() if value is not None}


async def send(
    api: httpx.AsyncClient, mission_id: str, fields: dict[str, Any], slide: bytes | None = None
) -> httpx.Response:
    upload = ("pitch.pdf", slide or b"", "application/pdf")  # no file chosen: an empty part
    return await api.post(
        f"/missions/{mission_id}/apply",
        data=fields,
        files={"slide": upload if slide is not None else ("", b"", "application/octet-stream")},
        headers=ANONYMOUS,
    )


class Page(HTMLParser):
    """What the tests read from a page: its elements with their attributes, text by id."""

    VOID = frozenset({"input", "br", "meta", "link", "img", "hr"})

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.texts: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []
        self.feed(html)
        self.text = unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.elements.append((tag, attributes))
        if tag not in self.VOID:
            self._open.append((tag, attributes.get("id")))
            if "id" in attributes:
                self.texts.setdefault(attributes["id"], "")

    def handle_endtag(self, tag: str) -> None:
        while self._open and self._open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        for _, identifier in self._open:
            if identifier:
                self.texts[identifier] += data

    def all(self, tag: str, **match: str) -> list[dict[str, str]]:
        return [
            attributes
            for name, attributes in self.elements
            if name == tag and all(attributes.get(k) == v for k, v in match.items())
        ]

    def one(self, tag: str, **match: str) -> dict[str, str]:
        found = self.all(tag, **match)
        assert len(found) == 1, (tag, match, found)
        return found[0]

    def said(self, identifier: str) -> str:
        return re.sub(r"\s+", " ", self.texts.get(identifier, "")).strip()


async def test_the_form_asks_every_question_of_the_call(api: httpx.AsyncClient) -> None:
    mission = await started(api)
    response = await api.get(f"/missions/{mission['id']}/apply", headers=ANONYMOUS)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = Page(response.text)
    deadline = (await api.get(f"/missions/{mission['id']}")).json()["deadline"]["text"]
    for shown in (mission["title"], mission["organiser"], mission["destination"], deadline):
        assert shown in page.text
    form = page.one("form", method="post", enctype="multipart/form-data")
    assert form["action"] == f"/missions/{mission['id']}/apply"

    for name in ("organisation", "city", "contact_name"):
        assert "required" in page.one("input", name=name, type="text")
    assert "required" in page.one("input", name="contact_email", type="email")
    assert "required" not in page.one("input", name="website", type="url")
    kinds = page.all("input", name="organisation_type", type="radio")
    assert [k["value"] for k in kinds] == [
        "cluster_organisation", "sme", "university_or_research", "other",
    ]  # fmt: skip
    assert "Cluster organisation" in page.text and "University or research body" in page.text
    assert "required" in page.one("select", name="country")
    countries = [o["value"] for o in page.all("option") if re.fullmatch(r"[A-Z]{2}", o["value"])]
    assert sorted(countries) == sorted(countries_by_alpha2)
    assert page.said("country").startswith("Choose a country Afghanistan Åland Islands Albania")
    sectors = page.all("input", name="sectors", type="checkbox")
    assert [s["value"] for s in sectors] == mission["call"]["sectors"]

    questions = {q["id"]: q for q in mission["call"]["questionnaire"]}
    for question in questions.values():
        assert question["text"] in page.text
    number = page.one("input", name="answers.member_organisations")
    assert number["type"] == "number" and number["step"] == "1"
    choice = page.one("select", name="answers.management_label")
    assert page.said(choice["id"]) == "Choose an answer Gold Silver Bronze None"
    assert page.one("textarea", name="answers.mission_objectives")
    assert [r["value"] for r in page.all("input", name="answers.first_mission")] == [
        "true",
        "false",
    ]
    answers = [a for _, a in page.elements if a.get("name", "").startswith("answers.")]
    assert answers and not any("required" in a for a in answers)  # missing, not refused

    slide = page.one("input", name="slide", type="file")
    assert slide["accept"].startswith(".pdf,.pptx,application/pdf")
    assert "PDF or PPTX, at most 10 MB" in page.text
    assert "required" in page.one("input", name="consent", type="checkbox")
    assert "stores and processes the data" in page.text

    # Every control has a label tied to it, every id is unique, every group has a legend.
    ids = [a["id"] for _, a in page.elements if "id" in a]
    assert len(ids) == len(set(ids))
    labelled = {a["for"] for a in page.all("label")}
    controls = [
        a
        for tag, a in page.elements
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden"
    ]
    assert len(controls) > 15 and all(c["id"] in labelled for c in controls)
    assert response.text.count("<fieldset") == response.text.count("<legend")
    assert "<script" not in response.text


async def test_an_unknown_mission_has_no_form(api: httpx.AsyncClient) -> None:
    response = await api.get("/missions/no-such-mission/apply", headers=ANONYMOUS)
    assert response.status_code == 404
    assert response.json() == {"detail": "No mission with id 'no-such-mission'."}


async def test_the_form_applies_and_gives_the_private_link(
    api: httpx.AsyncClient, mailbox, session_factory
) -> None:
    mission = await started(api)
    response = await send(api, mission["id"], filled(), slide=PDF)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    page = Page(response.text)
    assert "Thank you: your application has been received" in page.text
    assert "Your private link" in page.text
    assert "Still missing" in page.text
    assert "an answer to “What are your objectives for this mission?”" in page.text
    assert "sent a confirmation with your private link to jana.weber@example.org" in page.text
    link = re.search(
        r'href="(http://missionflow\.test(/missions/[^/]+/applications/([0-9a-f-]{36})\?token=[\w-]+))"',
        response.text,
    )
    assert link is not None, response.text
    assert link.group(3) in page.text  # the application id

    mine = await api.get(link.group(2), headers=ANONYMOUS)
    assert mine.status_code == 200, mine.text
    application = mine.json()
    assert application["organisation"] == "Cluster Nano Bavaria"
    assert application["country"] == "DE" and application["sectors"] == ["Advanced materials"]
    assert application["answers"] == {
        "member_organisations": 120,
        "management_label": "Gold",
        "first_mission": True,
    }
    assert application["has_slide"] is True and application["complete"] is False
    assert application["missing"] == ["an answer to “What are your objectives for this mission?”"]

    async def confirmed() -> None:
        sent = mailbox.sent("application_received", "jana.weber@example.org")
        assert len(sent) == 1
        assert link.group(1) in sent[0].get_body(("plain",)).get_content()

    await eventually(confirmed)

    again = await send(api, mission["id"], filled(city="Nuremberg"))
    assert again.status_code == 200
    assert "You have already applied" in again.text
    assert "already applied with this email" in again.text
    assert "token=" not in again.text  # other words: the link is not given out
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Application)) == 1


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"contact_email": "nobody", "country": "XX", "consent": None},
            {
                "contact_email": "Not a valid email address: ",
                "country": "'XX' is not an ISO 3166 country code",
                "consent": "Consent to the processing of the data is required",
            },
        ),
        ({"consent": None}, {"consent": "Consent to the processing of the data is required"}),
        (
            {"sectors": ["Knitting"], "answers.member_organisations": "many"},
            {
                "sectors": "'Knitting' is not a sector of this call",
                "q-member_organisations": "The answer must be a whole number",
            },
        ),
        ({"sectors": None, "city": ""}, {"sectors": "Choose at least one sector", "city": "fill"}),
    ],
)
async def test_a_refused_form_comes_back_with_messages_at_their_fields(
    api: httpx.AsyncClient, session_factory, changes, expected
) -> None:
    mission = await started(api)
    fields = filled(**changes)
    response = await send(api, mission["id"], fields)
    assert response.status_code == 422, response.text
    page = Page(response.text)
    assert page.one("div", role="alert")["class"] == "error-summary"
    for field, message in expected.items():
        assert message in page.said(f"{field}-error"), (field, page.said(f"{field}-error"))
        anchor = {"sectors": "sector-0"}.get(field, field)
        assert page.one("a", href=f"#{anchor}")
        assert message in page.said("error-summary")
    if "contact_email" in expected:
        email = page.one("input", name="contact_email")
        assert email["aria-invalid"] == "true"
        assert "contact_email-error" in email["aria-describedby"]
    # What was typed is kept, apart from the file.
    assert page.one("input", name="organisation")["value"] == "Cluster Nano Bavaria"
    assert page.one("input", name="contact_email")["value"] == fields["contact_email"]
    assert "selected" in page.one("option", value="Gold")
    assert "checked" in page.one("input", id="q-first_mission-true")
    assert "checked" not in page.one("input", id="q-first_mission-false")
    if "sectors" not in changes:
        assert "checked" in page.one("input", value="Advanced materials")
    assert ("checked" in page.one("input", name="consent")) == ("consent" in fields)
    assert "choose it again" in page.text
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Application)) == 0


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"GIF89a not a slide", 415, "The slide must be a PDF or a PowerPoint (PPTX) file."),
        (b"%PDF-" + b"0" * (10 * 1024 * 1024), 413, "at most 10 MB is accepted"),
    ],
)
async def test_a_refused_slide_comes_back_with_the_form_kept(
    api: httpx.AsyncClient, session_factory, content: bytes, status: int, message: str
) -> None:
    mission = await started(api)
    response = await send(api, mission["id"], filled(), slide=content)
    assert response.status_code == status
    page = Page(response.text)
    assert message in page.said("error-summary")
    assert page.one("input", name="city")["value"] == "Munich"
    assert "checked" in page.one("input", value="Advanced materials")
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Application)) == 0
        assert await session.scalar(select(func.count()).select_from(Slide)) == 0


async def test_before_the_call_opens_the_form_says_when(api: httpx.AsyncClient) -> None:
    mission = await started(api, opens_at="+PT1M")
    form = await api.get(f"/missions/{mission['id']}/apply", headers=ANONYMOUS)
    assert form.status_code == 200 and "The call opens on " in form.text
    response = await send(api, mission["id"], filled())
    assert response.status_code == 409
    page = Page(response.text)
    assert page.one("div", role="alert")
    assert "The call for expression of interest opens on " in page.text
    assert page.one("input", name="organisation")["value"] == "Cluster Nano Bavaria"


async def test_a_cancelled_mission_shows_no_form(api: httpx.AsyncClient) -> None:
    mission = await started(api)
    cancelled = await api.post(f"/missions/{mission['id']}/cancel", json={"reason": "Venue"})
    assert cancelled.status_code == 200, cancelled.text
    response = await api.get(f"/missions/{mission['id']}/apply", headers=ANONYMOUS)
    assert response.status_code == 200
    assert "This mission has been cancelled" in response.text
    assert "<form" not in response.text
