"""The outbox over HTTP on the real dev server and both databases, with a real SMTP server that
refuses chosen addresses for good (550): resending a failed email through the workflow (JSON
and the console's button), once even when asked twice at once, by role; the console's outbox
list with its filters, a message's preview, and an erased one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from refusing_mailbox import RefusingMailbox, refusing_mailbox
from support import eventually, rehearsal
from test_console_pages import csrf_of, signed_in
from test_people_and_roles import APPLICATION, member, mission, person
from test_people_and_roles import signed_in as json_signed_in

Browser = Callable[[], httpx.AsyncClient]

ONE, TWO = "one@example.org", "two@example.net"
"""The rehearsal's invitees: each is sent the call's announcement."""


@pytest.fixture
async def mailbox() -> AsyncIterator[RefusingMailbox]:
    """Replaces the accepting mailbox of tests/conftest.py for this module's settings."""
    async with refusing_mailbox() as box:
        yield box


async def _email(api: httpx.AsyncClient, mission_id: str, to: str, status: str) -> dict[str, Any]:
    page = (await api.get(f"/missions/{mission_id}/emails?recipient={to}")).json()
    assert page["total"] == 1, page
    (email,) = page["emails"]
    assert email["status"] == status, email
    return email


async def _sent_once(mailbox: RefusingMailbox, to: str) -> None:
    assert len(mailbox.sent("call_announcement", to)) == 1


async def test_a_failed_email_resent_twice_at_once_arrives_once(
    api: httpx.AsyncClient, browsers: Browser, mailbox: RefusingMailbox
) -> None:
    mailbox.refused.update({ONE, TWO})
    ours, theirs = await mission(api), await mission(api)
    await person(api, "cora@example.org", "Cora Coordinator")
    await person(api, "vera@example.org", "Vera Viewer")
    await person(api, "otto@example.org", "Otto Other")
    await member(api, ours, "cora@example.org", "coordinator")
    await member(api, ours, "vera@example.org", "viewer")
    await member(api, theirs, "otto@example.org", "coordinator")
    failed = await eventually(lambda: _email(api, ours, TWO, "failed"), within=30)
    await eventually(lambda: _email(api, ours, ONE, "failed"))
    assert failed["smtp_code"] == 550 and failed["template"] == "call_announcement"
    mailbox.refused.clear()
    resend = f"/missions/{ours}/emails/{failed['id']}/resend"

    for email, expected in (("vera@example.org", 403), ("otto@example.org", 404)):
        browser = browsers()
        csrf = await json_signed_in(browser, email)
        refused = await browser.post(resend, headers={"X-CSRF-Token": csrf})
        assert refused.status_code == expected, refused.text
    await asyncio.sleep(1)
    assert (await _email(api, ours, TWO, "failed"))["attempts"] == 1, "nothing was resent"

    cora = browsers()
    csrf = await json_signed_in(cora, "cora@example.org")
    unproven = await cora.post(resend)
    assert unproven.status_code == 403, "a session's request without its CSRF token"
    first, second = await asyncio.gather(
        cora.post(resend, headers={"X-CSRF-Token": csrf}),
        cora.post(resend, headers={"X-CSRF-Token": csrf}),
    )
    answers = sorted([first, second], key=lambda answer: answer.status_code)
    assert [a.status_code for a in answers] == [200, 409], [a.text for a in answers]
    assert answers[0].json()["id"] == failed["id"]
    assert "only a failed one is sent again" in answers[1].json()["detail"]

    await eventually(lambda: _sent_once(mailbox, TWO))
    sent = await eventually(lambda: _email(api, ours, TWO, "sent"))
    assert sent["attempts"] == 2 and sent["last_error"] is None and sent["smtp_code"] is None
    await asyncio.sleep(1)  # a second delivery would have come by now
    await _sent_once(mailbox, TWO)
    assert mailbox.sent("call_announcement", ONE) == [], "only the one asked for"

    again = await cora.post(resend, headers={"X-CSRF-Token": csrf})
    assert again.status_code == 409 and "is sent already" in again.json()["detail"]
    unknown = await cora.post(
        f"/missions/{ours}/emails/00000000-0000-4000-8000-000000000000/resend",
        headers={"X-CSRF-Token": csrf},
    )
    assert unknown.status_code == 404
    elsewhere = await api.post(f"/missions/{theirs}/emails/{failed['id']}/resend")
    assert elsewhere.status_code == 404, "another mission's email is not this one's"

    audit = (await api.get(f"/missions/{ours}/audit?action=email.resent")).json()
    assert [(e["by"], e["subject"], e["detail"]) for e in audit["entries"]] == [
        ("Cora Coordinator <cora@example.org>", failed["id"], "call_announcement")
    ]

    cancelled = await api.post(f"/missions/{ours}/cancel", json={"reason": "The venue closed"})
    assert cancelled.status_code == 200, cancelled.text
    other = await _email(api, ours, ONE, "failed")
    ended = await api.post(f"/missions/{ours}/emails/{other['id']}/resend")
    assert ended.status_code == 409, ended.text
    assert "cancelled" in ended.text or "ended" in ended.text
    assert mailbox.sent("call_announcement", ONE) == []


async def test_the_outbox_pages_list_filter_preview_and_resend(
    api: httpx.AsyncClient, browsers: Browser, mailbox: RefusingMailbox
) -> None:
    mailbox.refused.add(TWO)
    ours = await mission(api)
    await person(api, "cora@example.org", "Cora Coordinator")
    await person(api, "vera@example.org", "Vera Viewer")
    await member(api, ours, "cora@example.org", "coordinator")
    await member(api, ours, "vera@example.org", "viewer")
    failed = await eventually(lambda: _email(api, ours, TWO, "failed"), within=30)
    sent = await eventually(lambda: _email(api, ours, ONE, "sent"))
    mailbox.refused.clear()
    path = f"/console/missions/{ours}/outbox"

    viewer = browsers()
    await signed_in(viewer, "vera@example.org")
    page = await viewer.get(path)
    assert page.status_code == 200, page.text
    assert 'aria-current="page"' in page.text and f'href="{path}"' in page.text
    assert f'id="email-{failed["id"]}"' in page.text and f'id="email-{sent["id"]}"' in page.text
    assert "550 5.1.1 no such user (550)" in page.text
    assert "/resend" not in page.text, "a viewer has no resend button"
    only_failed = await viewer.get(f"{path}?status=failed")
    assert f'id="email-{failed["id"]}"' in only_failed.text
    assert f'id="email-{sent["id"]}"' not in only_failed.text
    by_recipient = await viewer.get(f"{path}?recipient=ONE@example.org")
    assert f'id="email-{sent["id"]}"' in by_recipient.text
    assert f'id="email-{failed["id"]}"' not in by_recipient.text
    assert 'value="ONE@example.org"' in by_recipient.text
    by_template = await viewer.get(f"{path}?template=application_received")
    assert "email-" not in by_template.text and "0 messages." in by_template.text
    unknown = await viewer.get(f"{path}?template=love_letter&page=1")
    assert unknown.status_code == 422 and 'id="template-error"' in unknown.text
    assert "unknown template" in unknown.text
    assert (await viewer.get(f"{path}?page=0")).status_code == 422

    preview = await viewer.get(f"{path}/{sent['id']}")
    assert preview.status_code == 200, preview.text
    assert "frame-src 'self'" in preview.headers["content-security-policy"]
    assert "script-src" not in preview.headers["content-security-policy"]
    assert "<dt>Subject</dt><dd>Call for expressions of interest" in preview.text
    assert "X-Missionflow-Template" in preview.text and sent["message_id"] in preview.text.replace(
        "&lt;", "<"
    ).replace("&gt;", ">")
    announced = mailbox.sent("call_announcement", ONE)[0].get_body(("plain",))
    assert announced is not None
    first_line = announced.get_content().strip().splitlines()[0]
    assert first_line in preview.text, "the text part, as the recipient got it"
    assert f'src="{path}/{sent["id"]}/html"' in preview.text and "sandbox" in preview.text
    html = await viewer.get(f"{path}/{sent['id']}/html")
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.headers["content-security-policy"].startswith("sandbox;")
    assert "<html" in html.text.lower()
    assert (await viewer.get(f"{path}/not-an-id")).status_code == 404
    refused = await viewer.post(
        f"{path}/{failed['id']}/resend", data={"csrf_token": csrf_of(preview)}
    )
    assert refused.status_code == 403

    coordinator = browsers()
    await signed_in(coordinator, "cora@example.org")
    listed = await coordinator.get(path)
    assert f'action="{path}/{failed["id"]}/resend"' in listed.text
    assert f'action="{path}/{sent["id"]}/resend"' not in listed.text, "only a failed one"
    csrf = csrf_of(listed)
    assert (await coordinator.post(f"{path}/{failed['id']}/resend")).status_code == 403
    resent = await coordinator.post(f"{path}/{failed['id']}/resend", data={"csrf_token": csrf})
    assert resent.status_code == 303, resent.text
    assert resent.headers["location"] == f"{path}/{failed['id']}?done=resent"
    shown = await coordinator.get(resent.headers["location"])
    assert "The email is queued again" in shown.text
    await eventually(lambda: _sent_once(mailbox, TWO))
    await eventually(lambda: _email(api, ours, TWO, "sent"))
    twice = await coordinator.post(f"{path}/{failed['id']}/resend", data={"csrf_token": csrf})
    assert twice.status_code == 409 and "is sent already" in twice.text
    await asyncio.sleep(1)
    await _sent_once(mailbox, TWO)

    created = await api.post(f"/missions/{ours}/applications", json=APPLICATION)
    assert created.status_code == 201, created.text
    received = await eventually(
        lambda: _email(api, ours, APPLICATION["contact_email"], "sent"), within=30
    )
    application_id = created.json()["application_id"]
    erased = await api.delete(f"/missions/{ours}/personal-data/{application_id}?reason=requested")
    assert erased.status_code == 200, erased.text
    gone = await coordinator.get(f"{path}/{received['id']}")
    assert gone.status_code == 200 and 'id="erased"' in gone.text
    assert APPLICATION["contact_email"] not in gone.text and "<iframe" not in gone.text


async def test_the_outbox_page_is_paged_with_its_filters_kept(
    api: httpx.AsyncClient, browsers: Browser, mailbox: RefusingMailbox
) -> None:
    document = rehearsal()
    document["call"]["invitees"] = [
        {"organisation": f"Cluster {n}", "email": f"cluster-{n}@example.org", "country": "DE"}
        for n in range(57)
    ]
    assert (await api.post("/missions", json=document)).status_code == 201
    path = f"/missions/{document['id']}/emails?status=sent&limit=1"

    async def all_sent() -> None:
        assert (await api.get(path)).json()["total"] == 57

    await eventually(all_sent, within=30)
    await person(api, "vera@example.org", "Vera Viewer")
    await member(api, document["id"], "vera@example.org", "viewer")
    viewer = browsers()
    await signed_in(viewer, "vera@example.org")
    outbox = f"/console/missions/{document['id']}/outbox"

    first = await viewer.get(f"{outbox}?status=sent")
    assert first.status_code == 200, first.text
    assert first.text.count('<tr id="email-') == 50
    assert "57 messages, 1 to 50 shown." in first.text and "Page 1 of 2" in first.text
    assert 'href="?status=sent&amp;page=2" rel="next"' in first.text
    second = await viewer.get(f"{outbox}?status=sent&page=2")
    assert second.text.count('<tr id="email-') == 7
    assert "57 messages, 51 to 57 shown." in second.text
    assert 'href="?status=sent&amp;page=1" rel="prev"' in second.text
    assert 'rel="next"' not in second.text
    listed = (await api.get(f"/missions/{document['id']}/emails?limit=57")).json()["emails"]
    shown = [e["id"] for e in listed if f'id="email-{e["id"]}"' in second.text]
    assert shown == [e["id"] for e in listed[50:]], "the same order as GET .../emails"
