"""The pages speak their reader's language: every page template an applicant or a participant
sees (the apply form and its confirmation, and the pages a private link opens) rendered in
English, French and German with no English left (the checks the emails pass), and over HTTP the
language stored on the application, `?lang=` and its switch, the browser's for a host, and dates
and field errors in the page's language. The staff pages (the ops session, the dev mailbox) stay
English."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from feedback_people import People, seed
from sqlalchemy.ext.asyncio import AsyncEngine
from support import example
from translation_checks import TRANSLATED, Parsed, html_text, left_in_english

from api.pages.answers import refused
from api.pages.apply_fields import COUNTRIES, ORGANISATION_TYPES
from api.pages.rendering import templates
from api.schemas import ApplicationCreated
from api.updates import Refused
from missionflow.domain.access import access_token
from missionflow.domain.call.applications import SLIDE_MISSING, ApplicationStatus
from missionflow.domain.mission.call_section import QuestionType
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.refusals import CONFLICT, saying
from missionflow.domain.reporting.messages import AnswerReceipt
from missionflow.runtime import i18n
from missionflow.runtime.db import sessions
from missionflow.runtime.models import Application
from missionflow.runtime.settings import Settings
from workflows.reporting import ENDED, FEEDBACK_OPENS, SURVEY_OPENS

LANGUAGES = ["en", "fr", "de"]
MISSION = MissionFile.model_validate({**example("eu-us-2017"), "languages": LANGUAGES})
PUBLIC = {"Authorization": ""}
FRENCH_DATE = re.compile(
    r"\b\d{1,2} (janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre"
    r"|décembre) \d{4} \d\d:\d\d [A-Z]{3,4}\b"
)
"""A day as Babel writes it in French, time and zone named: `22 mars 2017 24:00 CET`."""


def _receipt(*, created: bool, changed: bool, late: bool) -> AnswerReceipt:
    return AnswerReceipt(respondent_id=uuid.uuid4(), created=created, changed=changed, late=late)


def page_contexts(language: str) -> list[tuple[str, dict[str, Any]]]:
    """Each page in each of its states, as its route fills it, in `language`."""
    say = i18n.translate
    closes = i18n.when(MISSION.feedback_closes_at, MISSION.timezone, language, end_of_day=True)
    answer = {"values": {}, "answered": False, "errors": {}, "general": None}
    errors = {
        "rating_visits": say(language, "Choose a rating from 1 to 5."),
        "testimonial": say(language, "Please write at most %(limit)s characters.", limit=3000),
    }
    feedback = {
        "organisation": "Bavarian Nano Cluster",
        "host": False,
        "ask_matchmaking": True,
        "ask_visits": True,
        "closes": closes,
        "closed": False,
        "ended": False,
        "meetings": [],
        "action": "/missions/eu-us-2017/feedback?token=t",
        **answer,
    }
    survey = {
        "organisation": "Bavarian Nano Cluster",
        "survey": 1,
        "surveys": 2,
        "closes": closes,
        "ended": False,
        "meetings": [],
        "action": "/missions/eu-us-2017/follow-up?token=t&survey=1",
        **answer,
    }
    meetings = [{"id": str(uuid.uuid4()), "partner": "Boston Nanofab", "at": closes}]
    rated = {f"outcome-{meetings[0]['id']}": "no_interest"}
    too_long = {
        "meeting_ratings": say(language, "Please write at most %(limit)s characters.", limit=1000)
    }
    pages = [
        ("feedback.html", feedback),
        ("feedback.html", {**feedback, "host": True, "closed": True}),
        ("feedback.html", {**feedback, "answered": True, "values": {"rating_visits": "4"}}),
        ("feedback.html", {**feedback, "errors": errors, "general": "Refused."}),
        ("feedback.html", {**feedback, "errors": {"met_partners": say(language, "Yes or no.")}}),
        ("feedback.html", {**feedback, "ended": True}),
        ("feedback.html", {**feedback, "meetings": meetings, "values": rated}),
        ("feedback.html", {**feedback, "meetings": meetings, "errors": too_long}),
        ("follow_up.html", survey),
        ("follow_up.html", {**survey, "surveys": 1, "answered": True}),
        ("follow_up.html", {**survey, "errors": {"mous": say(language, "Please give a number.")}}),
        ("follow_up.html", {**survey, "ended": True}),
        ("follow_up.html", {**survey, "meetings": meetings, "values": rated, "errors": too_long}),
    ]
    for number in (None, 1):
        for created, changed, late in (
            (True, True, False),
            (False, True, True),
            (False, False, False),
        ):
            receipt = _receipt(created=created, changed=changed, late=late)
            saved = {"receipt": receipt, "survey": number, "again": "/missions/eu-us-2017/x"}
            pages.append(("answer_saved.html", saved))
    links = [(code, i18n.language_name(code), f"?lang={code}") for code in LANGUAGES]
    private = [
        (name, {"mission": MISSION, "language": language, "languages": links, **context})
        for name, context in pages
    ]
    return apply_contexts(language) + private


def apply_contexts(language: str) -> list[tuple[str, dict[str, Any]]]:
    """The apply form (open, closed, refused) and its confirmation, as api.pages.apply fills
    them."""
    deadline = i18n.when(MISSION.call.deadline, MISSION.timezone, language, end_of_day=True)
    form = {
        "mission": MISSION,
        "language": language,
        "languages": [(code, i18n.language_name(code)) for code in LANGUAGES],
        "action": "/missions/eu-us-2017/apply",
        "deadline": deadline,
        "opens": None,
        "closed": None,
        "countries": COUNTRIES,
        "organisation_types": ORGANISATION_TYPES,
        "question_type": QuestionType,
        "again": False,
        "general": [],
        "errors": {},
        "summary": [],
        "values": {"sectors": []},
    }
    fill_in = i18n.translate(language, "Please fill in this field.")
    refused = {
        **form,
        "again": True,
        "general": ["Refused."],
        "errors": {"city": [fill_in]},
        "summary": [("#city", i18n.translate(language, "City"), fill_in)],
    }
    closed = {**form, "closed": i18n.translate(language, "Please send the form again.")}
    answer = ApplicationCreated(
        application_id=uuid.uuid4(),
        access_token="t",
        status=ApplicationStatus.RECEIVED,
        complete=False,
        missing=["slide"],
    )
    applied = {
        "mission": MISSION,
        "language": language,
        "answer": answer,
        "missing": i18n.missing_in([SLIDE_MISSING], MISSION, language),
        "created": True,
        "email": "ana@example.de",
        "private_link": "https://missions.example.org/x?token=t",
        "deadline": deadline,
    }
    complete = answer.model_copy(update={"missing": [], "complete": True, "access_token": None})
    again = {**applied, "answer": complete, "missing": [], "created": False, "private_link": None}
    return [
        ("apply.html", form),
        ("apply.html", refused),
        ("apply.html", closed),
        ("applied.html", applied),
        ("applied.html", again),
    ]


def _render(name: str, context: dict[str, Any]) -> str:
    return templates.env.get_template(name).render(context)


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_page_renders_in_every_language_with_no_english_left(language: str) -> None:
    english = page_contexts("en")
    for (name, context), (_, english_context) in zip(page_contexts(language), english, strict=True):
        page = _render(name, context)
        assert Parsed(page).lang == language
        said, english_said = html_text(page), html_text(_render(name, english_context))
        data = {**context, "mission": MISSION.model_dump(mode="json"), "receipt": None}
        assert not left_in_english(said, english_said, data, language), (name, context)


def test_the_english_pages_keep_their_words() -> None:
    for name, context in page_contexts("en"):
        page = _render(name, context)
        assert Parsed(page).lang == "en" and html_text(page)
    feedback = _render(*next(page for page in page_contexts("en") if page[0] == "feedback.html"))
    assert "<legend>The organisation</legend>" in feedback and "Feedback closes" in feedback


@pytest.mark.parametrize("language", ["fr", "de"])
def test_the_missions_refusals_are_said_in_the_pages_language(language: str) -> None:
    """What the workflow refuses a form with, shown on a French or German page: no English, and
    the instant in the reader's language and the mission's zone."""
    opens = datetime(2027, 5, 20, 16, 0, tzinfo=UTC)
    sayings = [
        saying(FEEDBACK_OPENS, at=opens),
        saying(SURVEY_OPENS, survey=2, at=opens),
        *(saying(message) for message in ENDED.values()),
    ]
    for said in sayings:
        english, _ = refused(Refused("x", kind=CONFLICT, said=said), "en", "Asia/Tokyo")
        text, code = refused(Refused("x", kind=CONFLICT, said=said), language, "Asia/Tokyo")
        assert code == 409 and text != english
        assert left_in_english(text, english, {}, language) == [], text
        if said["instants"]:
            assert i18n.when(opens, "Asia/Tokyo", language) in text
    plain, _ = refused(Refused("As written.", kind=CONFLICT), language, "Asia/Tokyo")
    assert plain == "As written."  # a refusal without words to translate is shown as written


# Over HTTP: the mission is written straight to the database, as in test_feedback_pages.py.


@pytest.fixture
async def people(engine: AsyncEngine) -> People:
    """The seeded mission speaking English, French and German, the first delegate having
    applied in French."""
    people = await seed(sessions(engine), languages=LANGUAGES)
    async with sessions(engine)() as session, session.begin():
        application = await session.get(Application, people.delegates[0])
        assert application is not None
        application.language = "fr"
    return people


def _token(settings: Settings, owner: uuid.UUID, kind: str = "application") -> str:
    return access_token(settings.link_secret(), owner, kind=kind)


async def test_a_delegate_reads_the_feedback_form_in_the_language_they_applied_in(
    api: httpx.AsyncClient, people: People, settings: Settings
) -> None:
    mission = f"/missions/{people.mission.id}"
    token = _token(settings, people.delegates[0])

    page = await api.get(f"{mission}/feedback?token={token}", headers=PUBLIC)

    assert page.status_code == 200
    assert Parsed(page.text).lang == "fr"
    assert "Votre avis sur la mission" in page.text and "Comment cela s'est-il passé ?" in page.text
    closes = i18n.when(
        people.mission.feedback_closes_at, people.mission.timezone, "fr", end_of_day=True
    )
    assert FRENCH_DATE.search(closes), closes
    assert f"<dd>{closes}</dd>" in page.text  # closing, in the mission's zone, named
    assert f'action="{mission}/feedback?token={token}&amp;lang=fr"' in page.text
    # The switch: the other languages, the private link kept.
    assert f'href="{mission}/feedback?token={token}&amp;lang=de"' in page.text
    assert '<strong lang="fr" aria-current="true">Français</strong>' in page.text


async def test_the_switch_link_opens_the_page_in_the_other_language(
    api: httpx.AsyncClient, people: People, settings: Settings
) -> None:
    mission = f"/missions/{people.mission.id}"
    token = _token(settings, people.delegates[0])

    german = await api.get(f"{mission}/feedback?token={token}&lang=de", headers=PUBLIC)
    unknown = await api.get(f"{mission}/feedback?token={token}&lang=it", headers=PUBLIC)
    survey = await api.get(f"{mission}/follow-up?token={token}&survey=2&lang=en", headers=PUBLIC)

    assert german.status_code == 200 and Parsed(german.text).lang == "de"
    assert "Ihre Rückmeldung zur Mission" in german.text and "Wie war es?" in german.text
    assert f'href="{mission}/feedback?token={token}&amp;lang=fr"' in german.text
    assert Parsed(unknown.text).lang == "fr"  # a language the mission does not speak: theirs
    assert survey.status_code == 200 and Parsed(survey.text).lang == "en"
    assert "2 of 2" in survey.text and "Answers close" in survey.text


async def test_a_host_is_spoken_to_as_its_browser_asks_else_in_the_default(
    api: httpx.AsyncClient, people: People, settings: Settings
) -> None:
    page = f"/missions/{people.mission.id}/feedback?token={_token(settings, people.host, 'host')}"

    german = await api.get(page, headers={**PUBLIC, "Accept-Language": "de-AT,de;q=0.9"})
    default = await api.get(page, headers=PUBLIC)

    assert Parsed(german.text).lang == "de" and "Boston Nanofab (Gastgeber)" in german.text
    assert Parsed(default.text).lang == "en" and "Boston Nanofab (host)" in default.text


async def test_field_errors_are_said_in_the_pages_language(
    api: httpx.AsyncClient, people: People, settings: Settings
) -> None:
    mission = f"/missions/{people.mission.id}"
    token = _token(settings, people.delegates[0])

    feedback = await api.post(
        f"{mission}/feedback?token={token}&lang=fr",
        data={"rating_visits": "9", "met_partners": "maybe", "testimonial": "x" * 3001},
        headers=PUBLIC,
    )
    survey = await api.post(
        f"{mission}/follow-up?token={token}&survey=1&lang=de",
        data={"agreements": "two", "mous": "10001"},
        headers=PUBLIC,
    )

    assert feedback.status_code == 422 and Parsed(feedback.text).lang == "fr"
    assert "Veuillez corriger ces points et renvoyer le formulaire" in feedback.text
    assert "Choisissez une note de 1 à 5." in feedback.text and "Oui ou non." in feedback.text
    assert "Veuillez écrire au plus 3\u202f000 caractères." in feedback.text
    assert survey.status_code == 422 and Parsed(survey.text).lang == "de"
    assert "Bitte geben Sie eine Zahl an." in survey.text
    assert "Bitte geben Sie eine Zahl von höchstens 10.000 an." in survey.text
