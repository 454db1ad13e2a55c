"""Erasure of a person's data on the real dev server, SMTP sink and databases: by a
coordinator and by the applicant's withdrawal; what is left of the person (nothing), what the
mission's figures keep, and that no email reaches them afterwards."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlmodel import select
from support import eventually, rehearsal

from missionflow.domain.erasure import ERASED, ERASED_ADDRESS
from missionflow.runtime.erasure import erase_mission
from missionflow.runtime.models import (
    Application,
    Host,
    InvitedOrganisation,
    Mission,
    OutboxMessage,
    SinkMessage,
    Slide,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
NO_COORDINATOR = {"Authorization": ""}
JANA = "one@example.org"  # also an invitee of the rehearsal's own file
MARKS = ("Jana", "one@example.org", "Cluster Nano", "Meet Boston")


def _quick_call() -> dict[str, Any]:
    """The rehearsal with a deadline reminder 15 s after the start, well after an erasure."""
    mission = rehearsal()
    mission["call"]["deadline"] = "+PT30S"
    mission["call"]["reminders"] = ["PT15S"]
    return mission


async def _apply(
    api: httpx.AsyncClient,
    mission_id: str,
    name: str,
    email: str,
    org: str,
    label: str | None = None,
) -> dict:
    answers: dict[str, Any] = {"member_organisations": 120, "mission_objectives": "Meet Boston"}
    if label is not None:
        answers["management_label"] = label
    response = await api.post(
        f"/missions/{mission_id}/applications",
        data={
            "organisation": org,
            "organisation_type": "cluster_organisation",
            "country": "DE",
            "city": "Munich",
            "contact_name": name,
            "contact_email": email,
            "sectors": ["Advanced materials"],
            # Without a label incomplete, so the deadline reminder is for them.
            "answers": json.dumps(answers),
            "consent": "true",
        },
        files={"slide": ("pitch.pdf", PDF, "application/pdf")},
        headers=NO_COORDINATOR,
    )
    assert response.status_code == 201, response.text
    return response.json()


def _to(mailbox, address: str, mission_id: str) -> list:
    """What the mission sent to `address` (the rehearsal's invitees are every test mission's)."""
    return [
        m
        for m in mailbox.messages
        if address in str(m["To"]) and m["X-Missionflow-Mission"] == mission_id
    ]


async def test_a_coordinator_erases_an_applicant(
    api: httpx.AsyncClient, mailbox, session_factory
) -> None:
    mission = _quick_call()
    other = rehearsal()
    for document in (mission, other):
        assert (await api.post("/missions", json=document)).status_code == 201
    mid = mission["id"]
    jana = await _apply(api, mid, "Jana Weber", JANA, "Cluster Nano Bavaria")
    piet = await _apply(api, mid, "Piet de Vries", "piet@example.nl", "Holland Photonics")
    outsider = await _apply(api, other["id"], "Ola Berg", "ola@example.no", "Nordic Cluster")
    aid = jana["application_id"]

    async def confirmed() -> None:
        sent = [m["X-Missionflow-Template"] for m in _to(mailbox, JANA, mid)]
        assert "call_announcement" in sent  # invited by the mission file
        assert mailbox.sent("application_received", JANA)
        assert mailbox.sent("application_received", "piet@example.nl")

    await eventually(confirmed)
    async with session_factory() as session:  # a copy in the development mailbox
        session.add(
            SinkMessage(
                mail_from="missions@missionflow.test",
                recipients=[JANA],
                subject="Your application",
                template="application_received",
                mission_id=mid,
                raw="To: one@example.org\r\n\r\nHello Jana",
            )
        )
        await session.commit()
    before = len(_to(mailbox, JANA, mid))

    path = f"/missions/{mid}/personal-data/{aid}"
    assert (await api.delete(path)).status_code == 422  # no reason
    bad = await api.delete(f"{path}?reason=because")
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "reason"]
    assert (await api.delete(f"{path}?reason=requested", headers=NO_COORDINATOR)).status_code == 401
    foreign = await api.delete(
        f"/missions/{mid}/personal-data/{outsider['application_id']}?reason=requested"
    )
    assert foreign.status_code == 404
    unknown = await api.delete(f"/missions/{mid}/personal-data/{uuid.uuid4()}?reason=requested")
    assert unknown.status_code == 404

    erased = await api.delete(f"{path}?reason=requested")
    assert erased.status_code == 200, erased.text
    assert erased.json()["already_erased"] is False
    assert erased.json()["erased"]["slides"] == 1 and erased.json()["erased"]["emails"] >= 1
    again = await api.delete(f"{path}?reason=requested")
    assert again.status_code == 200 and again.json()["already_erased"] is True

    async with session_factory() as session:
        row = await session.get(Application, uuid.UUID(aid))
        assert row is not None and row.erased_at is not None
        assert (row.contact_name, row.organisation, row.city) == (ERASED, ERASED, ERASED)
        assert row.contact_email == ERASED_ADDRESS and row.website is None
        assert row.answers == {"member_organisations": 120, "mission_objectives": ERASED}
        assert (row.country, row.sectors, row.status) == ("DE", ["Advanced materials"], "withdrawn")
        slides = await session.exec(select(Slide).where(Slide.application_id == row.id))
        assert slides.all() == []
        copies = await session.exec(select(SinkMessage).where(SinkMessage.mission_id == mid))
        assert copies.all() == []
        outbox = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.application_id == row.id))
        ).all()
        assert outbox and all(m.recipient == ERASED_ADDRESS and not m.text_body for m in outbox)
        assert {m.status for m in outbox} <= {"sent", "failed"}
        untouched = await session.get(Application, uuid.UUID(outsider["application_id"]))
        assert untouched is not None and untouched.contact_name == "Ola Berg"
        assert untouched.erased_at is None

    export = await api.get(path)
    assert export.status_code == 200
    for mark in MARKS:
        assert mark not in export.text
    assert export.json()["slide"] is None
    # Its own emails, emptied; not the other erased people's, whose address is the same now.
    assert {e["id"] for e in export.json()["emails"]} == {str(m.id) for m in outbox}
    link = {**NO_COORDINATOR, "X-Access-Token": jana["access_token"]}
    for gone in (f"/missions/{mid}/applications/{aid}", f"/missions/{mid}/applications/{aid}/data"):
        response = await api.get(gone, headers=link)
        assert response.status_code == 404
        for mark in MARKS:
            assert mark not in response.text

    log = (await api.get(f"/missions/{mid}/audit?action=personal_data.erased")).json()
    assert log["total"] == 1  # the second erasure changed nothing
    (entry,) = log["entries"]
    assert (entry["by"], entry["subject"]) == ("coordinator", aid)
    assert "requested" in entry["detail"] and "1 slides" in entry["detail"]
    for mark in MARKS:
        assert mark not in json.dumps(log)

    status = (await api.get(f"/missions/{mid}")).json()
    assert (status["applications"], status["withdrawn"]) == (1, 1)
    listed = (await api.get(f"/missions/{mid}/applications")).json()
    assert sorted(a["status"] for a in listed) == ["received", "withdrawn"]

    async def reminded() -> None:  # the reminder goes to the others, not to the erased person
        assert mailbox.sent("deadline_reminder", "piet@example.nl")
        assert mailbox.sent("deadline_reminder", "two@example.net")

    await eventually(reminded, within=40)
    assert [m["X-Missionflow-Template"] for m in _to(mailbox, JANA, mid)[before:]] == []
    async with session_factory() as session:
        queued = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.mission_id == mid))
        ).all()
        late = [m for m in queued if m.created_at > row.erased_at]
        assert late and not [m for m in late if m.recipient in (JANA, ERASED_ADDRESS)]
    assert piet["application_id"] != aid


async def test_the_applicant_withdraws_and_deletes_their_data(
    api: httpx.AsyncClient, mailbox, session_factory
) -> None:
    mission = rehearsal()
    assert (await api.post("/missions", json=mission)).status_code == 201
    mid = mission["id"]
    jana = await _apply(api, mid, "Jana Weber", JANA, "Cluster Nano Bavaria")
    aid, token = jana["application_id"], jana["access_token"]
    link = {**NO_COORDINATOR, "X-Access-Token": token}
    await eventually(lambda: _received(mailbox))
    refused = await api.post(
        f"/missions/{mid}/applications/{aid}/withdraw",
        json={"delete_my_data": "maybe"},
        headers=link,
    )
    assert refused.status_code == 422
    async with session_factory() as session:
        row = await session.get(Application, uuid.UUID(aid))
        assert row is not None and row.status == "received" and row.erased_at is None

    page = f"/missions/{mid}/participants/{aid}"
    visits = f"/missions/{mid}/visits?delegate={aid}"
    for opened in (page, visits):
        assert (await api.get(opened, headers=link)).status_code == 200, opened
    done = await api.post(
        f"/missions/{mid}/applications/{aid}/withdraw", json={"delete_my_data": True}, headers=link
    )
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "withdrawn" and done.json()["contact_email"] == ERASED_ADDRESS
    for mark in MARKS:
        assert mark not in done.text
    for gone in (f"/missions/{mid}/applications/{aid}", page, f"{page}/agenda.ics", visits):
        response = await api.get(gone, headers=link)
        assert response.status_code == 404, gone
        for mark in MARKS:
            assert mark not in response.text
    again = await api.post(
        f"/missions/{mid}/applications/{aid}/withdraw", json={"delete_my_data": True}, headers=link
    )
    assert again.status_code == 404
    (entry,) = (await api.get(f"/missions/{mid}/audit")).json()["entries"]
    assert (entry["by"], entry["action"], entry["subject"]) == (
        "applicant",
        "personal_data.erased",
        aid,
    )
    export = await api.get(f"/missions/{mid}/personal-data/{aid}")
    for mark in MARKS:
        assert mark not in export.text
    assert export.json()["application"]["erased_at"] is not None


async def _received(mailbox) -> None:
    assert mailbox.sent("application_received", JANA)


async def test_erasing_a_mission_erases_everyone_once(
    api: httpx.AsyncClient, mailbox, session_factory
) -> None:
    mission = rehearsal()
    assert (await api.post("/missions", json=mission)).status_code == 201
    mid = mission["id"]
    await _apply(api, mid, "Jana Weber", JANA, "Cluster Nano Bavaria")
    await _apply(api, mid, "Piet de Vries", "piet@example.nl", "Holland Photonics")
    await eventually(lambda: _received(mailbox))
    async with session_factory() as session:
        session.add(
            InvitedOrganisation(
                mission_id=mid,
                organisation="Late Cluster",
                email="late@example.org",
                email_key="late@example.org",
                name="Lea Late",
                added_at=datetime.now(UTC),
            )
        )
        session.add(
            Host(
                mission_id=mid,
                name="Boston Labs",
                name_key="boston labs",
                country="US",
                sector="Advanced materials",
                contact_name="Bob Host",
                contact_email="bob@bostonlabs.example",
                unavailable=[],
                added_at=datetime.now(UTC),
            )
        )
        await session.commit()
    async with session_factory() as session:
        first = await erase_mission(session, mid, by="retention")
        await session.commit()
    assert first is not None
    assert (first["applications"], first["hosts"], first["invitees"]) == (2, 1, 1)
    assert first["file_invitees"] == len(mission["call"]["invitees"]) > 0
    async with session_factory() as session:
        assert await erase_mission(session, mid, by="retention") is None
        row = await session.get(Mission, mid)
        assert row is not None and row.file["call"]["invitees"] == []
        assert row.file["call"]["deadline"] and row.file["coordinators"]  # the rest is kept
        rows = (await session.exec(select(Application).where(Application.mission_id == mid))).all()
        assert all(r.contact_email == ERASED_ADDRESS and r.erased_at for r in rows)
        assert sorted(r.country for r in rows) == ["DE", "DE"]
        host = (await session.exec(select(Host).where(Host.mission_id == mid))).one()
        assert (host.contact_email, host.country, host.sector) == (
            ERASED_ADDRESS,
            "US",
            "Advanced materials",
        )
        emails = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.mission_id == mid))
        ).all()
        assert all(m.recipient == ERASED_ADDRESS for m in emails)
    log = (await api.get(f"/missions/{mid}/audit")).json()
    assert [(e["by"], e["action"]) for e in log["entries"]] == [
        ("retention", "personal_data.erased")
    ]


async def test_an_erased_delegates_seat_moves_on_and_no_seat_email_reaches_them(
    api: httpx.AsyncClient, mailbox, session_factory
) -> None:
    """Erasure withdraws through the workflow: the seat goes to the waitlist at once."""
    mission = rehearsal()
    mission["call"].update(deadline="+PT15S", reminders=[])
    mission["selection"].update(
        capacity=1, decision_due="+PT20S", confirm_within="PT40S", delegation_lock="+PT2M"
    )
    assert (await api.post("/missions", json=mission)).status_code == 201, mission
    mid = mission["id"]
    jana = await _apply(api, mid, "Jana Weber", JANA, "Cluster Nano Bavaria", "Gold")
    await _apply(api, mid, "Piet de Vries", "piet@example.nl", "Holland Photonics", "Bronze")

    async def offered() -> None:
        assert mailbox.sent("selected", JANA)
        assert mailbox.sent("waitlisted", "piet@example.nl")

    await eventually(offered, within=60)
    before = len(_to(mailbox, JANA, mid))
    aid = jana["application_id"]
    erased = await api.delete(f"/missions/{mid}/personal-data/{aid}?reason=consent_withdrawn")
    assert erased.status_code == 200, erased.text

    async def promoted() -> None:
        assert mailbox.sent("waitlist_promoted", "piet@example.nl")

    await eventually(promoted, within=30)
    seats = {s["decision"]: s for s in (await api.get(f"/missions/{mid}/applications")).json()}
    assert seats["selected"]["contact_email"] == "piet@example.nl"
    assert seats["selected"]["seat"] == "offered"
    # Only the release of the seat, queued by the withdrawal before the erasure, may have left.
    assert {m["X-Missionflow-Template"] for m in _to(mailbox, JANA, mid)[before:]} <= {
        "seat_released"
    }
    async with session_factory() as session:
        row = await session.get(Application, uuid.UUID(aid))
        assert row is not None and row.erased_at is not None
        mine = await session.exec(
            select(OutboxMessage).where(OutboxMessage.application_id == row.id)
        )
        assert all(m.recipient == ERASED_ADDRESS for m in mine.all())
