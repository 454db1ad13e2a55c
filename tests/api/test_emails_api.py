"""GET /missions/{id}/emails: the outbox as coordinators and support read it."""

from __future__ import annotations

import httpx
from support import eventually, rehearsal


async def test_the_outbox_shows_each_message_its_status_and_attempts(
    api: httpx.AsyncClient,
) -> None:
    document = rehearsal()
    document["call"]["invitees"] = []
    assert (await api.post("/missions", json=document)).status_code == 201
    path = f"/missions/{document['id']}"
    applicant = {
        "organisation": "Cluster Nano Bavaria",
        "organisation_type": "cluster_organisation",
        "country": "DE",
        "city": "Munich",
        "contact_name": "Jana Weber",
        "contact_email": "Jana.Weber@example.org",
        "sectors": ["Advanced materials"],
        "consent": True,
    }
    created = await api.post(f"{path}/applications", json=applicant)
    assert created.status_code == 201

    async def sent() -> dict:
        page = (await api.get(f"{path}/emails")).json()
        assert page["total"] == 1
        (email,) = page["emails"]
        assert email["status"] == "sent"
        return email

    email = await eventually(sent)
    assert email["template"] == "application_received"
    assert email["recipient"] == "Jana.Weber@example.org"
    assert email["application_id"] == created.json()["application_id"]
    assert email["attempts"] == 1 and email["last_error"] is None
    assert email["message_id"].startswith("<") and email["sent_at"] is not None

    by_recipient = (await api.get(f"{path}/emails?recipient=jana.weber@example.org")).json()
    assert by_recipient["total"] == 1
    assert (await api.get(f"{path}/emails?status=failed")).json() == {"total": 0, "emails": []}
    assert (await api.get(f"{path}/emails?template=call_closed")).json()["total"] == 0
    unknown = await api.get(f"{path}/emails?template=love_letter")
    assert unknown.status_code == 422 and "unknown template" in unknown.text
    assert (await api.get(f"{path}/emails?status=lost")).status_code == 422
    assert (await api.get(f"{path}/emails", headers={"Authorization": ""})).status_code == 401
    missing = await api.get("/missions/no-such-mission/emails")
    assert missing.status_code == 404
