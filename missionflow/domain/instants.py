"""Reading and showing instants in the zone they belong to.

Every instant is stored in UTC; a mission file writes it in local wall time ("2017-03-22T24:00" in
the call's zone, "2017-05-17T09:00" in Philadelphia's) or relative to the moment the mission is
started ("+PT2M", for rehearsals). "By midnight on 22 March" is written 24:00, as coordinators say
it, and shown back the same way.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from missionflow.domain.durations import IsoDuration

_END_OF_DAY = re.compile(r"T24:00(?::00(?:\.0+)?)?(?=$|[Zz+-])")
_TIME_OF_DAY = re.compile(r"\d[Tt ]\d{2}:\d{2}")


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_zone(name: str) -> str:
    """Return the IANA zone name unchanged, or raise ValueError naming the problem."""
    if not isinstance(name, str) or name not in _known_zones():
        raise ValueError(
            f"unknown time zone {name!r}: use an IANA name such as Europe/Brussels or "
            "America/New_York"
        )
    return name


def is_zone(name: object) -> bool:
    return isinstance(name, str) and name in _known_zones()


def parse_instant(text: str, zone: str | None, *, now: datetime | None = None) -> datetime:
    """Read an instant written in a mission file and return it in UTC.

    Args:
        text: ISO 8601 with or without an offset (`24:00` allowed), or `+<duration>` relative to
            `now`.
        zone: the zone a wall time without an offset is read in; None when it is unknown.
        now: the moment the mission is started, for relative instants.
    """
    text = text.strip()
    if text.startswith("+"):
        if now is None:
            raise ValueError(f"{text!r} is relative to the start of the mission, which is unknown")
        return IsoDuration.parse(text[1:]).shift(now, zone or "UTC")
    extra_day = _END_OF_DAY.search(text) is not None
    candidate = _END_OF_DAY.sub("T00:00", text) if extra_day else text
    try:
        value = datetime.fromisoformat(candidate)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO 8601 instant such as 2017-03-22T24:00, "
            "2017-03-22T23:00Z or +PT2M"
        ) from None
    if not _TIME_OF_DAY.search(candidate):
        raise ValueError(f"{text!r} has no time of day: write e.g. {text}T24:00 or {text}T09:00")
    if value.tzinfo is None:
        if zone is None:
            raise ValueError(f"{text!r} has no offset and its time zone is not valid")
        value = _wall_time_in(value, zone)
    if extra_day:
        value = value + timedelta(days=1)
    return value.astimezone(UTC)


def _wall_time_in(wall: datetime, zone: str) -> datetime:
    tz = ZoneInfo(zone)
    local = wall.replace(tzinfo=tz)
    if local.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != wall:
        raise ValueError(
            f"{wall.isoformat(timespec='minutes')} does not exist in {zone} "
            "(the clocks jump forward then)"
        )
    return local


def to_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("an instant needs an offset or a time zone")
    return value.astimezone(UTC)


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


def describe(
    instant: datetime,
    zone: str,
    *,
    end_of_day: bool = False,
    day: Callable[[datetime, bool], str] | None = None,
) -> str:
    """Say an instant the way a coordinator reads it: `22 Mar 2017 24:00 CET (23:00 UTC)`.

    With `end_of_day`, a local midnight is shown as 24:00 of the day before, as deadlines are
    announced. `day(value, with_year)` writes a day (`22 Mar 2017`, or `23 Mar` for the UTC day
    beside when it differs); another language passes its own.
    """
    day = day or _day
    wall = local(instant, zone)
    abbreviation = wall.tzname() or zone
    shown_date, clock = wall, wall.strftime("%H:%M")
    if end_of_day and (wall.hour, wall.minute, wall.second) == (0, 0, 0):
        shown_date, clock = wall - timedelta(days=1), "24:00"
    text = f"{day(shown_date, True)} {clock} {abbreviation}"
    if zone == "UTC" or abbreviation == "UTC":
        return text
    utc = instant.astimezone(UTC)
    utc_day = f"{day(utc, False)} " if utc.date() != shown_date.date() else ""
    return f"{text} ({utc_day}{utc.strftime('%H:%M')} UTC)"


def _day(value: datetime, year: bool) -> str:
    text = f"{value.day} {value.strftime('%b')}"
    return f"{text} {value.year}" if year else text
