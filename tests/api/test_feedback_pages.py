"""The feedback and follow-up pages over HTTP, up to the workflow: the private link says who
answers, forms are prefilled, and refused bodies never reach the mission. The mission is written
straight to the database (no workflow runs), so nothing here sends an Update; the answers
themselves are in test_feedback_answers_api.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest
from feedback_people import People, seed
from sqlalchemy.ext.asyncio import AsyncEngine

from activities.feedback import FeedbackActivities
from missionflow.domain.access import access_token
from missionflow.domain.instants import describe
from missionflow.domain.reporting.messages import AnswerRecord, FeedbackInput, FollowUpInput
from missionflow.runtime.db import sessions
from missionflow.runtime.settings import Settings

PUBLIC = {"Authorization": ""}


@pytest.fixture
async def people(engine: AsyncEngine) -> People:
    return await seed(sessions(engine))


def token(settings: Settings, owner: uuid.UUID, kind: str = "application") -> str:
    return access_token(settings.link_secret(), owner, kind=kind)


async def test_the_feedback_form_opens_by_a_delegates_or_a_hosts_link(
    api: httpx.AsyncClient, people: People, settings: Settings
) -> None:
    mission = f"/missions/{people.mission.id}"
    delegate = await api.get(
        f"{mission}/feedback?token={token(settings, people.delegates[0])}", headers=PUBLIC
    )
    host = await api.get(
        f"{mission}/feedback",
        headers={**PUBLIC, "X-Access-Token": token(settings, people.host, "host")},
    )

    assert delegate.status_code == 200 and host.status_code == 200
    assert delegate.headers["content-type"].startswith("text/html")
    assert delegate.headers["cache-control"] == "no-store"
    assert "Alpha Cluster" in delegate.text and "Boston Nanofab (host)" in host.text
    assert 'name="rating_visits"' in delegate.text and 'name="rating_visits"' not in host.text
    assert 'name="rating_matchmaking"' in host.text and 'name="testimonial"' in host.text
    assert "<legend>The organisation</legend>" in delegate.text
    assert "<script" not in delegate.text
    closes = describe(people.mission.feedback_closes_at, "Europe/Brussels", end_of_day=True)
    assert f"<dt>Feedback closes</dt><dd>{closes}</dd>" in delegate.text
    assert "(" in closes and "UTC)" in closes  # the zone's name, and UTC beside it
    given = token(settings, people.delegates[0])
    action = f'action="{mission}/feedback?token={given}&amp;lang=en"'  # answers in this language
    assert action in delegate.text


@pytest.mark.parametrize("who", ["waitlisted", "foreign_host", "wrong_kind", "none", "garbage"])
async def test_any_other_link_is_not_found(
    api: httpx.AsyncClient, people: People, settings: Settings, who: str
) -> None:
    given = {
        "waitlisted": token(settings, people.waitlisted),
        "foreign_host": token(settings, people.foreign_host, "host"),
        "wrong_kind": token(settings, people.host),  # a host's id signed as an application
        "none": "",
        "garbage": "x" * 32,
    }[who]
    mission = f"/missions/{people.mission.id}"

    page = await api.get(f"{mission}/feedback?token={given}", headers=PUBLIC)
    sent = await api.post(
        f"{mission}/feedback?token={given}", json={"rating_visits": 5}, headers=PUBLIC
    )
    survey = await api.get(f"{mission}/follow-up?token={given}&survey=1", headers=PUBLIC)

    assert page.status_code == sent.status_code == survey.status_code == 404
    assert sent.json() == {"detail": "No respondent of this mission for this link."}


async def test_a_host_has_no_follow_up_survey_and_unknown_surveys_are_not_found(
    api: httpx.AsyncClient, people: People, settings: Settings
) -> None:
    mission = f"/missions/{people.mission.id}"
    host = token(settings, people.host, "host")
    delegate = token(settings, people.delegates[1])

    assert (
        await api.get(f"{mission}/follow-up?token={host}&survey=1", headers=PUBLIC)
    ).status_code == 404
    assert (
        await api.get(f"{mission}/follow-up?token={delegate}&survey=3", headers=PUBLIC)
    ).status_code == 404
    assert (
        await api.get(f"{mission}/follow-up?token={delegate}&survey=0", headers=PUBLIC)
    ).status_code == 422
    page = await api.get(f"{mission}/follow-up?token={delegate}&survey=2", headers=PUBLIC)
    assert page.status_code == 200 and "Beta Cluster" in page.text and "2 of 2" in page.text
    for field in ("agreements", "distribution_deals", "mous", "revisits", "expected_revenue_eur"):
        assert f'name="{field}"' in page.text
    assert "Answers close" in page.text


async def test_refused_bodies_answer_422_at_their_fields_before_any_update(
    api: httpx.AsyncClient, people: People, settings: Settings
) -> None:
    mission = f"/missions/{people.mission.id}"
    headers = {**PUBLIC, "X-Access-Token": token(settings, people.delegates[0])}

    bad = await api.post(
        f"{mission}/feedback",
        json={"rating_visits": 6, "rating_organisation": 0, "testimonial": "x" * 3001, "x": 1},
        headers=headers,
    )
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {
        ("body", "rating_visits"),
        ("body", "rating_organisation"),
        ("body", "testimonial"),
        ("body", "x"),
    }
    not_json = await api.post(
        f"{mission}/feedback", content="{", headers={**headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 422 and not_json.json()["detail"][0]["loc"] == ["body"]
    text = await api.post(
        f"{mission}/feedback", content="5", headers={**headers, "Content-Type": "text/plain"}
    )
    assert text.status_code == 415

    survey = await api.post(
        f"{mission}/follow-up?survey=1", json={"agreements": -1, "mous": "many"}, headers=headers
    )
    assert survey.status_code == 422
    assert {tuple(e["loc"]) for e in survey.json()["detail"]} == {
        ("body", "agreements"),
        ("body", "mous"),
    }
    no_survey = await api.post(f"{mission}/follow-up", json={"agreements": 1}, headers=headers)
    assert no_survey.status_code == 422
    assert no_survey.json()["detail"][0]["loc"] == ["query", "survey"]
    mismatch = await api.post(f"{mission}/follow-up?survey=1", json={"survey": 2}, headers=headers)
    assert mismatch.status_code == 422 and mismatch.json()["detail"][0]["loc"] == ["body", "survey"]


async def test_a_refused_form_is_shown_again_with_the_values_and_each_message(
    api: httpx.AsyncClient, people: People, settings: Settings
) -> None:
    mission = f"/missions/{people.mission.id}"
    given = token(settings, people.delegates[0])

    page = await api.post(
        f"{mission}/feedback?token={given}",
        data={
            "rating_matchmaking": "9",
            "rating_visits": "4",
            "rating_organisation": "",
            "met_partners": "maybe",
            "testimonial": "Kept <b>as typed</b>",
            "consent_to_publish": "on",
        },
        headers=PUBLIC,
    )

    assert page.status_code == 422
    assert 'role="alert"' in page.text and 'href="#rating_matchmaking"' in page.text
    assert 'id="rating_matchmaking-error"' in page.text and 'href="#met_partners"' in page.text
    assert 'aria-invalid="true"' in page.text
    assert 'id="rating_visits-4" name="rating_visits" value="4" checked' in page.text
    assert "Kept &lt;b&gt;as typed&lt;/b&gt;" in page.text
    assert 'name="consent_to_publish" value="on" checked' in page.text

    survey = await api.post(
        f"{mission}/follow-up?token={given}&survey=1",
        data={"agreements": "two", "mous": "1", "comments": "Soon"},
        headers=PUBLIC,
    )
    assert survey.status_code == 422
    assert 'id="agreements-error"' in survey.text and 'value="1"' in survey.text
    assert ">Soon</textarea>" in survey.text


async def test_forms_are_prefilled_with_the_stored_answer(
    api: httpx.AsyncClient, people: People, settings: Settings, engine: AsyncEngine
) -> None:
    activities = FeedbackActivities(engine, settings)
    now = datetime.now(UTC)
    await activities.record_feedback(
        AnswerRecord(
            mission_id=people.mission.id,
            at=now,
            feedback=FeedbackInput(
                respondent_id=people.host,
                respondent_kind="host",
                rating_matchmaking=4,
                met_partners=False,
                testimonial="Good meetings.",
                consent_to_publish=True,
            ),
        )
    )
    await activities.record_follow_up(
        AnswerRecord(
            mission_id=people.mission.id,
            at=now,
            follow_up=FollowUpInput(
                application_id=people.delegates[0], survey=1, mous=2, expected_revenue_eur=1500.5
            ),
        )
    )
    mission = f"/missions/{people.mission.id}"

    host = await api.get(
        f"{mission}/feedback?token={token(settings, people.host, 'host')}", headers=PUBLIC
    )
    survey = await api.get(
        f"{mission}/follow-up?token={token(settings, people.delegates[0])}&survey=1",
        headers=PUBLIC,
    )

    assert "Your answer is saved" in host.text and "Save the changes" in host.text
    assert 'id="rating_matchmaking-4" name="rating_matchmaking" value="4" checked' in host.text
    assert 'id="met_partners-no" name="met_partners" value="no" checked' in host.text
    assert ">Good meetings.</textarea>" in host.text
    assert 'name="consent_to_publish" value="on" checked' in host.text
    assert 'name="mous" min="0" step="1" inputmode="numeric" value="2"' in survey.text
    assert 'value="1500.5"' in survey.text


async def test_coordinators_list_the_responses_with_their_consent(
    api: httpx.AsyncClient, people: People, settings: Settings, engine: AsyncEngine
) -> None:
    activities = FeedbackActivities(engine, settings)
    now = datetime.now(UTC)
    for respondent, kind, text, consent in (
        (people.delegates[0], "delegate", "Published, please.", True),
        (people.host, "host", "Only for you.", False),
    ):
        await activities.record_feedback(
            AnswerRecord(
                mission_id=people.mission.id,
                at=now,
                closes_at=now,
                feedback=FeedbackInput(
                    respondent_id=respondent,
                    respondent_kind=kind,
                    rating_organisation=5,
                    testimonial=text,
                    consent_to_publish=consent,
                ),
            )
        )
    mission = f"/missions/{people.mission.id}"

    listed = await api.get(f"{mission}/feedback/responses")
    public = await api.get(f"{mission}/feedback/responses", headers=PUBLIC)

    assert public.status_code == 401
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert (body["asked"], body["answered"], body["not_answered"]) == (3, 2, ["Beta Cluster"])
    by_name = {r["organisation"]: r for r in body["responses"]}
    assert by_name["Alpha Cluster"]["publishable"] is True
    assert by_name["Boston Nanofab"]["publishable"] is False
    assert by_name["Boston Nanofab"]["testimonial"] == "Only for you."
    assert by_name["Boston Nanofab"]["respondent_kind"] == "host"
    assert (await api.get(f"{mission}/follow-up/responses")).json() == []
