"""Where a participant meets: in person (at any table, or a host's fixed table) or by video.

Hosts say so in their CSV (`table`, `remote`); a coordinator marks a delegate remote, or a host
later, with `RemoteInput` (the mission workflow's `set_remote` Update). A remote participant's
meetings take no table and carry the link made from the mission file's `video_link`.
"""

from __future__ import annotations

import uuid

from pydantic import AwareDatetime, BaseModel

from missionflow.domain.mission.event_sections import Matchmaking


class RemoteInput(BaseModel):
    participant_id: uuid.UUID
    remote: bool


class RemoteRecord(BaseModel):
    """The input of the activity that writes it."""

    mission_id: str
    at: AwareDatetime
    change: RemoteInput


class RemoteReceipt(BaseModel):
    participant_id: uuid.UUID
    remote: bool
    changed: bool


def remote_refusal(event: Matchmaking, *, remote: bool, table: str | None) -> str | None:
    """Why a participant cannot meet by video: the event has no link, or a host keeps a table."""
    if not remote:
        return None
    if event.video_link is None:
        return "Remote meetings need a video link: set matchmaking.video_link first."
    if table is not None:
        return f"This host meets at table {table}; load it again without a table first."
    return None
