"""The console's applications pages over HTTP, on the real dev server and both databases,
through real sign-ins: the table's filters, sort and CSV (exactly the rows shown), a reviewer's
view (only what is assigned to them, no contact data), one application's answers, slide and
history, and scoring with the form."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import httpx
from sqlmodel import select
from test_applications_api import PDF
from test_console_pages import Browser, csrf_of, signed_in
from test_people_and_roles import ANONYMOUS, APPLICATION, member, mission, person

from missionflow.runtime.review_scores import ReviewScore

ROW = re.compile(r'<tr id="application-([0-9a-f-]{36})">')
CSV_LINK = re.compile(r'<a href="([^"]+)" id="csv"')


async def apply(api: httpx.AsyncClient, mission_id: str, **changes: Any) -> str:
    body = {**APPLICATION, **changes}
    applied = await api.post(f"/missions/{mission_id}/applications", json=body, headers=ANONYMOUS)
    assert applied.status_code == 201, applied.text
    return applied.json()["application_id"]


async def assign(api: httpx.AsyncClient, mission_id: str, application_id: str, who: dict) -> None:
    assigned = await api.post(
        f"/missions/{mission_id}/review-assignments",
        json={"application_id": application_id, "person_id": who["id"]},
    )
    assert assigned.status_code == 201, assigned.text


def rows_of(page: httpx.Response) -> list[str]:
    assert page.status_code == 200, page.text
    return ROW.findall(page.text)


async def scored_rows(session_factory) -> list[ReviewScore]:
    async with session_factory() as session:
        return list((await session.exec(select(ReviewScore))).all())


async def test_the_table_filters_sorts_and_downloads_what_it_shows(
    api: httpx.AsyncClient, browsers: Browser
) -> None:
    ours = await mission(api)
    alpha = await apply(
        api, ours, organisation="Alpha Cluster", contact_email="alpha@munich.example.org"
    )
    beta = await apply(
        api,
        ours,
        organisation="beta energy",
        country="FR",
        city="Lyon",
        contact_email="beta@lyon.example.org",
        sectors=["Energy and sustainability"],
        answers={"member_organisations": 12},
    )
    gamma = await apply(
        api,
        ours,
        organisation="Gamma",
        contact_email="gamma@bonn.example.org",
        sectors=["Energy and sustainability", "Advanced materials"],
    )
    await person(api, "cora@example.org", "Cora Coordinator")
    await member(api, ours, "cora@example.org", "coordinator")
    coordinator = browsers()
    await signed_in(coordinator, "cora@example.org")
    path = f"/console/missions/{ours}/applications"

    page = await coordinator.get(path)
    assert rows_of(page) == [alpha, beta, gamma], "in the order they came"
    assert "beta@lyon.example.org" in page.text and 'aria-current="page"' in page.text
    assert "Europe/Brussels" not in page.text or "CET" in page.text
    assert rows_of(await coordinator.get(f"{path}?country=de")) == [alpha, gamma]
    assert rows_of(await coordinator.get(f"{path}?sector=energy+and+sustainability")) == [
        beta,
        gamma,
    ]
    assert rows_of(await coordinator.get(f"{path}?complete=false")) == [beta]
    assert rows_of(await coordinator.get(f"{path}?status=withdrawn")) == []
    assert rows_of(await coordinator.get(f"{path}?sort=organisation&order=desc")) == [
        gamma,
        beta,
        alpha,
    ], "by name, whatever the case"
    assert rows_of(await coordinator.get(f"{path}?sort=country")) == [alpha, gamma, beta]

    for query, field in (
        ("country=XX", "country"),
        ("sector=Tourism", "sector"),
        ("status=lost", "status"),
        ("complete=perhaps", "complete"),
        ("sort=colour", "sort"),
        ("order=up", "order"),
    ):
        refused = await coordinator.get(f"{path}?{query}")
        assert refused.status_code == 422, query
        assert f'id="{field}-error"' in refused.text, refused.text
        assert ROW.findall(refused.text) == []

    filtered = await coordinator.get(f"{path}?country=DE&sort=organisation&order=desc")
    shown = rows_of(filtered)
    assert shown == [gamma, alpha]
    link = CSV_LINK.search(filtered.text)
    assert link is not None
    exported = await coordinator.get(link.group(1).replace("&amp;", "&"))
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["cache-control"] == "no-store"
    lines = list(csv.DictReader(io.StringIO(exported.text)))
    assert [line["id"] for line in lines] == shown, "exactly the rows of the table, in its order"
    assert {"review_score", "reviews", "contact_email"} <= set(lines[0])
    same = await api.get(
        f"/missions/{ours}/applications?country=DE&sort=organisation&order=desc",
        headers={"Accept": "text/csv"},
    )
    assert same.text == exported.text, "the JSON route's CSV, the same code"

    await person(api, "oona@example.org", "Oona Outsider")
    outsider = browsers()
    await signed_in(outsider, "oona@example.org")
    hidden = await outsider.get(path)
    assert hidden.status_code == 404 and "No mission with id" in hidden.text
    assert (await outsider.get(f"{path}/{alpha}")).status_code == 404
    assert (await outsider.get(f"/console/missions/{ours}/applications.csv")).status_code == 404


async def test_a_reviewer_sees_only_assigned_applications_and_no_contact(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    ours = await mission(api)
    mine = await apply(api, ours, organisation="Cluster Lyon", contact_email="jo@lyon.example.org")
    other = await apply(
        api, ours, organisation="Cluster Munich", contact_email="jana@munich.example.org"
    )
    slide_path = f"/missions/{ours}/applications/{mine}"
    with_slide = await api.patch(slide_path, files={"slide": ("pitch.pdf", PDF, "application/pdf")})
    assert with_slide.status_code == 200, with_slide.text
    rita = await person(api, "rita@example.org", "Rita Reviewer")
    await person(api, "rolf@example.org", "Rolf Reviewer")
    await member(api, ours, "rita@example.org", "reviewer")
    await member(api, ours, "rolf@example.org", "reviewer")
    await assign(api, ours, mine, rita)
    reviewer = browsers()
    await signed_in(reviewer, "rita@example.org")
    path = f"/console/missions/{ours}/applications"

    page = await reviewer.get(path)
    assert rows_of(page) == [mine]
    assert "lyon.example.org" not in page.text and "Jana Weber" not in page.text
    assert "Contact</th>" not in page.text
    one = await reviewer.get(f"{path}/{mine}")
    assert one.status_code == 200, one.text
    assert "Cluster Lyon" in one.text and "How many member organisations" in one.text
    assert "lyon.example.org" not in one.text and "Jana Weber" not in one.text
    assert 'id="history"' not in one.text, "the history names the contact's emails"
    assert 'id="score"' in one.text
    assert f'href="/missions/{ours}/applications/{mine}/slide"' in one.text
    slide = await reviewer.get(f"/missions/{ours}/applications/{mine}/slide")
    assert slide.status_code == 200 and slide.content == PDF, "by the session cookie"
    assert (await reviewer.get(f"{path}/{other}")).status_code == 404
    assert (await reviewer.get(f"/missions/{ours}/applications/{other}/slide")).status_code == 404
    exported = await reviewer.get(f"{path}.csv")
    lines = list(csv.DictReader(io.StringIO(exported.text)))
    assert [(line["id"], line["contact_email"]) for line in lines] == [(mine, "")]

    unassigned = browsers()
    await signed_in(unassigned, "rolf@example.org")
    assert rows_of(await unassigned.get(path)) == []
    assert (await unassigned.get(f"{path}/{mine}")).status_code == 404
    assert (await unassigned.get(f"/missions/{ours}/applications/{mine}/slide")).status_code == 404
    home = await unassigned.get(path)
    posted = await unassigned.post(
        f"{path}/{mine}/review", data={"csrf_token": csrf_of(home), "score": "5"}
    )
    assert posted.status_code == 403 and "not assigned to you" in posted.text
    assert await scored_rows(session_factory) == []

    await person(api, "vera@example.org", "Vera Viewer")
    await member(api, ours, "vera@example.org", "viewer")
    viewer = browsers()
    await signed_in(viewer, "vera@example.org")
    seen = await viewer.get(f"{path}/{mine}")
    assert seen.status_code == 200 and "jo@lyon.example.org" in seen.text
    assert 'id="score"' not in seen.text, "a viewer scores nothing"
    history = seen.text[seen.text.index('id="history"') :]
    assert re.findall(r"<td>(Submitted|Slide uploaded|Amended)</td>", history) == [
        "Submitted",
        "Slide uploaded",
        "Amended",
    ], "in order, from the stored rows"
    refused = await viewer.post(
        f"{path}/{mine}/review", data={"csrf_token": csrf_of(seen), "score": "5"}
    )
    assert refused.status_code == 403


async def test_scoring_with_the_form_and_the_mean_a_coordinator_reads(
    api: httpx.AsyncClient, browsers: Browser, session_factory
) -> None:
    ours = await mission(api)
    lyon = await apply(api, ours, organisation="Cluster Lyon", contact_email="jo@lyon.example.org")
    other = await apply(api, ours, organisation="Other", contact_email="o@example.org")
    rita = await person(api, "rita@example.org", "Rita Reviewer")
    ruth = await person(api, "ruth@example.org", "Ruth Reviewer")
    for who in (rita, ruth):
        await member(api, ours, who["email"], "reviewer")
        await assign(api, ours, lyon, who)
    path = f"/console/missions/{ours}/applications/{lyon}"
    reviewer = browsers()
    await signed_in(reviewer, "rita@example.org")
    csrf = csrf_of(await reviewer.get(path))

    unproven = await reviewer.post(f"{path}/review", data={"score": "4"})
    assert unproven.status_code == 403
    for sent, field in (
        ({"score": "6"}, "score"),
        ({"score": "four"}, "score"),
        ({"score": ""}, "score"),
        ({"score": "4", "comment": "x" * 2001}, "comment"),
    ):
        refused = await reviewer.post(f"{path}/review", data={"csrf_token": csrf, **sent})
        assert refused.status_code == 422, sent
        assert f'id="{field}-error"' in refused.text, refused.text
    assert "x" * 2001 in refused.text, "what was typed is kept"
    assert await scored_rows(session_factory) == [], "a refused score writes nothing"

    saved = await reviewer.post(
        f"{path}/review", data={"csrf_token": csrf, "score": "4", "comment": "Strong partners"}
    )
    assert (saved.status_code, saved.headers["location"]) == (303, f"{path}?done=scored")
    again = await reviewer.get(saved.headers["location"])
    assert "Your score is saved" in again.text and "Strong partners</textarea>" in again.text
    changed = await reviewer.post(f"{path}/review", data={"csrf_token": csrf, "score": "5"})
    assert changed.status_code == 303
    rows = await scored_rows(session_factory)
    assert [(r.score, r.comment) for r in rows] == [(5, None)], "one score, changed in place"

    other_reviewer = browsers()
    await signed_in(other_reviewer, "ruth@example.org")
    ruths = csrf_of(await other_reviewer.get(path))
    put = await other_reviewer.put(
        f"/missions/{ours}/applications/{lyon}/review",
        json={"score": 2, "comment": "Too small for us"},
        headers={"X-CSRF-Token": ruths},
    )
    assert put.status_code == 200, put.text
    hers = await other_reviewer.get(path)
    assert "Too small for us" in hers.text and "Rita Reviewer" not in hers.text
    table = await other_reviewer.get(f"/console/missions/{ours}/applications")
    assert "2.00 (1)" in table.text, "a reviewer's table shows her own score only"

    await person(api, "cora@example.org", "Cora Coordinator")
    await member(api, ours, "cora@example.org", "coordinator")
    coordinator = browsers()
    await signed_in(coordinator, "cora@example.org")
    page = await coordinator.get(path)
    assert "Mean score 3.50 from 2 reviews." in page.text
    assert "Rita Reviewer &lt;rita@example.org&gt;" in page.text and "Too small for us" in page.text
    assert 'id="score"' not in page.text, "a coordinator is assigned nothing"
    table = await coordinator.get(f"/console/missions/{ours}/applications?sort=score&order=desc")
    assert "3.50 (2)" in table.text
    assert rows_of(table) == [lyon, other], "scored first; not scored last either way"
    ascending = await coordinator.get(f"/console/missions/{ours}/applications?sort=score")
    assert rows_of(ascending) == [lyon, other]
    assert 'id="history"' in page.text and "Email application_received" in page.text
    withdrawn = await api.post(f"/missions/{ours}/applications/{other}/withdraw")
    assert withdrawn.status_code == 200, withdrawn.text
    gone = await coordinator.get(f"/console/missions/{ours}/applications/{other}")
    assert "<td>Withdrawn</td>" in gone.text
    left = await coordinator.get(f"/console/missions/{ours}/applications?status=withdrawn")
    assert rows_of(left) == [other]
