"""Reviewers' scores over JSON (PUT /missions/{id}/applications/{aid}/review), on the real dev
server and both databases, by real sign-ins: who may score what, bad scores refused at their
field with nothing written, one score per reviewer changed in place until the delegation is
approved, the mean in the list and its CSV, and comments erased with the applicant's data."""

from __future__ import annotations

import csv
import io

import httpx
from sqlmodel import select
from support import eventually, rehearsal
from test_console_applications import apply, assign
from test_console_pages import Browser
from test_people_and_roles import PASSWORD, member, mission, person

from missionflow.runtime.review_scores import ReviewScore


async def session_of(browser: httpx.AsyncClient, email: str) -> dict[str, str]:
    """Sign in over JSON; the header a change by this session carries."""
    signed = await browser.post("/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    return {"X-CSRF-Token": signed.json()["csrf_token"]}


async def stored(session_factory) -> list[tuple[int, str | None]]:
    async with session_factory() as session:
        rows = (await session.exec(select(ReviewScore).order_by(ReviewScore.score))).all()  # type: ignore[arg-type]
        return [(row.score, row.comment) for row in rows]


async def test_who_scores_what_and_bad_scores_write_nothing(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    ours, theirs = await mission(api), await mission(api)
    lyon = await apply(api, ours, organisation="Cluster Lyon", contact_email="jo@lyon.example.org")
    other = await apply(api, ours, organisation="Other", contact_email="o@example.org")
    elsewhere = await apply(api, theirs, organisation="Far", contact_email="f@example.org")
    rita = await person(api, "rita@example.org", "Rita Reviewer")
    ruth = await person(api, "ruth@example.org", "Ruth Reviewer")
    await person(api, "cora@example.org", "Cora Coordinator")
    await person(api, "tom@example.org", "Tom Theirs")
    for who in (rita, ruth):
        await member(api, ours, who["email"], "reviewer")
        await assign(api, ours, lyon, who)
    await member(api, ours, "cora@example.org", "coordinator")
    await member(api, theirs, "tom@example.org", "reviewer")
    review = f"/missions/{ours}/applications/{lyon}/review"

    reviewer = browsers()
    csrf = await session_of(reviewer, "rita@example.org")
    for body, where in (
        ({"score": 0}, ["body", "score"]),
        ({"score": 6}, ["body", "score"]),
        ({"score": "4"}, ["body", "score"]),
        ({"score": 3.5}, ["body", "score"]),
        ({"score": True}, ["body", "score"]),
        ({}, ["body", "score"]),
        ({"score": 4, "comment": "x" * 2001}, ["body", "comment"]),
        ({"score": 4, "comment": "a\x00b"}, ["body", "comment"]),
        ({"score": 4, "stars": 5}, ["body", "stars"]),
    ):
        refused = await reviewer.put(review, json=body, headers=csrf)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.json()["detail"][0]["loc"] == where, body
    assert (await reviewer.put(review, json={"score": 4})).status_code == 403, "no CSRF token"
    assert await stored(session_factory) == [], "nothing written by a refused score"

    first = await reviewer.put(review, json={"score": 4, "comment": " Strong "}, headers=csrf)
    assert first.status_code == 200, first.text
    assert first.json()["reviewer"] == "Rita Reviewer <rita@example.org>"
    assert (first.json()["score"], first.json()["comment"]) == (4, "Strong")
    again = await reviewer.put(review, json={"score": 5, "comment": ""}, headers=csrf)
    assert (again.json()["score"], again.json()["comment"]) == (5, None)
    assert again.json()["created_at"] == first.json()["created_at"], "the same score, changed"
    assert await stored(session_factory) == [(5, None)]
    not_hers = await reviewer.put(
        f"/missions/{ours}/applications/{other}/review", json={"score": 3}, headers=csrf
    )
    assert not_hers.status_code == 403, "not assigned to her"
    assert (await reviewer.get(f"/missions/{ours}/applications/{lyon}/reviews")).status_code == 403
    for wrong in (elsewhere, "not-an-id"):
        missing = await reviewer.put(
            f"/missions/{ours}/applications/{wrong}/review", json={"score": 3}, headers=csrf
        )
        assert missing.status_code == 404, wrong

    outsider = browsers()
    theirs_csrf = await session_of(outsider, "tom@example.org")
    hidden = await outsider.put(review, json={"score": 1}, headers=theirs_csrf)
    assert hidden.status_code == 404, "another mission's reviewer: no such mission for him"
    coordinator = browsers()
    cora = await session_of(coordinator, "cora@example.org")
    assert (await coordinator.put(review, json={"score": 1}, headers=cora)).status_code == 403
    assert (await api.put(review, json={"score": 1})).status_code == 403, "the bootstrap token"
    assert await stored(session_factory) == [(5, None)]

    second = browsers()
    ruths = await session_of(second, "ruth@example.org")
    assert (
        await second.put(review, json={"score": 2, "comment": "Small"}, headers=ruths)
    ).is_success
    reviews = await coordinator.get(f"/missions/{ours}/applications/{lyon}/reviews")
    assert [(r["reviewer"], r["score"]) for r in reviews.json()] == [
        ("Rita Reviewer <rita@example.org>", 5),
        ("Ruth Reviewer <ruth@example.org>", 2),
    ]
    listed = {a["id"]: a for a in (await coordinator.get(f"/missions/{ours}/applications")).json()}
    assert (listed[lyon]["review_score"], listed[lyon]["reviews"]) == (3.5, 2)
    assert (listed[other]["review_score"], listed[other]["reviews"]) == (None, 0)
    own = (await second.get(f"/missions/{ours}/applications")).json()
    assert [(a["review_score"], a["reviews"]) for a in own] == [(2.0, 1)], "hers only"
    exported = await coordinator.get(
        f"/missions/{ours}/applications?sort=score&order=desc", headers={"Accept": "text/csv"}
    )
    lines = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(line["id"], line["review_score"], line["reviews"]) for line in lines] == [
        (lyon, "3.5", "2"),
        (other, "", "0"),
    ]

    erased = await api.delete(f"/missions/{ours}/personal-data/{lyon}?reason=requested")
    assert erased.status_code == 200, erased.text
    assert await stored(session_factory) == [(2, None), (5, None)], "scores stay, words go"


async def test_scores_are_final_once_the_delegation_is_approved(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    document = rehearsal(matchmaking=None, visits=[])
    document["call"].update(deadline="+PT4S", reminders=[])
    document["selection"].update(decision_due="+PT1H", delegation_lock="+PT2H", auto_approve=False)
    document["reporting"].update(report_due="+PT3H", follow_up=[])
    assert (await api.post("/missions", json=document)).status_code == 201
    ours = document["id"]
    lyon = await apply(api, ours, organisation="Cluster Lyon", contact_email="jo@lyon.example.org")
    rita = await person(api, "rita@example.org", "Rita Reviewer")
    await member(api, ours, "rita@example.org", "reviewer")
    await assign(api, ours, lyon, rita)
    reviewer = browsers()
    csrf = await session_of(reviewer, "rita@example.org")
    review = f"/missions/{ours}/applications/{lyon}/review"

    async def proposed() -> None:
        assert (await api.get(f"/missions/{ours}/selection")).json()["proposed"] is True

    await eventually(proposed, within=30)
    during = await reviewer.put(review, json={"score": 3, "comment": "Fine"}, headers=csrf)
    assert during.status_code == 200, "the selection is under review: scores still change"
    approved = await api.post(f"/missions/{ours}/selection/approve", json={})
    assert approved.status_code == 200, approved.text
    after = await reviewer.put(review, json={"score": 5}, headers=csrf)
    assert after.status_code == 409 and "approved" in after.json()["detail"]
    page = f"/console/missions/{ours}/applications/{lyon}"
    shown = await reviewer.get(page)
    assert 'id="score"' not in shown.text and "scores no longer change" in shown.text
    form = await reviewer.post(
        f"{page}/review", data={"csrf_token": csrf["X-CSRF-Token"], "score": "5"}
    )
    assert form.status_code == 409 and "The delegation is approved" in form.text
    assert await stored(session_factory) == [(3, "Fine")]
    coordinator_view = await api.get(page)
    assert "Delegation approved" in coordinator_view.text, "the history shows the approval"
    assert "decision as it stands: selected, seat offered" in coordinator_view.text
