"""ISO 8601 durations with calendar semantics.

A mission file says "remind P1D before the deadline" or "follow up P3M after the report". A day or a
month there is a calendar unit in the zone the instant belongs to (one day before 22 March 24:00
CET is 21 March 24:00 CET, even across a DST change), while hours, minutes and seconds are exact
elapsed time. `datetime.timedelta` cannot express months and treats days as 24 hours, so durations
are kept as their parts and applied with `shift`.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

_PATTERN = re.compile(
    r"^P(?!$)(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+)S)?)?$"
)


# Kept beside isodate and pydantic (both measured): each reads PT24H and P1D as the same
# timedelta(days=1), pydantic reads P1M as 30 days, and both take P1.5D and -P1D.
@dataclass(frozen=True, slots=True)
class IsoDuration:
    """A non-negative ISO 8601 duration: calendar part (months, days) and exact part (seconds)."""

    months: int = 0
    days: int = 0
    seconds: int = 0

    @classmethod
    def parse(cls, text: str) -> IsoDuration:
        match = _PATTERN.match(text.strip().upper()) if isinstance(text, str) else None
        if match is None:
            raise ValueError(
                f"{text!r} is not an ISO 8601 duration such as P7D, PT12H, P3M or PT30S"
            )
        part = {name: int(value or 0) for name, value in match.groupdict().items()}
        return cls(
            months=part["years"] * 12 + part["months"],
            days=part["weeks"] * 7 + part["days"],
            seconds=part["hours"] * 3600 + part["minutes"] * 60 + part["seconds"],
        )

    def __str__(self) -> str:
        if not (self.months or self.days or self.seconds):
            return "PT0S"
        years, months = divmod(self.months, 12)
        hours, rest = divmod(self.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        date = "".join(f"{n}{u}" for n, u in ((years, "Y"), (months, "M"), (self.days, "D")) if n)
        time = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (seconds, "S")) if n)
        return "P" + date + (f"T{time}" if time else "")

    def in_words(self) -> str:
        """`7 days`, `1 day`, `12 hours`, `3 months`: how a reminder says the time left."""
        years, months = divmod(self.months, 12)
        hours, rest = divmod(self.seconds, 3600)
        minutes, seconds = divmod(rest, 60)
        parts = [
            f"{n} {unit}{'s' if n != 1 else ''}"
            for n, unit in (
                (years, "year"),
                (months, "month"),
                (self.days, "day"),
                (hours, "hour"),
                (minutes, "minute"),
                (seconds, "second"),
            )
            if n
        ]
        return " and ".join(parts) if parts else "no time"

    @property
    def is_zero(self) -> bool:
        return not (self.months or self.days or self.seconds)

    def shift(self, instant: datetime, zone: str, *, sign: int = 1) -> datetime:
        """Move `instant` forward (sign=1) or back (sign=-1).

        Months and days move the wall clock in `zone`; hours, minutes and seconds are elapsed
        time, so PT24H across a DST change is 24 real hours while P1D is one calendar day.
        """
        result = instant.astimezone(UTC)
        if self.months or self.days:
            tz = ZoneInfo(zone)
            wall = instant.astimezone(tz).replace(tzinfo=None)
            wall = _add_months(wall, sign * self.months) + timedelta(days=sign * self.days)
            result = wall.replace(tzinfo=tz).astimezone(UTC)
        return result + timedelta(seconds=sign * self.seconds)


def _add_months(wall: datetime, months: int) -> datetime:
    index = wall.year * 12 + wall.month - 1 + months
    year, month = divmod(index, 12)
    day = min(wall.day, calendar.monthrange(year, month + 1)[1])
    return wall.replace(year=year, month=month + 1, day=day)


def _coerce(value: Any) -> IsoDuration:
    if isinstance(value, IsoDuration):
        return value
    if isinstance(value, str):
        return IsoDuration.parse(value)
    raise ValueError("expected an ISO 8601 duration string such as P7D or PT30S")


Duration = Annotated[
    IsoDuration,
    BeforeValidator(_coerce),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "format": "duration", "examples": ["P7D", "PT12H", "P3M"]}),
]
"""A pydantic field type: parsed from and written back as the ISO 8601 text."""
