"""The check-in link on a delegate's agenda, over HTTP on the real dev server and both
databases, once the meetings are placed: the agenda email shows the link's QR code as an inline
PNG (Content-ID, beside the HTML that shows it) and writes the code; the calendar file's
meetings carry the code and the link; the agenda page draws the QR code as inline SVG. segno has
no decoder: each QR code is drawn again with segno from exactly the check-in link and compared,
and the link itself checks the delegate in."""

from __future__ import annotations

import io
import uuid
from typing import Any

import httpx
import segno
from icalendar import Calendar
from support import eventually
from test_check_in_desk import desk_mission, started
from test_matchmaking_api import PUBLIC, application

from missionflow.domain.matchmaking.check_in import check_in_code
from missionflow.runtime.check_ins import calendar_line, check_in_url, qr_png
from missionflow.runtime.settings import Settings


async def test_the_agenda_carries_the_check_in_qr_code(
    api: httpx.AsyncClient, mailbox: Any, settings: Settings
) -> None:
    document = desk_mission("+PT40S") | {"languages": ["en", "fr"]}
    ours, mission = document["id"], f"/missions/{document['id']}"
    hosts = await started(api, document)
    host_id = hosts["Boston Nanofab"]["id"]
    created = (await api.post(f"{mission}/applications", json=application("Alpha"))).json()
    alpha, token = uuid.UUID(created["application_id"]), created["access_token"]

    async def requested() -> None:
        await api.post(f"{mission}/applications/{alpha}/confirm?token={token}", headers=PUBLIC)
        asked = await api.post(
            f"{mission}/meeting-requests?token={token}",
            json={"from": str(alpha), "to": host_id},
            headers=PUBLIC,
        )
        assert asked.status_code == 201, asked.text

    await eventually(requested, within=30)
    mine = await api.get(f"{mission}/participants/{alpha}?token={token}", headers=PUBLIC)
    (pending,) = mine.json()["meetings"]
    host_token = hosts["Boston Nanofab"]["private_url"].split("token=")[1]
    accepted = await api.post(
        f"{mission}/meeting-requests/{pending['meeting_id']}/accept?token={host_token}",
        headers=PUBLIC,
    )
    assert accepted.status_code == 200, accepted.text

    async def agenda_sent() -> Any:
        sent = mailbox.sent("agenda", "alpha@example.org")
        assert len(sent) == 1
        return sent[0]

    email = await eventually(agenda_sent, within=60)
    code = check_in_code(settings.link_secret(), alpha)
    link = check_in_url(settings, ours, alpha)
    assert link == f"{settings.base_url}/console/missions/{ours}/check-in?code={code}"
    (image,) = [p for p in email.walk() if p.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<check-in-qr@missionflow>"
    assert image.get_content_disposition() == "inline"
    assert image.get_content() == qr_png(link)
    assert image.get_content() == _png(link)
    assert email.get_body(("related",)) is not None  # the image beside the HTML that shows it
    html = email.get_body(("html",)).get_content()
    assert 'src="cid:check-in-qr@missionflow"' in html and code in html
    page_link = f"{settings.base_url}{mission}/participants/{alpha}/agenda?token={token}"
    assert f"Your agenda page shows the QR code too: {page_link}" in html
    assert f"Your check-in code: {code}" in email.get_body(("plain",)).get_content()
    (attached,) = [p for p in email.walk() if p.get_content_type() == "text/calendar"]
    mailed = Calendar.from_ical(attached.get_content())
    (meeting,) = mailed.walk("VEVENT")
    assert str(meeting["DESCRIPTION"]).endswith(calendar_line(settings, ours, alpha))
    assert link in str(meeting["DESCRIPTION"])
    ics = await api.get(f"{mission}/participants/{alpha}/agenda.ics?token={token}", headers=PUBLIC)
    (downloaded,) = Calendar.from_ical(ics.content).walk("VEVENT")
    assert calendar_line(settings, ours, alpha) in str(downloaded["DESCRIPTION"])

    page = await api.get(f"{mission}/participants/{alpha}/agenda?token={token}", headers=PUBLIC)
    assert page.status_code == 200, page.text
    title = f"Your check-in code: {code}"
    drawn = segno.make(link, error="m").svg_inline(scale=4, title=title)
    assert drawn in page.text
    assert "Boston Nanofab" in page.text and "agenda.ics?token=" in page.text
    french = await api.get(
        f"{mission}/participants/{alpha}/agenda?token={token}&lang=fr", headers=PUBLIC
    )
    assert f"Votre code d’accueil : {code}" in french.text
    nosy = await api.get(
        f"{mission}/participants/{alpha}/agenda?token={host_token}", headers=PUBLIC
    )
    assert nosy.status_code == 404

    # The link works: what it holds checks the delegate in.
    checked = await api.post(f"{mission}/check-ins", json={"code": link})
    assert checked.status_code == 201, checked.text
    assert (checked.json()["name"], checked.json()["side"]) == ("Alpha Cluster", "delegate")


def _png(link: str) -> bytes:
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=5)
    return out.getvalue()
