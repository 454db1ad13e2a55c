"""Moving a mission file by whole years: last year's mission as this year's, a past one today."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime

from missionflow.domain.instants import local
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.mission.written_instants import instant_slots


def years_later(mission: MissionFile, years: int) -> MissionFile:
    """The same mission `years` later: every instant keeps its wall time in its own zone.

    This is how last year's mission file becomes this year's, and how the 2017 reference mission
    is replayed today; a 29 February becomes the 28th.
    """
    data = mission.model_dump(mode="json")
    for section, key, zone in instant_slots(data):
        if section[key] is None:
            continue
        instant = datetime.fromisoformat(section[key])
        section[key] = years_later_instant(instant, zone or "UTC", years).isoformat()
    return load_mission(data)


def years_ahead(now: datetime, reference: datetime) -> int:
    """How many years to move a mission whose first instant is `reference` so it starts after
    `now`, into a year with the same calendar (weekdays, leap day, so the same DST dates): the
    2017 mission is replayed in 2034, where Europe again changes clocks on 26 March and the US
    on 12 March, so its DST cases stay the 2017 ones."""
    years = max(1, now.year - reference.year)
    while not (
        _same_calendar(reference.year, reference.year + years)
        and reference.replace(year=reference.year + years) > now
    ):
        years += 1
    return years


def _same_calendar(year: int, other: int) -> bool:
    return date(year, 1, 1).weekday() == date(other, 1, 1).weekday() and calendar.isleap(
        year
    ) == calendar.isleap(other)


def replay_today(mission: MissionFile, now: datetime) -> tuple[MissionFile, int]:
    """Move a past mission by the fewest whole years that put its deadline after `now`."""
    years = 0
    while years_later_instant(mission.call.deadline, mission.timezone, years) <= now:
        years += 1
    return (years_later(mission, years) if years else mission), years


def years_later_instant(instant: datetime, zone: str, years: int) -> datetime:
    wall = local(instant, zone)
    day = min(wall.day, calendar.monthrange(wall.year + years, wall.month)[1])
    return wall.replace(year=wall.year + years, day=day).astimezone(UTC)
