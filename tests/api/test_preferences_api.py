"""Preference lists over HTTP on the real dev server (SQLite and PostgreSQL): marks refused
before the lists open (409) and after they close (409); a bad mark, or whom it marks (unknown, of
the same side, not in the delegation), a 422 at its field with nothing written; another's list a
404; at the lists' deadline the mutual wish is an accepted meeting placed in the schedule, the
one-sided wish a request its invitee answers, and the wishes to someone who said no_thanks never
placed; and nothing the one told no can read (pages, directory, own list, calendar file, emails)
says so."""

from __future__ import annotations

import re
from typing import Any

import httpx
from support import eventually, rehearsal
from test_matchmaking_api import HOSTS_CSV, PUBLIC, application

NO = ("no_thanks", "no thanks")


async def test_preference_lists_over_http(api: httpx.AsyncClient, mailbox) -> None:
    document = rehearsal(visits=[])
    document["call"].update(deadline="+PT3S", reminders=[])
    document["call"]["invitees"] = []
    document["selection"].update(
        capacity=2,
        max_per_country=None,
        decision_due="+PT4S",
        confirm_within="PT3S",
        delegation_lock="+PT7S",
        auto_approve=True,
    )
    document["matchmaking"].update(
        requests_open_at="+PT12S",
        preferences_deadline="+PT24S",
        requests_deadline="+PT34S",
        sessions=[{"start": "+PT39S", "end": "+PT2M39S"}],
        slot_minutes=1,
        tables=2,
        max_meetings_per_participant=2,
    )
    document["reporting"].update(report_due="+PT5M", follow_up=[])
    created = await api.post("/missions", json=document)
    assert created.status_code == 201, created.text
    mission = f"/missions/{document['id']}"
    people: dict[str, tuple[str, str]] = {}
    for name in ("Alpha", "Beta"):
        made = (await api.post(f"{mission}/applications", json=application(name))).json()
        people[name] = (made["application_id"], made["access_token"])
    loaded = await api.post(
        f"{mission}/hosts",
        content=HOSTS_CSV.replace("session-9", ""),
        headers={"Content-Type": "text/csv"},
    )
    assert loaded.status_code == 200, loaded.text
    for host in loaded.json()["hosts"]:
        short = "Nanofab" if host["name"] == "Boston Nanofab" else "Energy"
        people[short] = (host["id"], host["private_url"].split("token=")[1])

    async def put(by: str, on: str, body: Any) -> httpx.Response:
        pid, token = people[by]
        return await api.put(
            f"{mission}/participants/{pid}/preferences/{people[on][0]}?token={token}",
            json=body,
            headers=PUBLIC,
        )

    async def own_list(who: str) -> dict[str, Any]:
        pid, token = people[who]
        got = await api.get(
            f"{mission}/participants/{pid}/preferences?token={token}", headers=PUBLIC
        )
        assert got.status_code == 200, got.text
        return got.json()

    unseated = await put("Nanofab", "Alpha", {"mark": "must_meet"})
    assert unseated.status_code == 422, unseated.text
    assert unseated.json()["detail"][0]["loc"] == ["path", "other_id"]
    assert "not in the delegation" in unseated.json()["detail"][0]["msg"]
    for body, loc in (
        ({"mark": "maybe"}, ["body", "mark"]),
        ({"mark": None}, ["body", "mark"]),
        ({}, ["body", "mark"]),
        ({"mark": "must_meet", "why": "x"}, ["body", "why"]),
    ):
        bad = await put("Nanofab", "Alpha", body)
        assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == loc, bad.text
    same_side = await put("Nanofab", "Energy", {"mark": "must_meet"})
    assert same_side.status_code == 422
    assert same_side.json()["detail"][0]["loc"] == ["path", "other_id"]
    nanofab_id, nanofab_token = people["Nanofab"]
    unknown = await api.put(
        f"{mission}/participants/{nanofab_id}/preferences/00000000-0000-4000-8000-000000000000"
        f"?token={nanofab_token}",
        json={"mark": "must_meet"},
        headers=PUBLIC,
    )
    assert unknown.status_code == 422 and unknown.json()["detail"][0]["loc"] == ["path", "other_id"]
    nosy = await api.get(
        f"{mission}/participants/{nanofab_id}/preferences?token={people['Alpha'][1]}",
        headers=PUBLIC,
    )
    assert nosy.status_code == 404
    assert (await own_list("Nanofab"))["marks"] == []  # nothing refused was written

    async def seated() -> None:
        for name in ("Alpha", "Beta"):
            aid, token = people[name]
            answer = await api.post(
                f"{mission}/applications/{aid}/confirm?token={token}", headers=PUBLIC
            )
            assert answer.status_code in (200, 409), answer.text
            mine = (
                await api.get(f"{mission}/applications/{aid}?token={token}", headers=PUBLIC)
            ).json()
            assert mine["seat"] == "confirmed"

    await eventually(seated, within=20)
    early = await put("Nanofab", "Alpha", {"mark": "must_meet"})
    assert early.status_code == 409, early.text  # the lists are not open yet
    assert (await own_list("Nanofab"))["marks"] == []

    async def first_mark() -> None:
        opened = await put("Alpha", "Nanofab", {"mark": "must_meet"})
        assert opened.status_code == 200, opened.text
        assert opened.json() == {
            "other_id": people["Nanofab"][0],
            "mark": "must_meet",
            "changed": True,
        }

    await eventually(first_mark, within=20)
    alpha_id, alpha_token = people["Alpha"]
    energy_id = people["Energy"][0]
    form_url = f"{mission}/participants/{alpha_id}/preference-list?token={alpha_token}"
    shown = await api.get(form_url, headers=PUBLIC)
    assert shown.status_code == 200 and "<script" not in shown.text
    assert _selected(shown.text, people["Nanofab"][0]) == "must_meet"
    assert _selected(shown.text, energy_id) == ""
    for form, field in (
        ({"other_id": energy_id, "mark": "maybe"}, "Choose one of the marks."),
        ({"other_id": people["Beta"][0], "mark": "must_meet"}, "not on your list"),
    ):
        wrong = await api.post(form_url, data=form, headers=PUBLIC)
        assert wrong.status_code == 422 and field in wrong.text, wrong.text
    assert [m["mark"] for m in (await own_list("Alpha"))["marks"]] == ["must_meet"]
    posted = await api.post(
        form_url, data={"other_id": energy_id, "mark": "no_thanks"}, headers=PUBLIC
    )
    assert posted.status_code == 303, posted.text
    back = await api.get(posted.headers["location"], headers=PUBLIC)
    assert "Your mark is saved." in back.text
    assert _selected(back.text, energy_id) == "no_thanks"
    for by, on, mark in (
        ("Nanofab", "Alpha", "would_like"),  # mutual with Alpha's must_meet
        ("Alpha", "Energy", "would_like"),  # changed: one-sided, Energy answers
        ("Beta", "Nanofab", "must_meet"),  # Nanofab says no thanks
        ("Nanofab", "Beta", "no_thanks"),
        ("Energy", "Beta", "must_meet"),  # Beta says no thanks
        ("Beta", "Energy", "would_like"),
        ("Beta", "Energy", "no_thanks"),
    ):
        marked = await put(by, on, {"mark": mark})
        assert marked.status_code == 200 and marked.json()["mark"] == mark, marked.text
    beta_id, beta_token = people["Beta"]
    cleared = await api.delete(
        f"{mission}/participants/{beta_id}/preferences/{energy_id}?token={beta_token}",
        headers=PUBLIC,
    )
    assert cleared.status_code == 200 and cleared.json() == {
        "other_id": energy_id,
        "mark": None,
        "changed": True,
    }
    assert (await put("Beta", "Energy", {"mark": "no_thanks"})).status_code == 200
    alpha_list = await own_list("Alpha")
    assert [(m["other_name"], m["mark"]) for m in alpha_list["marks"]] == [
        ("Boston Nanofab", "must_meet"),
        ("Philly Energy Labs", "would_like"),
    ]
    assert [m["mark"] for m in (await own_list("Beta"))["marks"]] == ["must_meet", "no_thanks"]
    by_coordinator = await api.get(f"{mission}/participants/{nanofab_id}/preferences")
    assert [m["mark"] for m in by_coordinator.json()["marks"]] == ["would_like", "no_thanks"]

    async def page(who: str) -> dict[str, Any]:
        pid, token = people[who]
        got = await api.get(f"{mission}/participants/{pid}?token={token}", headers=PUBLIC)
        assert got.status_code == 200, got.text
        return got.json()

    async def converted() -> dict[str, Any]:
        energy = await page("Energy")
        assert {m["with_name"] for m in energy["meetings"]} == {"Alpha Cluster", "Beta Cluster"}
        return energy

    energy_page = await eventually(converted, within=30)
    late = await put("Alpha", "Nanofab", {"mark": "would_like"})
    assert late.status_code == 409 and "closed on" in late.json()["detail"]
    late_form = await api.post(form_url, data={"other_id": energy_id, "mark": ""}, headers=PUBLIC)
    assert late_form.status_code == 409 and "closed on" in late_form.text
    (request,) = [m for m in energy_page["meetings"] if m["with_name"] == "Alpha Cluster"]
    assert (request["asked_by_me"], request["status"], request["priority"]) == (
        False,
        "pending",
        2,
    )
    energy_token = people["Energy"][1]
    accepted = await api.post(
        f"{mission}/meeting-requests/{request['meeting_id']}/accept?token={energy_token}",
        headers=PUBLIC,
    )
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    alpha_page = await page("Alpha")
    assert {(m["with_name"], m["status"], m["priority"]) for m in alpha_page["meetings"]} == {
        ("Boston Nanofab", "accepted", 3),
        ("Philly Energy Labs", "accepted", 2),
    }
    # Beta's wish to Nanofab reads as any unanswered request (Nanofab may still answer it),
    # and Energy's wish to Beta as one Beta may answer.
    beta_form = await api.get(
        f"{mission}/participants/{beta_id}/preference-list?token={beta_token}", headers=PUBLIC
    )
    assert _selected(beta_form.text, people["Nanofab"][0]) == "must_meet"  # Beta's own mark
    beta_page = await page("Beta")
    assert {(m["with_name"], m["asked_by_me"], m["status"]) for m in beta_page["meetings"]} == {
        ("Boston Nanofab", True, "pending"),
        ("Philly Energy Labs", False, "pending"),
    }
    nanofab_page = await page("Nanofab")
    assert ("Beta Cluster", False, "pending") in {
        (m["with_name"], m["asked_by_me"], m["status"]) for m in nanofab_page["meetings"]
    }

    async def scheduled() -> dict[str, Any]:
        grid = (await api.get(f"{mission}/agenda")).json()
        assert grid["schedule"] is not None
        return grid

    grid = await eventually(scheduled, within=40)
    placed = {(m["delegate"], m["host"]) for m in grid["meetings"] if m["table"] is not None}
    assert placed == {
        ("Alpha Cluster", "Boston Nanofab"),
        ("Alpha Cluster", "Philly Energy Labs"),
    }, grid  # neither of the pairs where one said no thanks

    # Everything Beta can read, and every email Beta got, says nothing of a no_thanks.
    readable = [
        await api.get(f"{mission}/participants/{beta_id}?token={beta_token}", headers=PUBLIC),
        await api.get(
            f"{mission}/directory?participant={beta_id}&token={beta_token}", headers=PUBLIC
        ),
        await api.get(
            f"{mission}/participants/{beta_id}/preferences?token={beta_token}", headers=PUBLIC
        ),
        await api.get(
            f"{mission}/participants/{beta_id}/agenda.ics?token={beta_token}", headers=PUBLIC
        ),
    ]
    agenda_page = await api.get(
        f"{mission}/participants/{beta_id}/agenda?token={beta_token}", headers=PUBLIC
    )
    if agenda_page.status_code != 404:  # the agenda page, where it is served
        readable.append(agenda_page)
    for response in readable:  # Beta's calendar file: none, no meeting is scheduled
        assert response.status_code == (404 if ".ics" in str(response.url) else 200), (
            response.url,
            response.text,
        )
    # Beta's own list holds Beta's own marks only (its no_thanks is Beta's, on Energy).
    own = readable.pop(2).json()["marks"]
    assert [(m["other_name"], m["mark"]) for m in own] == [
        ("Boston Nanofab", "must_meet"),
        ("Philly Energy Labs", "no_thanks"),
    ]
    text = " ".join(r.text for r in readable).casefold()
    assert "boston nanofab" in text  # Beta's request to Nanofab, and the directory
    assert all(word not in text for word in NO)
    for message in mailbox.messages:
        if "beta@" in str(message["To"]):
            for part in message.walk():
                if part.get_content_maintype() == "text":
                    text = part.get_content().casefold()
                    assert all(word not in text for word in NO)
    assert mailbox.sent("meeting_request", "hope@") == []  # Nanofab is not asked by email
    assert mailbox.sent("meeting_request", "beta@") == []  # nor Beta, who said no thanks
    assert len(mailbox.sent("meeting_request", "paul@")) == 1  # Alpha's wish


def _selected(page: str, other_id: str) -> str:
    """The mark selected in the page's form for this participant ("" for none)."""
    row = page.split(f'name="other_id" value="{other_id}"')[1].split("</select>")[0]
    chosen = re.findall(r'<option value="([a-z_]*)" selected>', row)
    assert len(chosen) == 1, row
    return chosen[0]
