"""The meeting ratings on the feedback and follow-up pages over HTTP, up to the workflow: each
side's form lists its own rateable meetings with the stage's outcomes and the stored ratings, and
a refused list is a 422 at its field with nothing written. The mission is written straight to
the database (no workflow runs); the ratings given through a running mission are in
test_meeting_ratings_api.py. The coordinators' list of ratings is read here too."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from feedback_people import People, seed
from rating_meetings import add_meeting
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from missionflow.domain.access import access_token
from missionflow.runtime.db import sessions
from missionflow.runtime.meeting_ratings import MeetingRating
from missionflow.runtime.settings import Settings

PUBLIC = {"Authorization": ""}
FIRST = ("body", "meeting_ratings", 0)


def token(settings: Settings, owner: uuid.UUID, kind: str = "application") -> str:
    return access_token(settings.link_secret(), owner, kind=kind)


def listed(page: str) -> set[str]:
    return set(re.findall(r'<select id="outcome-([0-9a-f-]+)"', page))


def options(page: str, meeting: uuid.UUID) -> list[str]:
    select = page.split(f'<select id="outcome-{meeting}"')[1].split("</select>")[0]
    return re.findall(r'<option value="([a-z_]*)"', select)


async def test_each_side_rates_its_own_placed_meetings_on_its_forms(
    api: httpx.AsyncClient, engine: AsyncEngine, settings: Settings
) -> None:
    factory = sessions(engine)
    people: People = await seed(factory)
    alpha, beta = people.delegates
    at = datetime.now(UTC) - timedelta(days=2)
    held = await add_meeting(factory, people, alpha, at, attendance="held")
    await add_meeting(factory, people, beta, at, attendance="no_show")
    betas = await add_meeting(factory, people, beta, at + timedelta(hours=1))
    async with factory() as session, session.begin():
        session.add(
            MeetingRating(
                mission_id=people.mission.id, meeting_id=held, stage=2, rater_kind="delegate",
                rater_id=alpha, outcome="in_negotiation", comment="Price talks", created_at=at,
                updated_at=at,
            )
        )  # fmt: skip
    mission = f"/missions/{people.mission.id}"

    delegate = await api.get(f"{mission}/feedback?token={token(settings, alpha)}", headers=PUBLIC)
    host = await api.get(
        f"{mission}/feedback?token={token(settings, people.host, 'host')}", headers=PUBLIC
    )
    other = await api.get(f"{mission}/feedback?token={token(settings, beta)}", headers=PUBLIC)
    survey = await api.get(
        f"{mission}/follow-up?token={token(settings, alpha)}&survey=1", headers=PUBLIC
    )

    assert delegate.status_code == host.status_code == survey.status_code == 200
    assert listed(delegate.text) == {str(held)} and "With Boston Nanofab" in delegate.text
    assert listed(host.text) == {str(held), str(betas)}  # not the no-show
    assert "With Alpha Cluster" in host.text and "With Beta Cluster" in host.text
    assert listed(other.text) == {str(betas)}
    assert options(delegate.text, held) == [
        "", "agreement_reached", "follow_up_planned", "cooperation_possible", "no_interest",
        "did_not_take_place",
    ]  # fmt: skip
    assert options(survey.text, held) == [
        "", "agreement_signed", "cooperation_started", "in_negotiation", "no_result",
    ]  # fmt: skip
    assert '<option value="in_negotiation" selected>' in survey.text
    assert "Price talks</textarea>" in survey.text
    assert "selected>" not in delegate.text.split('id="meeting_ratings"')[1]  # stage 1: none yet
    coordinators = await api.get(f"{mission}/meeting-ratings")  # they read the comments
    (rating,) = coordinators.json()
    assert (rating["meeting_id"], rating["stage"]) == (str(held), 2)
    assert rating["rater"] == "Alpha Cluster"
    assert (rating["outcome"], rating["comment"]) == ("in_negotiation", "Price talks")
    assert (await api.get(f"{mission}/meeting-ratings", headers=PUBLIC)).status_code == 401


@pytest.mark.parametrize(
    ("ratings", "where"),
    [
        ([{"outcome": "great"}], ("body", "meeting_ratings", 0, "outcome")),
        ([{"outcome": "in_negotiation"}], ("body", "meeting_ratings", 0, "outcome")),  # stage 2's
        (
            [{"outcome": "no_interest", "comment": "x" * 1001}],
            ("body", "meeting_ratings", 0, "comment"),
        ),
        ([{"outcome": "no_interest", "stars": 5}], ("body", "meeting_ratings", 0, "stars")),
        ([{"outcome": "no_interest"}] * 2, ("body", "meeting_ratings")),
        ("no_interest", ("body", "meeting_ratings")),
    ],
)
async def test_a_refused_rating_is_a_422_at_its_field_and_nothing_is_written(
    api: httpx.AsyncClient,
    engine: AsyncEngine,
    settings: Settings,
    ratings: object,
    where: tuple[object, ...],
) -> None:
    factory = sessions(engine)
    people = await seed(factory)
    alpha = people.delegates[0]
    held = await add_meeting(factory, people, alpha, datetime.now(UTC) - timedelta(days=2))
    if isinstance(ratings, list):
        ratings = [{"meeting_id": str(held), **r} for r in ratings]
    mission = f"/missions/{people.mission.id}"

    sent = await api.post(
        f"{mission}/feedback?token={token(settings, alpha)}",
        json={"rating_organisation": 4, "meeting_ratings": ratings},
        headers=PUBLIC,
    )
    form = await api.post(
        f"{mission}/feedback?token={token(settings, alpha)}",
        data={"rating_organisation": "4", f"outcome-{held}": "great"},
        headers=PUBLIC,
    )

    assert sent.status_code == 422, sent.text
    assert tuple(sent.json()["detail"][0]["loc"]) == where
    assert form.status_code == 422 and 'href="#meeting_ratings">Your meetings:' in form.text
    async with factory() as session:
        assert (await session.exec(select(MeetingRating))).all() == []
