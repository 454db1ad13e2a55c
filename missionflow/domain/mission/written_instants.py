"""Where a mission file writes its instants, and how each becomes UTC in its own zone.

Instants are written in the wall time of the zone they belong to (the organisers' zone for the
call, selection and reporting; the venue's for matchmaking; each city's for its visit), with an
explicit offset, or relative to the start (`+PT2M`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from missionflow.domain.instants import is_zone, parse_instant
from missionflow.domain.mission.fields import Unreadable

# Where the instants of a mission file are, and which zone reads their wall time.
_MISSION_ZONE_INSTANTS = {
    "call": ("opens_at", "deadline"),
    "selection": ("decision_due", "delegation_lock"),
    "reporting": ("report_due",),
}


def instant_slots(data: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, str | None]]:
    """Every (section, key, zone) that holds an instant; zone None when its zone is invalid."""

    def zone_of(section: dict[str, Any]) -> str | None:
        return section.get("timezone") if is_zone(section.get("timezone")) else None

    mission_zone = zone_of(data)
    for name, keys in _MISSION_ZONE_INSTANTS.items():
        if isinstance(section := data.get(name), dict):
            yield from ((section, key, mission_zone) for key in keys if key in section)
    if isinstance(matchmaking := data.get("matchmaking"), dict):
        zone = zone_of(matchmaking)
        for key in ("requests_open_at", "requests_deadline", "preferences_deadline"):
            if key in matchmaking:
                yield matchmaking, key, zone
        sessions = matchmaking.get("sessions")
        for session in sessions if isinstance(sessions, list) else []:
            if isinstance(session, dict):
                yield from ((session, key, zone) for key in ("start", "end") if key in session)
    visits = data.get("visits")
    for visit in visits if isinstance(visits, list) else []:
        if isinstance(visit, dict):
            zone = zone_of(visit)
            yield from ((visit, key, zone) for key in ("starts_at", "ends_at") if key in visit)


def resolve_instants(data: dict[str, Any], now: datetime | None) -> dict[str, Any]:
    """Turn every written instant into UTC, reading wall times in the zone each belongs to.

    A value that cannot be read is left as it is, so that validation reports it at its own field
    with the reason.
    """
    data = copy.deepcopy(data)
    for section, key, zone in instant_slots(data):
        section[key] = _resolved(section[key], zone, now)
    return data


def _resolved(value: Any, zone: str | None, now: datetime | None) -> Any:
    if isinstance(value, str):
        try:
            return parse_instant(value, zone, now=now)
        except ValueError as error:
            return Unreadable(value, str(error))
    if isinstance(value, datetime) and value.tzinfo is None and zone is not None:
        return parse_instant(value.isoformat(), zone, now=now)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Unreadable(
            str(value), "write the instant as text, such as 2017-03-22T24:00 or +PT2M"
        )
    return value
