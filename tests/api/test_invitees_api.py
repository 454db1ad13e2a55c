"""Coordinators add invitees from a CSV while the call is open, on the real dev server."""

from __future__ import annotations

import asyncio

import httpx
from sqlmodel import func, select
from support import eventually, rehearsal

from missionflow.runtime.models import InvitedOrganisation

CSV = {"Content-Type": "text/csv"}
LIST = (
    b"organisation,email,name,country\n"
    b"Late Cluster,late@example.org,Lea Late,IT\n"
    b"Rehearsal Cluster One,ONE@example.org,,DE\n"
    b"Another Late Cluster,another@example.org,,ES\n"
    b"Another Late Cluster,another@example.org,,ES\n"
)


async def test_invitees_added_late_hear_of_the_call_once_and_are_reminded(
    api: httpx.AsyncClient, mailbox
) -> None:
    document = rehearsal()
    document["call"].update(deadline="+PT20S", reminders=["PT10S"])
    assert (await api.post("/missions", json=document)).status_code == 201
    path = f"/missions/{document['id']}/invitees"

    response = await api.post(path, content=LIST, headers=CSV)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "added": 2,
        "already_invited": 1,
        "repeated_in_file": 1,
        "announced": 2,
    }
    again = await api.post(path, content=LIST, headers=CSV)
    assert again.json() == {"added": 0, "already_invited": 3, "repeated_in_file": 1, "announced": 0}

    async def announced() -> None:
        assert {str(m["To"]) for m in mailbox.sent("call_announcement")} == {
            "one@example.org",
            "two@example.net",
            "Lea Late <late@example.org>",
            "another@example.org",
        }

    await eventually(announced)
    listed = (await api.get(path)).json()
    assert [(i["email"], i["source"], i["applied"]) for i in listed] == [
        ("one@example.org", "mission file", False),
        ("two@example.net", "mission file", False),
        ("another@example.org", "csv", False),
        ("late@example.org", "csv", False),
    ]

    async def reminded() -> None:
        assert len(mailbox.sent("deadline_reminder", "late@example.org")) == 1

    await eventually(reminded, within=30)
    await asyncio.sleep(0.5)
    assert len(mailbox.sent("call_announcement")) == 4


async def test_refused_lists_write_nothing(api: httpx.AsyncClient, session_factory) -> None:
    document = rehearsal()
    document["call"].update(deadline="+PT3S", reminders=[])
    assert (await api.post("/missions", json=document)).status_code == 201
    path = f"/missions/{document['id']}/invitees"

    bad = await api.post(path, content=b"organisation,email\nA,nope\n", headers=CSV)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "row 2", "email"]
    wrong_type = await api.post(path, json=[{"organisation": "A", "email": "a@example.org"}])
    assert wrong_type.status_code == 415
    anonymous = await api.post(path, content=LIST, headers={**CSV, "Authorization": ""})
    assert anonymous.status_code == 401
    assert (await api.post("/missions/nope/invitees", content=LIST, headers=CSV)).status_code == 404

    await asyncio.sleep(3.5)
    closed = await api.post(path, content=LIST, headers=CSV)
    assert closed.status_code == 409
    assert closed.json()["detail"].startswith("The call for expression of interest closed on ")
    assert closed.json()["detail"].endswith("Invitees can no longer be added.")
    await api.post(f"/missions/{document['id']}/cancel", json={"reason": "no budget"})
    ended = await api.post(path, content=LIST, headers=CSV)
    assert ended.status_code == 409
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(InvitedOrganisation)) == 0
