"""Applying, the private link, and what the applicant receives, on the real dev server."""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import func, select
from support import eventually, rehearsal

from api.applying import keyed_application_id, keyed_slide_id
from missionflow.runtime.models import Application, OutboxMessage, Slide

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


async def started(api: httpx.AsyncClient, **changes: Any) -> dict[str, Any]:
    document = rehearsal(**changes)
    response = await api.post("/missions", json=document)
    assert response.status_code == 201, response.text
    return document


def application(**changes: Any) -> dict[str, Any]:
    return {
        "organisation": "Cluster Nano Bavaria",
        "organisation_type": "cluster_organisation",
        "country": "DE",
        "city": "Munich",
        "website": "https://nano.example.org",
        "contact_name": "Jana Weber",
        "contact_email": "jana.weber@example.org",
        "sectors": ["Advanced materials"],
        "answers": {"member_organisations": 120},
        "consent": True,
        **changes,
    }


async def test_apply_then_read_amend_and_withdraw(api: httpx.AsyncClient, mailbox) -> None:
    mission = await started(api)
    path = f"/missions/{mission['id']}/applications"
    response = await api.post(path, json=application(), headers={"Authorization": ""})
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "received" and created["complete"] is False
    assert created["missing"] == [
        "an answer to “Which cluster management label do you hold?”",
        "an answer to “What are your objectives for this mission?”",
    ]
    token, aid = created["access_token"], created["application_id"]

    async def confirmed() -> None:
        sent = mailbox.sent("application_received", "jana.weber@example.org")
        assert len(sent) == 1
        message = sent[0]
        assert message["X-Missionflow-Mission"] == mission["id"]
        assert mission["organiser"] in str(message["From"])
        assert "coordinator@example.org" in str(message["Reply-To"])
        text = message.get_body(("plain",)).get_content()
        assert "What are your objectives for this mission?" in text
        assert f"/missions/{mission['id']}/applications/{aid}?token={token}" in text

    await eventually(confirmed)

    mine = await api.get(f"{path}/{aid}", headers={"Authorization": "", "X-Access-Token": token})
    assert mine.status_code == 200 and mine.json()["organisation"] == "Cluster Nano Bavaria"
    by_link = await api.get(f"{path}/{aid}?token={token}", headers={"Authorization": ""})
    assert by_link.status_code == 200

    amended = await api.patch(
        f"{path}/{aid}?token={token}",
        json={"answers": {"management_label": "Gold", "mission_objectives": "Partners"}},
        headers={"Authorization": ""},
    )
    assert amended.status_code == 200, amended.text
    assert amended.json()["complete"] is True and amended.json()["missing"] == []
    assert amended.json()["answers"]["member_organisations"] == 120

    withdrawn = await api.post(
        f"{path}/{aid}/withdraw?token={token}", headers={"Authorization": ""}
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    again = await api.post(f"{path}/{aid}/withdraw?token={token}", headers={"Authorization": ""})
    assert again.status_code == 200 and again.json()["status"] == "withdrawn"
    late_change = await api.patch(
        f"{path}/{aid}?token={token}", json={"city": "Berlin"}, headers={"Authorization": ""}
    )
    assert late_change.status_code == 409
    assert "withdrawn" in late_change.json()["detail"]
    status = (await api.get(f"/missions/{mission['id']}")).json()
    assert status["applications"] == 0 and status["withdrawn"] == 1


async def test_a_duplicate_is_the_same_application_and_one_email(
    api: httpx.AsyncClient, mailbox, session_factory
) -> None:
    mission = await started(api)
    path = f"/missions/{mission['id']}/applications"
    first = await api.post(path, json=application())
    again = await api.post(
        path,
        json=application(
            contact_email="JANA.WEBER@example.org", organisation=" cluster nano  bavaria"
        ),
    )
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["application_id"] == first.json()["application_id"]
    assert again.json()["access_token"] is None  # different words: the link is not given out
    assert "already applied" in again.json()["detail"]
    retried = await api.post(path, json=application())
    assert retried.status_code == 200
    assert retried.json() == first.json()  # a retried request: the very same answer
    await eventually(lambda: _one(mailbox))
    async with session_factory() as session:
        rows = await session.scalar(select(func.count()).select_from(Application))
        emails = await session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.template == "application_received")
        )
    assert rows == 1 and emails == 1


async def _one(mailbox) -> None:
    assert len(mailbox.sent("application_received")) == 1


async def test_apply_with_a_slide_in_multipart(api: httpx.AsyncClient, session_factory) -> None:
    mission = await started(api)
    path = f"/missions/{mission['id']}/applications"
    fields = application(
        answers={
            "member_organisations": 12,
            "management_label": "Silver",
            "mission_objectives": "x",
        }
    )
    data = {
        **{k: v for k, v in fields.items() if k not in ("sectors", "answers", "consent")},
        "sectors": fields["sectors"],
        "answers": '{"member_organisations": 12, "management_label": "Silver", '
        '"mission_objectives": "Meet partners"}',
        "consent": "true",
    }
    response = await api.post(
        path, data=data, files={"slide": ("pitch.pdf", PDF, "application/pdf")}
    )
    assert response.status_code == 201, response.text
    assert response.json()["complete"] is True
    aid, token = response.json()["application_id"], response.json()["access_token"]
    slide = await api.get(f"{path}/{aid}/slide?token={token}", headers={"Authorization": ""})
    assert slide.status_code == 200 and slide.content == PDF
    assert slide.headers["content-type"] == "application/pdf"


async def test_a_retry_attaches_the_slide_an_earlier_attempt_left_staged(
    api: httpx.AsyncClient, session_factory
) -> None:
    """An attempt that stored its slide and then lost the database (503) cannot remove it; the
    retry, with the same Idempotency-Key, finds it and attaches it instead of a second copy."""
    mission = await started(api)
    application_id = keyed_application_id(mission["id"], "retry-1")
    async with session_factory() as session:
        session.add(
            Slide(
                id=keyed_slide_id(application_id),
                mission_id=mission["id"],
                filename="pitch.pdf",
                content_type="application/pdf",
                size=len(PDF),
                sha256=hashlib.sha256(PDF).hexdigest(),
                content=PDF,
                uploaded_at=datetime.now(UTC),
            )
        )
        await session.commit()
    fields = application()
    data = {
        **{k: v for k, v in fields.items() if k not in ("sectors", "answers", "consent")},
        "sectors": fields["sectors"],
        "answers": '{"member_organisations": 12}',
        "consent": "true",
    }
    response = await api.post(
        f"/missions/{mission['id']}/applications",
        data=data,
        files={"slide": ("pitch.pdf", PDF, "application/pdf")},
        headers={"Idempotency-Key": "retry-1", "Authorization": ""},
    )
    assert response.status_code == 201, response.text
    assert response.json()["application_id"] == str(application_id)

    async def attached() -> None:
        async with session_factory() as session:
            slides = (
                await session.exec(select(Slide).where(Slide.mission_id == mission["id"]))
            ).all()
        assert [(s.id, s.application_id) for s in slides] == [
            (keyed_slide_id(application_id), application_id)
        ]

    await eventually(attached)


@pytest.mark.parametrize(
    ("content", "status", "detail"),
    [
        (b"%PDF-" + b"0" * (10 * 1024 * 1024), 413, "at most 10 MB"),
        (b"GIF89a not a slide", 415, "PDF or a PowerPoint"),
    ],
)
async def test_a_refused_slide_leaves_nothing(
    api: httpx.AsyncClient, session_factory, mailbox, content, status, detail
) -> None:
    mission = await started(api)
    fields = application()
    data = {
        **{k: v for k, v in fields.items() if k not in ("answers", "consent")},
        "consent": "on",
    }
    response = await api.post(
        f"/missions/{mission['id']}/applications",
        data=data,
        files={"slide": ("pitch.pdf", content, "application/pdf")},
    )
    assert response.status_code == status
    assert detail in response.json()["detail"]
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Application)) == 0
        assert await session.scalar(select(func.count()).select_from(Slide)) == 0
        # Only the call's announcement to the invitees, if it went out meanwhile.
        confirmations = select(func.count()).where(OutboxMessage.template != "call_announcement")
        assert await session.scalar(confirmations.select_from(OutboxMessage)) == 0


@pytest.mark.parametrize(
    ("changes", "location", "message"),
    [
        ({"country": "XX"}, ["body", "country"], "ISO 3166"),
        ({"contact_email": "nobody"}, ["body", "contact_email"], "email"),
        ({"sectors": ["Knitting"]}, ["body", "sectors", 0], "not a sector of this call"),
        (
            {"answers": {"member_organisations": "many"}},
            ["body", "answers", "member_organisations"],
            "whole number",
        ),
        ({"consent": False}, ["body"], "consent"),
        ({"organisation_type": "guild"}, ["body", "organisation_type"], "Input should be"),
        ({"favourite": "x"}, ["body", "favourite"], "Extra inputs"),
    ],
)
async def test_bad_fields_are_refused_at_their_field(
    api: httpx.AsyncClient, session_factory, changes, location, message
) -> None:
    mission = await started(api)
    response = await api.post(
        f"/missions/{mission['id']}/applications", json=application(**changes)
    )
    assert response.status_code == 422
    errors = response.json()["detail"]
    assert any(e["loc"] == location and message in e["msg"] for e in errors), errors
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Application)) == 0


async def test_nobody_else_reads_an_application(api: httpx.AsyncClient) -> None:
    mission = await started(api)
    path = f"/missions/{mission['id']}/applications"
    first = (await api.post(path, json=application())).json()
    second = (
        await api.post(path, json=application(organisation="Other", contact_email="o@example.org"))
    ).json()
    anonymous = {"Authorization": ""}
    for token in (second["access_token"], None, "forged"):
        url = f"{path}/{first['application_id']}" + (f"?token={token}" if token else "")
        response = await api.get(url, headers=anonymous)
        assert response.status_code == 404
        assert response.json() == {"detail": "No such application for this link."}
    assert (await api.get(f"{path}/not-a-uuid", headers=anonymous)).status_code == 404
    coordinator = await api.get(f"{path}/{first['application_id']}")
    assert coordinator.status_code == 200


async def test_the_call_refuses_before_it_opens(api: httpx.AsyncClient, session_factory) -> None:
    document = rehearsal()
    document["call"]["opens_at"] = "+PT1M"
    assert (await api.post("/missions", json=document)).status_code == 201
    response = await api.post(f"/missions/{document['id']}/applications", json=application())
    assert response.status_code == 409
    assert response.json()["detail"].startswith("The call for expression of interest opens on ")
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Application)) == 0


async def test_coordinators_list_applications_as_json_and_csv(api: httpx.AsyncClient) -> None:
    mission = await started(api)
    path = f"/missions/{mission['id']}/applications"
    await api.post(path, json=application())
    await api.post(path, json=application(organisation="Other", contact_email="o@example.org"))
    listed = (await api.get(path)).json()
    assert [a["organisation"] for a in listed] == ["Cluster Nano Bavaria", "Other"]
    assert (await api.get(path, headers={"Authorization": ""})).status_code == 401
    exported = await api.get(path, headers={"Accept": "text/csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["contact_email"] for r in rows] == ["jana.weber@example.org", "o@example.org"]
    assert (await api.get(f"{path}?complete=true")).json() == []
    assert len((await api.get(f"{path}?status=received")).json()) == 2
