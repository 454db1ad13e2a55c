"""One applicant's personal data as a JSON file, by their private link and by a coordinator, on
the real dev server with the real SMTP sink: what it holds, and who is refused."""

from __future__ import annotations

import json
from typing import Any

import httpx
from support import eventually, rehearsal

from missionflow.runtime.person_data_export import PersonData

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NO_COORDINATOR = {"Authorization": ""}


def _fields(organisation: str, email: str, name: str, objectives: str) -> dict[str, Any]:
    return {
        "organisation": organisation,
        "organisation_type": "cluster_organisation",
        "country": "DE",
        "city": "Munich",
        "contact_name": name,
        "contact_email": email,
        "sectors": ["Advanced materials"],
        "answers": json.dumps(
            {
                "member_organisations": 120,
                "management_label": "Gold",
                "mission_objectives": objectives,
            }
        ),
        "consent": "true",
    }


async def _apply(api: httpx.AsyncClient, mission_id: str, fields: dict[str, Any]) -> dict:
    response = await api.post(
        f"/missions/{mission_id}/applications",
        data=fields,
        files={"slide": ("pitch.pdf", PDF, "application/pdf")},
        headers=NO_COORDINATOR,
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_the_applicant_and_a_coordinator_download_the_same_data(
    api: httpx.AsyncClient, mailbox
) -> None:
    mission = rehearsal()
    assert (await api.post("/missions", json=mission)).status_code == 201
    jana = await _apply(
        api,
        mission["id"],
        _fields("Cluster Nano Bavaria", "jana.weber@example.org", "Jana Weber", "Meet Boston"),
    )
    piet = await _apply(
        api,
        mission["id"],
        _fields("Holland Photonics", "piet.devries@example.nl", "Piet de Vries", "Find labs"),
    )
    aid, token = jana["application_id"], jana["access_token"]

    async def confirmed() -> None:
        assert len(mailbox.sent("application_received", "jana.weber@example.org")) == 1
        assert len(mailbox.sent("application_received", "piet.devries@example.nl")) == 1

    await eventually(confirmed)
    path = f"/missions/{mission['id']}/applications/{aid}/data"

    async def sent_in_export() -> None:
        response = await api.get(path, headers={**NO_COORDINATOR, "X-Access-Token": token})
        assert response.status_code == 200, response.text
        assert response.json()["emails"][0]["status"] == "sent"

    await eventually(sent_in_export)

    mine = await api.get(f"{path}?token={token}", headers=NO_COORDINATOR)
    assert mine.status_code == 200, mine.text
    disposition = mine.headers["content-disposition"]
    assert disposition.startswith("attachment;") and ".json" in disposition
    data = PersonData.model_validate(mine.json())
    assert data.application.contact_email == "jana.weber@example.org"
    assert data.application.answers["mission_objectives"] == "Meet Boston"
    assert data.application.consent is True and data.application.language == "en"
    assert data.slide is not None and data.slide.size == len(PDF)
    assert data.slide.download_url.endswith(f"/applications/{aid}/slide")
    (email,) = data.emails
    assert email.template == "application_received"
    assert email.recipient == "jana.weber@example.org"
    (received,) = mailbox.sent("application_received", "jana.weber@example.org")
    assert email.subject == received["Subject"]
    assert "Jana Weber" in email.text_body
    assert data.selection is None and data.meetings == [] and data.agenda is None
    for other in ("Piet", "piet.devries", "Holland Photonics", "Find labs", piet["application_id"]):
        assert other not in mine.text

    by_coordinator = await api.get(f"/missions/{mission['id']}/personal-data/{aid}")
    assert by_coordinator.status_code == 200, by_coordinator.text
    assert "attachment" in by_coordinator.headers["content-disposition"]
    theirs = PersonData.model_validate(by_coordinator.json())
    assert theirs.model_dump(exclude={"exported_at"}) == data.model_dump(exclude={"exported_at"})

    openapi = (await api.get("/openapi.json")).json()
    assert "PersonData" in openapi["components"]["schemas"]
    assert "/missions/{mission_id}/applications/{application_id}/data" in openapi["paths"]
    assert "/missions/{mission_id}/personal-data/{application_id}" in openapi["paths"]


async def test_refusals_give_no_data(api: httpx.AsyncClient, mailbox) -> None:
    mission = rehearsal()
    other_mission = rehearsal()
    for document in (mission, other_mission):
        assert (await api.post("/missions", json=document)).status_code == 201
    jana = await _apply(
        api,
        mission["id"],
        _fields("Cluster Nano Bavaria", "jana.weber@example.org", "Jana Weber", "Meet Boston"),
    )
    piet = await _apply(
        api,
        mission["id"],
        _fields("Holland Photonics", "piet.devries@example.nl", "Piet de Vries", "Find labs"),
    )
    aid = jana["application_id"]
    path = f"/missions/{mission['id']}/applications/{aid}/data"

    def leaks_nothing(response: httpx.Response) -> None:
        assert "detail" in response.json()
        for mark in ("Jana", "jana.weber", "Cluster Nano", "Meet Boston"):
            assert mark not in response.text

    as_piet = await api.get(
        path, headers={**NO_COORDINATOR, "X-Access-Token": piet["access_token"]}
    )
    assert as_piet.status_code == 404
    leaks_nothing(as_piet)
    as_piet_by_query = await api.get(f"{path}?token={piet['access_token']}", headers=NO_COORDINATOR)
    assert as_piet_by_query.status_code == 404
    leaks_nothing(as_piet_by_query)
    no_token = await api.get(path, headers=NO_COORDINATOR)
    assert no_token.status_code == 404
    leaks_nothing(no_token)
    not_a_uuid = await api.get(
        f"/missions/{mission['id']}/applications/nonsense/data",
        headers={**NO_COORDINATOR, "X-Access-Token": jana["access_token"]},
    )
    assert not_a_uuid.status_code == 404

    elsewhere = f"/missions/{other_mission['id']}/applications/{aid}/data"
    wrong_mission = await api.get(
        elsewhere, headers={**NO_COORDINATOR, "X-Access-Token": jana["access_token"]}
    )
    assert wrong_mission.status_code == 404
    leaks_nothing(wrong_mission)
    coordinator_wrong_mission = await api.get(
        f"/missions/{other_mission['id']}/personal-data/{aid}"
    )
    assert coordinator_wrong_mission.status_code == 404
    leaks_nothing(coordinator_wrong_mission)
    no_mission = await api.get(f"/missions/no-such-mission/personal-data/{aid}")
    assert no_mission.status_code == 404

    coordinator_route = f"/missions/{mission['id']}/personal-data/{aid}"
    anonymous = await api.get(coordinator_route, headers=NO_COORDINATOR)
    assert anonymous.status_code == 401
    leaks_nothing(anonymous)
    with_applicant_token = await api.get(
        coordinator_route, headers={**NO_COORDINATOR, "X-Access-Token": jana["access_token"]}
    )
    assert with_applicant_token.status_code == 401
    wrong_bearer = await api.get(coordinator_route, headers={"Authorization": "Bearer nope"})
    assert wrong_bearer.status_code == 403
    leaks_nothing(wrong_bearer)
    bad_id = await api.get(f"/missions/{mission['id']}/personal-data/not-a-uuid")
    assert bad_id.status_code == 422


HOSTS_CSV = (
    "name,country,sector,description,contact_name,contact_email,unavailable\n"
    "Boston Nanofab,US,Advanced materials,Thin films,Hope Host,hope@nanofab.example.com,\n"
)


async def test_the_export_holds_the_selection_and_the_meetings_of_that_person_only(
    api: httpx.AsyncClient,
) -> None:
    """Through approval, seats and a scheduled meeting: the decision and its log, the meeting
    with the host's name alone, the agenda as sent, and still nothing of the other delegate."""
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
        sessions=[{"start": "+PT25S", "end": "+PT2M25S"}],
        slot_minutes=1,
        tables=2,
        max_meetings_per_participant=2,
    )
    document["reporting"].update(report_due="+PT5M", follow_up=[])
    assert (await api.post("/missions", json=document)).status_code == 201
    mission = f"/missions/{document['id']}"
    alpha = await _apply(
        api, document["id"], _fields("Alpha Cluster", "alpha@example.org", "Ada Alpha", "x")
    )
    beta = await _apply(
        api, document["id"], _fields("Beta Cluster", "beta@example.org", "Bert Beta", "y")
    )
    loaded = await api.post(
        f"{mission}/hosts", content=HOSTS_CSV, headers={"Content-Type": "text/csv"}
    )
    assert loaded.status_code == 200, loaded.text
    (host,) = loaded.json()["hosts"]
    host_token = host["private_url"].split("token=")[1]

    async def seated() -> None:
        for created in (alpha, beta):
            aid, token = created["application_id"], created["access_token"]
            answer = await api.post(
                f"{mission}/applications/{aid}/confirm?token={token}", headers=NO_COORDINATOR
            )
            assert answer.status_code in (200, 409), answer.text
            mine = await api.get(
                f"{mission}/applications/{aid}?token={token}", headers=NO_COORDINATOR
            )
            assert mine.json()["seat"] == "confirmed"

    await eventually(seated, within=20)
    aid, token = alpha["application_id"], alpha["access_token"]

    async def requested() -> str:
        response = await api.post(
            f"{mission}/meeting-requests?token={token}",
            json={"from": aid, "to": host["id"], "priority": 3, "note": "Thin films"},
            headers=NO_COORDINATOR,
        )
        assert response.status_code == 201, response.text
        return response.json()["meeting_id"]

    rid = await eventually(requested, within=20)
    accepted = await api.post(
        f"{mission}/meeting-requests/{rid}/accept?token={host_token}", headers=NO_COORDINATOR
    )
    assert accepted.status_code == 200, accepted.text

    async def agenda_sent() -> httpx.Response:
        response = await api.get(
            f"{mission}/applications/{aid}/data?token={token}", headers=NO_COORDINATOR
        )
        assert response.status_code == 200, response.text
        assert response.json()["agenda"] is not None
        # once, on PostgreSQL, the export showed the agenda while the meeting's start was
        # still unset: wait for both (not yet explained; see the closing note)
        assert all(m["starts_at"] for m in response.json()["meetings"])
        return response

    response = await eventually(agenda_sent, within=60)
    data = PersonData.model_validate(response.json())
    assert data.selection is not None and data.selection.seat == "confirmed"
    assert data.selection.decision == "selected"
    assert "confirmed" in {event.action for event in data.selection_events}
    (meeting,) = data.meetings
    assert (meeting.with_organisation, meeting.with_kind, meeting.requested_by_me) == (
        "Boston Nanofab",
        "host",
        True,
    )
    assert meeting.status == "accepted" and meeting.starts_at is not None
    (item,) = data.agenda.items if data.agenda else ()
    assert item["meeting_id"] == rid and item["with_name"] == "Boston Nanofab"
    templates = {email.template for email in data.emails}
    assert {"application_received", "selected", "agenda"} <= templates
    assert {email.recipient for email in data.emails} == {"alpha@example.org"}
    for other in ("Hope Host", "hope@nanofab", "Beta Cluster", "beta@example.org", "Bert Beta"):
        assert other not in response.text
