"""Meeting outcome ratings end to end on the real dev server: two delegates meet two hosts, then
both sides rate their meetings on the feedback form (a meeting not theirs: 404, nothing
written), a delegate rates again at the follow-up survey (stage 2, kept apart), and the final
report's counts are those of the rows given. The timeline is squeezed to about three minutes."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from support import eventually, rehearsal

from missionflow.runtime.db import sessions
from missionflow.runtime.meeting_ratings import MeetingRating

PUBLIC = {"Authorization": ""}
COMPLETE = {"member_organisations": 80, "management_label": "Gold", "mission_objectives": "x"}
HOSTS_CSV = (
    "name,country,sector,description,contact_name,contact_email,unavailable\n"
    "Boston Nanofab,US,Advanced materials,Thin films,Hope Host,hope@nanofab.example.com,\n"
    "Philly Energy Labs,US,Energy and sustainability,,Paul Host,paul@energy.example.com,\n"
)


def application(name: str) -> dict[str, Any]:
    return {
        "organisation": f"{name} Cluster",
        "organisation_type": "cluster_organisation",
        "country": "DE",
        "city": "Munich",
        "contact_name": f"Contact {name}",
        "contact_email": f"{name.lower()}@example.org",
        "sectors": ["Advanced materials"],
        "answers": COMPLETE,
        "consent": True,
    }


async def test_both_sides_rate_their_meetings_twice_and_the_report_counts_them(
    api: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    document = rehearsal(visits=[])
    document["call"].update(deadline="+PT3S", reminders=[], invitees=[])
    document["selection"].update(
        capacity=2,
        max_per_country=None,
        decision_due="+PT4S",
        confirm_within="PT3S",
        delegation_lock="+PT7S",
        auto_approve=True,
    )
    document["matchmaking"].update(
        requests_open_at="+PT8S",
        requests_deadline="+PT20S",
        sessions=[{"start": "+PT25S", "end": "+PT1M25S"}],
        slot_minutes=1,
        tables=2,
        max_meetings_per_participant=1,
    )
    document["reporting"].update(
        feedback_within="PT45S", report_due="+PT2M15S", follow_up=["PT5S"], survey_within="PT30S"
    )
    assert (await api.post("/missions", json=document)).status_code == 201
    mission = f"/missions/{document['id']}"
    links = {}
    for name in ("Alpha", "Beta"):
        created = (await api.post(f"{mission}/applications", json=application(name))).json()
        links[name] = (created["application_id"], created["access_token"])
    loaded = await api.post(
        f"{mission}/hosts", content=HOSTS_CSV, headers={"Content-Type": "text/csv"}
    )
    assert loaded.status_code == 200, loaded.text
    hosts = {
        h["name"]: (h["id"], h["private_url"].split("token=")[1]) for h in loaded.json()["hosts"]
    }

    async def seated() -> None:
        for aid, token in links.values():
            answer = await api.post(
                f"{mission}/applications/{aid}/confirm?token={token}", headers=PUBLIC
            )
            assert answer.status_code in (200, 409), answer.text
            mine = (
                await api.get(f"{mission}/applications/{aid}?token={token}", headers=PUBLIC)
            ).json()
            assert mine["seat"] == "confirmed"

    await eventually(seated, within=20)
    pairs = {"Alpha": "Boston Nanofab", "Beta": "Philly Energy Labs"}
    meetings = {}
    for delegate, host in pairs.items():
        aid, token = links[delegate]

        async def requested(aid: str = aid, token: str = token, host: str = host) -> str:
            response = await api.post(
                f"{mission}/meeting-requests?token={token}",
                json={"from": aid, "to": hosts[host][0]},
                headers=PUBLIC,
            )
            assert response.status_code == 201, response.text
            return response.json()["meeting_id"]

        meetings[delegate] = await eventually(requested, within=20)
        accepted = await api.post(
            f"{mission}/meeting-requests/{meetings[delegate]}/accept?token={hosts[host][1]}",
            headers=PUBLIC,
        )
        assert accepted.status_code == 200, accepted.text
    alpha_token, beta_token = links["Alpha"][1], links["Beta"][1]
    nanofab_token = hosts["Boston Nanofab"][1]
    alpha_meeting, beta_meeting = meetings["Alpha"], meetings["Beta"]

    async def feedback_open() -> None:
        page = await api.get(f"{mission}/feedback?token={alpha_token}", headers=PUBLIC)
        assert f'id="outcome-{alpha_meeting}"' in page.text
        emails = (await api.get(f"{mission}/emails?template=feedback_request")).json()
        assert emails["total"] == 4  # two delegates, two hosts

    await eventually(feedback_open, within=120)

    def rated(meeting: str, outcome: str, comment: str | None = None) -> dict[str, Any]:
        return {
            "meeting_ratings": [{"meeting_id": meeting, "outcome": outcome, "comment": comment}]
        }

    not_theirs = await api.post(
        f"{mission}/feedback?token={alpha_token}",
        json={"rating_organisation": 5, **rated(beta_meeting, "no_interest")},
        headers=PUBLIC,
    )
    assert not_theirs.status_code == 404, not_theirs.text
    bad = await api.post(
        f"{mission}/feedback?token={alpha_token}",
        json={"rating_organisation": 5, **rated(alpha_meeting, "wonderful")},
        headers=PUBLIC,
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "meeting_ratings", 0, "outcome"]
    factory = sessions(engine)
    async with factory() as session:
        assert (await session.exec(select(MeetingRating))).all() == []

    by_alpha = await api.post(
        f"{mission}/feedback?token={alpha_token}",
        json={"rating_organisation": 5, **rated(alpha_meeting, "follow_up_planned", "Samples")},
        headers=PUBLIC,
    )
    assert by_alpha.status_code == 201, by_alpha.text
    by_host = await api.post(  # the host's form, as a browser posts it
        f"{mission}/feedback?token={nanofab_token}",
        data={"rating_organisation": "4", f"outcome-{alpha_meeting}": "cooperation_possible"},
        headers=PUBLIC,
    )
    assert by_host.status_code == 201, by_host.text
    host_page = await api.get(f"{mission}/feedback?token={nanofab_token}", headers=PUBLIC)
    assert '<option value="cooperation_possible" selected>' in host_page.text
    by_beta = await api.post(
        f"{mission}/feedback?token={beta_token}",
        json={"rating_organisation": 3, **rated(beta_meeting, "no_interest")},
        headers=PUBLIC,
    )
    assert by_beta.status_code == 201, by_beta.text

    async def surveyed() -> None:
        answer = await api.post(
            f"{mission}/follow-up?token={alpha_token}&survey=1",
            json={"agreements": 1, **rated(alpha_meeting, "in_negotiation", "Price talks")},
            headers=PUBLIC,
        )
        assert answer.status_code == 201, answer.text

    await eventually(surveyed, within=120)
    wrong_stage = await api.post(
        f"{mission}/follow-up?token={alpha_token}&survey=1",
        json=rated(alpha_meeting, "follow_up_planned"),
        headers=PUBLIC,
    )
    assert wrong_stage.status_code == 422

    async def final() -> dict[str, Any]:
        report = (await api.get(f"{mission}/report.json")).json()
        assert report["final"] is True
        return report

    report = await eventually(final, within=120)
    async with factory() as session:
        rows = (await session.exec(select(MeetingRating))).all()
    assert {(str(r.meeting_id), r.rater_kind, r.stage, r.outcome) for r in rows} == {
        (alpha_meeting, "delegate", 1, "follow_up_planned"),
        (alpha_meeting, "host", 1, "cooperation_possible"),
        (beta_meeting, "delegate", 1, "no_interest"),
        (alpha_meeting, "delegate", 2, "in_negotiation"),
    }
    for stage in report["meeting_ratings"]:
        mine = [r for r in rows if r.stage == stage["stage"]]
        given = Counter(r.outcome for r in mine)
        assert {o["key"]: o["count"] for o in stage["outcomes"]} == {
            o["key"]: given[o["key"]] for o in stage["outcomes"]
        }
        assert sum(o["count"] for o in stage["outcomes"]) == stage["ratings"] == len(mine)
        sides = Counter(r.meeting_id for r in mine)
        assert stage["by_both_sides"] == sum(n == 2 for n in sides.values())
        assert stage["by_one_side"] == sum(n == 1 for n in sides.values())
    page = (await api.get(f"{mission}/report.html")).text
    assert 'id="meeting-ratings-1"' in page and "Follow-up meeting planned" in page
