"""The application form and the applicant's emails in the applicant's language: a mission
written in English, French and German, a French applicant, and refusals of bad language fields."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from sqlmodel import select
from support import eventually, rehearsal
from test_apply_page import ANONYMOUS, Page, filled, send

from missionflow.runtime.models import Application

QUESTION_FR = "Combien d'organisations membres votre cluster compte-t-il ?"
QUESTION_DE = "Wie viele Mitgliedsorganisationen hat Ihr Cluster?"
OBJECTIVES_FR = "Quels sont vos objectifs pour cette mission ?"


def multilingual() -> dict[str, Any]:
    """The rehearsal, written in English, French and German (the objectives not in German)."""
    document = rehearsal(
        languages=["en", "fr", "de"],
        title={
            "en": "Rehearsal mission",
            "fr": "Mission de répétition",
            "de": "Probemission",
        },
    )
    questions = document["call"]["questionnaire"]
    questions[0]["text"] = {"en": questions[0]["text"], "fr": QUESTION_FR, "de": QUESTION_DE}
    questions[1]["choices"] = [
        {"en": "Gold", "fr": "Or", "de": "Gold"},
        {"en": "Silver", "fr": "Argent", "de": "Silber"},
        {"en": "Bronze", "fr": "Bronze", "de": "Bronze"},
        {"en": "None", "fr": "Aucun", "de": "Keines"},
    ]
    questions[2]["text"] = {"en": questions[2]["text"], "fr": OBJECTIVES_FR}
    return document


async def started(api: httpx.AsyncClient) -> dict[str, Any]:
    document = multilingual()
    response = await api.post("/missions", json=document)
    assert response.status_code == 201, response.text
    return document


async def test_the_form_in_french_asks_the_french_questions(api: httpx.AsyncClient) -> None:
    mission = await started(api)
    french = await api.get(
        f"/missions/{mission['id']}/apply",
        headers={**ANONYMOUS, "Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"},
    )
    assert french.status_code == 200
    page = Page(french.text)
    assert page.one("html")["lang"] == "fr"
    assert page.said("organisation") == ""  # an input: its label says the words
    assert "Candidater : Mission de répétition" in page.text
    assert QUESTION_FR in page.text and OBJECTIVES_FR in page.text
    assert "Envoyer la candidature" in page.text and "Date limite" in page.text
    assert page.said("q-management_label") == "Choisissez une réponse Or Argent Bronze Aucun"
    # A choice is sent by its default-language text: what the rubric scores.
    values = [o["value"] for o in page.all("option") if o["value"] in ("Gold", "Silver")]
    assert values == ["Gold", "Silver"]
    chosen = page.one("option", value="fr", lang="fr")
    assert "selected" in chosen
    assert [a["href"] for a in page.all("a", hreflang="en")] == ["?lang=en"]
    assert "How many member organisations" not in page.text

    german = Page((await api.get(f"/missions/{mission['id']}/apply?lang=de")).text)
    assert QUESTION_DE in german.text and "Bewerbung absenden" in german.text
    # Not written in German: the default language's text.
    assert "What are your objectives for this mission?" in german.text
    english = Page((await api.get(f"/missions/{mission['id']}/apply")).text)
    assert "Apply: Rehearsal mission" in english.text and QUESTION_FR not in english.text


async def test_a_french_applicant_is_answered_in_french(
    api: httpx.AsyncClient, mailbox, session_factory
) -> None:
    mission = await started(api)
    response = await send(
        api,
        mission["id"],
        filled(
            **{
                "language": "fr",
                "answers.first_mission": None,
                "answers.management_label": "Silver",
            }
        ),
    )
    assert response.status_code == 201, response.text
    page = Page(response.text)
    assert page.one("html")["lang"] == "fr"
    assert "Merci : votre candidature a bien été reçue" in page.text
    assert f"une réponse à « {OBJECTIVES_FR} »" in page.text
    async with session_factory() as session:
        row = (
            await session.exec(select(Application).where(Application.mission_id == mission["id"]))
        ).one()
    assert row.language == "fr" and row.answers["management_label"] == "Silver"

    async def confirmed() -> Any:
        sent = mailbox.sent("application_received", "jana.weber@example.org")
        assert len(sent) == 1
        return sent[0]

    email = await eventually(confirmed)
    assert email["Subject"].startswith("Manifestation d'intérêt reçue, encore incomplète")
    assert "Mission de répétition" in email["Subject"]
    text = email.get_body(("plain",)).get_content()
    assert "Bonjour Jana Weber," in text
    assert f"une réponse à « {OBJECTIVES_FR} »" in text
    # The deadline, French-formatted, its zone named: "7 décembre 2026 18:32 CET (17:32 UTC)".
    month = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
    deadline = re.search(rf"avant le (\d{{1,2}} (?:{month}) \d{{4}} \d\d:\d\d CES?T) \(", text)
    assert deadline is not None, text
    html = email.get_body(("html",)).get_content()
    assert '<html lang="fr">' in html and "Cordialement," in html


async def test_without_a_choice_the_applicant_gets_the_default_language(
    api: httpx.AsyncClient, session_factory
) -> None:
    mission = await started(api)
    body = {
        "organisation": "Cluster Energy Lyon",
        "organisation_type": "cluster_organisation",
        "country": "FR",
        "city": "Lyon",
        "contact_name": "Luc Martin",
        "contact_email": "luc.martin@example.org",
        "sectors": ["Energy and sustainability"],
        "consent": True,
    }
    response = await api.post(f"/missions/{mission['id']}/applications", json=body)
    assert response.status_code == 201, response.text
    async with session_factory() as session:
        row = await session.get(Application, uuid.UUID(response.json()["application_id"]))
    assert row is not None and row.language == "en"


async def test_a_language_the_mission_does_not_speak_is_refused(api: httpx.AsyncClient) -> None:
    mission = await started(api)
    body = {
        "organisation": "Cluster Energy Milano",
        "organisation_type": "cluster_organisation",
        "country": "IT",
        "city": "Milano",
        "contact_name": "Lia Rossi",
        "contact_email": "lia.rossi@example.org",
        "sectors": ["Energy and sustainability"],
        "consent": True,
        "language": "it",
    }
    response = await api.post(f"/missions/{mission['id']}/applications", json=body)
    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "language"]
    assert "not a language of this mission; choose from: en, fr, de" in error["msg"]


@pytest.mark.parametrize(
    ("change", "location", "message"),
    [
        (
            {"title": {"en": "Mission", "it": "Missione"}},
            ["body", "title"],
            "it is not one of this mission's languages (en, fr, de)",
        ),
        ({"title": {"fr": "Mission"}}, ["body", "title"], "default language (en) is missing"),
        ({"languages": ["en", "qq"]}, ["body", "languages", 1], "'qq' is not a known language"),
    ],
)
async def test_bad_language_fields_of_a_mission_file_are_refused_at_the_field(
    api: httpx.AsyncClient, change: dict[str, Any], location: list[Any], message: str
) -> None:
    document = {**multilingual(), **change}
    response = await api.post("/missions", json=document)
    assert response.status_code == 422, response.text
    errors = response.json()["detail"]
    assert any(e["loc"] == location and message in e["msg"] for e in errors), errors


MONTH_FR = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre"
DAY_FR = rf"\d{{1,2}} (?:{MONTH_FR}) \d{{4}} \d\d:\d\d CES?T"
"""A French-written instant in the mission's zone: `7 décembre 2026 19:11 CET`."""


def french_application(organisation: str, email: str, **answers: Any) -> dict[str, Any]:
    return {
        "organisation": organisation,
        "organisation_type": "cluster_organisation",
        "country": "FR",
        "city": "Lyon",
        "contact_name": f"Contact {organisation.split()[-1]}",
        "contact_email": email,
        "sectors": ["Advanced materials"],
        "answers": {"member_organisations": 80, "management_label": "Gold", **answers},
        "consent": True,
        "language": "fr",
    }


async def test_french_applicants_are_reminded_and_told_the_selection_in_french(
    api: httpx.AsyncClient, mailbox
) -> None:
    """The reminder, the seat offer and the refusal are written by activities that read the
    application's language from the database: a French applicant receives them in French."""
    document = multilingual()
    document.update(matchmaking=None, visits=[])
    document["call"].update(deadline="+PT20S", reminders=["PT10S"])
    document["selection"].update(decision_due="+PT25S", delegation_lock="+PT2H", auto_approve=True)
    document["reporting"].update(report_due="+PT3H", follow_up=[])
    assert (await api.post("/missions", json=document)).status_code == 201, document
    applications = f"/missions/{document['id']}/applications"
    incomplete = french_application("Cluster Lumière", "lumiere@example.org")
    complete = french_application(
        "Cluster Grenoble", "grenoble@example.org", mission_objectives="Partners"
    )
    for body in (incomplete, complete):
        response = await api.post(applications, json=body)
        assert response.status_code == 201, response.text

    async def reminded() -> Any:
        sent = mailbox.sent("deadline_reminder", "lumiere@example.org")
        assert len(sent) == 1
        return sent[0]

    reminder = await eventually(reminded, within=60)
    assert reminder["Subject"] == (
        "Rappel : votre candidature est incomplète, plus que 10 secondes – Mission de répétition"
    )
    text = reminder.get_body(("plain",)).get_content()
    assert "Bonjour Contact Lumière," in text
    assert f"une réponse à « {OBJECTIVES_FR} »" in text
    # Babel's units keep the number with its unit: a no-break space.
    closes = rf"se termine dans 10\u00a0secondes, le {DAY_FR} \("
    assert re.search(closes, text), text
    assert "Veuillez compléter la vôtre avant la date limite" in text
    assert "your application" not in text.casefold()
    assert '<html lang="fr">' in reminder.get_body(("html",)).get_content()

    async def offered() -> Any:
        sent = mailbox.sent("selected", "grenoble@example.org")
        assert len(sent) == 1
        return sent[0]

    offer = await eventually(offered, within=60)
    assert offer["Subject"] == (
        "Sélection : une place dans la délégation pour Cluster Grenoble – Mission de répétition"
    )
    text = offer.get_body(("plain",)).get_content()
    respond = rf"sous 30\u00a0secondes, au plus tard le {DAY_FR}"
    assert re.search(respond, text), text
    assert "Veuillez ne pas communiquer ce lien" in text and "Cordialement," in text

    async def refused() -> Any:
        sent = mailbox.sent("not_selected", "lumiere@example.org")
        assert len(sent) == 1
        return sent[0]

    refusal = await eventually(refused)
    text = refusal.get_body(("plain",)).get_content()
    assert "La candidature était incomplète à la date limite." in text
    assert "n'a pas été retenue pour la délégation" in text
