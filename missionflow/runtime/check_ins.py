"""Arrivals at the matchmaking event (migration 0016): who was checked in, when, and by whom;
the check-in link each participant's agenda carries, and its QR code.

The link leads to the console's check-in page with the participant's code filled in: a
coordinator's phone that scans it opens the page, ready to confirm; a USB scanner at the desk
types the link into the page's field. Anyone else who opens it meets the console's sign-in.
The QR code is drawn by segno, in the process, with no network: SVG for pages, PNG for email.
"""

from __future__ import annotations

import io
import uuid
from datetime import datetime

import segno
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.matchmaking.check_in import check_in_code
from missionflow.runtime.columns import instant
from missionflow.runtime.settings import Settings


class CheckIn(SQLModel, table=True):
    """A participant's arrival, once: a second scan finds this row and says when."""

    __tablename__ = "check_in"

    mission_id: str = Field(foreign_key="mission.id", primary_key=True, max_length=64)
    participant_id: uuid.UUID = Field(primary_key=True)
    side: str = Field(max_length=10, description="delegate or host")
    checked_in_at: datetime = instant()
    checked_in_by: str = Field(max_length=200, description="The coordinator at the desk.")


def check_in_url(settings: Settings, mission_id: str, participant_id: uuid.UUID) -> str:
    code = check_in_code(settings.link_secret(), participant_id)
    return f"{settings.base_url}/console/missions/{mission_id}/check-in?code={code}"


def calendar_line(settings: Settings, mission_id: str, participant_id: uuid.UUID) -> str:
    """What a calendar file's meetings say about check-in (calendars show no image)."""
    code = check_in_code(settings.link_secret(), participant_id)
    url = check_in_url(settings, mission_id, participant_id)
    return f"Check-in code: {code} (at the desk, show the QR code of your agenda: {url})"


def qr_svg(url: str, *, title: str) -> str:
    """An inline <svg> of the link's QR code (medium error correction: it survives a scratched
    phone screen), sized for a desk scanner at arm's length."""
    return segno.make(url, error="m").svg_inline(scale=4, title=title)


def qr_png(url: str) -> bytes:
    """The same QR code as PNG, for email clients that show no SVG."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=5)
    return out.getvalue()


async def arrivals(session: AsyncSession, mission_id: str) -> list[CheckIn]:
    """Everyone checked in, the latest first."""
    return list(
        (
            await session.exec(
                select(CheckIn)
                .where(CheckIn.mission_id == mission_id)
                .order_by(col(CheckIn.checked_in_at).desc())
            )
        ).all()
    )
