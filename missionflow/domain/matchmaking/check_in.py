"""Check-in on the day of the matchmaking event: each participant's code, the code read back
from whatever the desk typed, scanned or pasted, and when the desk is open.

The code is an HMAC of the participant's id under the link secret, like their private links,
but signed for check-in only: the QR code on an agenda opens nobody's page, and a code cannot
be guessed from an id. Ten base32 letters and digits (50 bits) are short enough to type from a
phone's screen and unambiguous whatever case a USB scanner's keyboard layout types them in.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from pydantic import AwareDatetime, BaseModel, Field

from missionflow.domain.instants import describe
from missionflow.domain.mission.event_sections import Matchmaking

CODE_LETTERS = 10
DESK_OPENS_BEFORE = timedelta(hours=2)
"""People arrive before the first meeting: the desk opens two hours ahead of the first session."""
_BASE32 = re.compile(f"[A-Z2-7]{{{CODE_LETTERS}}}")


def check_in_code(secret: str, participant_id: uuid.UUID) -> str:
    """`ABCDE-FGHIJ`: the participant's check-in code."""
    digest = hmac.new(secret.encode(), b"check-in:" + participant_id.bytes, hashlib.sha256)
    letters = base64.b32encode(digest.digest()).decode()[:CODE_LETTERS]
    return f"{letters[:5]}-{letters[5:]}"


def read_code(text: str) -> str | None:
    """The code in what the desk sent: the code itself, in any case, with or without its dash
    or spaces, or the check-in link that carries it (`...?code=ABCDE-FGHIJ`); None if it holds
    no code.

    >>> read_code(" abcde fghij ")
    'ABCDE-FGHIJ'
    >>> read_code("https://x.example/console/missions/m/check-in?code=ABCDE-FGHIJ")
    'ABCDE-FGHIJ'
    >>> read_code("ABCDE-FGHI") is None
    True
    """
    text = text.strip()
    if "code=" in text:
        codes = parse_qs(urlsplit(text).query).get("code") or [""]
        text = codes[0]
    letters = "".join(c for c in text.upper() if c not in " -")
    if not _BASE32.fullmatch(letters):
        return None
    return f"{letters[:5]}-{letters[5:]}"


def desk_opens(event: Matchmaking) -> datetime:
    return event.sessions[0].start - DESK_OPENS_BEFORE


def check_in_refusal(event: Matchmaking, now: datetime) -> str | None:
    """Why nobody can be checked in now: arrivals are taken on the event's day, from two hours
    before its first session until its last one ends."""
    if now < desk_opens(event):
        return (
            f"Check-in opens on {describe(desk_opens(event), event.timezone)}, two hours "
            "before the first session."
        )
    if now >= event.ends_at:
        return f"The matchmaking event ended on {describe(event.ends_at, event.timezone)}."
    return None


class CheckInInput(BaseModel):
    """A participant the desk found by their code, and the coordinator at the desk."""

    participant_id: uuid.UUID
    by: str = Field(max_length=200)


class CheckInRecord(BaseModel):
    mission_id: str
    at: AwareDatetime
    check_in: CheckInInput


class CheckInReceipt(BaseModel):
    participant_id: uuid.UUID
    name: str
    side: str
    checked_in_at: AwareDatetime
    already: bool = Field(description="Checked in before: `checked_in_at` is that first time.")
