"""Feedback and follow-up answers end to end: the API sends the `give_feedback` and
`answer_follow_up` Updates to a running mission and answers with their receipts.

The timeline is the rehearsal's, squeezed to well under two minutes on the dev server.
"""

from __future__ import annotations

from typing import Any

import httpx
from support import eventually, rehearsal

PUBLIC = {"Authorization": ""}
COMPLETE = {"member_organisations": 80, "management_label": "Gold", "mission_objectives": "x"}


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


async def test_feedback_and_follow_up_answers_over_http(api: httpx.AsyncClient) -> None:
    document = rehearsal(visits=[], matchmaking=None)
    document["call"].update(deadline="+PT3S", reminders=[], invitees=[])
    document["selection"].update(
        capacity=2,
        max_per_country=None,
        decision_due="+PT4S",
        confirm_within="PT3S",
        delegation_lock="+PT7S",
        auto_approve=True,
    )
    document["reporting"].update(
        feedback_within="PT15S", report_due="+PT30S", follow_up=["PT5S"], survey_within="PT20S"
    )
    assert (await api.post("/missions", json=document)).status_code == 201
    mission = f"/missions/{document['id']}"
    links = {}
    for name in ("Alpha", "Beta", "Gamma"):
        created = (await api.post(f"{mission}/applications", json=application(name))).json()
        links[name] = (created["application_id"], created["access_token"])

    async def seated() -> None:
        for name in ("Alpha", "Beta"):
            aid, token = links[name]
            answer = await api.post(
                f"{mission}/applications/{aid}/confirm?token={token}", headers=PUBLIC
            )
            assert answer.status_code in (200, 409), answer.text
            mine = (
                await api.get(f"{mission}/applications/{aid}?token={token}", headers=PUBLIC)
            ).json()
            assert mine["seat"] == "confirmed"

    await eventually(seated, within=20)
    alpha, alpha_token = links["Alpha"]

    async def asked() -> None:
        emails = (await api.get(f"{mission}/emails?template=feedback_request")).json()
        assert emails["total"] == 2

    await eventually(asked, within=30)
    feedback = {"rating_organisation": 5, "testimonial": " Great ", "consent_to_publish": True}
    first = await api.post(f"{mission}/feedback?token={alpha_token}", json=feedback, headers=PUBLIC)
    assert first.status_code == 201, first.text
    assert first.json() == {"respondent_id": alpha, "created": True, "changed": True, "late": False}
    again = await api.post(
        f"{mission}/feedback", json=feedback, headers={**PUBLIC, "X-Access-Token": alpha_token}
    )
    assert again.status_code == 200 and again.json()["changed"] is False
    amended = await api.post(
        f"{mission}/feedback?token={alpha_token}",
        json={**feedback, "consent_to_publish": False},
        headers=PUBLIC,
    )
    assert amended.status_code == 200 and amended.json()["changed"] is True
    form = await api.post(
        f"{mission}/feedback?token={links['Beta'][1]}",
        data={"rating_organisation": "4", "met_partners": "yes", "testimonial": ""},
        headers=PUBLIC,
    )
    assert form.status_code == 201 and "Thank you" in form.text
    gamma = await api.post(
        f"{mission}/feedback?token={links['Gamma'][1]}", json=feedback, headers=PUBLIC
    )
    assert gamma.status_code == 404  # not in the delegation

    async def surveyed() -> dict[str, Any]:
        answer = await api.post(
            f"{mission}/follow-up?token={alpha_token}&survey=1",
            json={"agreements": 1, "expected_revenue_eur": 10000},
            headers=PUBLIC,
        )
        assert answer.status_code == 201, answer.text
        return answer.json()

    assert (await eventually(surveyed, within=60))["created"] is True
    listed = (await api.get(f"{mission}/feedback/responses")).json()
    assert listed["answered"] == 2
    assert [r["publishable"] for r in listed["responses"]] == [False, False]

    async def closed() -> None:
        late = await api.post(
            f"{mission}/feedback?token={alpha_token}", json=feedback, headers=PUBLIC
        )
        assert late.status_code == 409, late.text

    await eventually(closed, within=60)
