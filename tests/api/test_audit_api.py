"""The mission's audit log on the real dev server: every export of a person's data is logged,
by role and by id, and only coordinators read the log."""

from __future__ import annotations

import httpx
from support import rehearsal

NO_COORDINATOR = {"Authorization": ""}


async def test_exports_are_logged_without_personal_data(api: httpx.AsyncClient) -> None:
    mission = rehearsal()
    assert (await api.post("/missions", json=mission)).status_code == 201
    applied = await api.post(
        f"/missions/{mission['id']}/applications",
        json={
            "organisation": "Cluster Nano Bavaria",
            "organisation_type": "cluster_organisation",
            "country": "DE",
            "city": "Munich",
            "contact_name": "Jana Weber",
            "contact_email": "jana.weber@example.org",
            "sectors": ["Advanced materials"],
            "answers": {"member_organisations": 120, "management_label": "Gold"},
            "consent": True,
        },
        headers=NO_COORDINATOR,
    )
    assert applied.status_code == 201, applied.text
    aid, token = applied.json()["application_id"], applied.json()["access_token"]
    mine = await api.get(
        f"/missions/{mission['id']}/applications/{aid}/data",
        headers={**NO_COORDINATOR, "X-Access-Token": token},
    )
    assert mine.status_code == 200, mine.text
    theirs = await api.get(f"/missions/{mission['id']}/personal-data/{aid}")
    assert theirs.status_code == 200, theirs.text

    log = await api.get(f"/missions/{mission['id']}/audit")
    assert log.status_code == 200, log.text
    page = log.json()
    assert page["total"] == 2
    assert [e["by"] for e in page["entries"]] == ["coordinator", "applicant"]
    assert {e["action"] for e in page["entries"]} == {"personal_data.exported"}
    assert {e["subject"] for e in page["entries"]} == {aid}
    for mark in ("Jana", "jana.weber", "Cluster Nano"):
        assert mark not in log.text
    first = await api.get(f"/missions/{mission['id']}/audit?limit=1&offset=1")
    assert [e["by"] for e in first.json()["entries"]] == ["applicant"]

    assert (
        await api.get(f"/missions/{mission['id']}/audit", headers=NO_COORDINATOR)
    ).status_code == 401
    wrong = {"Authorization": "Bearer not-the-token"}
    assert (await api.get(f"/missions/{mission['id']}/audit", headers=wrong)).status_code == 403
    assert (await api.get("/missions/no-such-mission/audit")).status_code == 404
    bad = await api.get(f"/missions/{mission['id']}/audit?limit=0")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "limit"]
    openapi = (await api.get("/openapi.json")).json()
    assert "AuditPage" in openapi["components"]["schemas"]
