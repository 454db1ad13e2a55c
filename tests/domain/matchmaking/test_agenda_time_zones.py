"""Agendas in time zones: meetings at the right instant in the venue's zone, and a VTIMEZONE
exact over the event, whatever the zone and its changes of summer time.

The VTIMEZONE of a file is checked the way RFC 5545 3.6.5 reads it (an observance starts at its
DTSTART read with its TZOFFSETFROM), by `offset_at` below, not by icalendar's own reading: that
way a time zone written an hour off at a transition is caught.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from agenda_support import (
    ALLIANCE,
    CONSORTIUM,
    DOMAIN,
    FIRST,
    NANOWORKS,
    agenda,
    events,
    item,
    make,
    uid,
    utc,
)
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar, Timezone

from missionflow.domain.matchmaking.agenda import vtimezone


def offset_at(zone: Timezone, instant: datetime) -> timedelta:
    """The UTC offset a VTIMEZONE gives an instant, read as RFC 5545 3.6.5 says."""
    return reader(zone)(instant)


def reader(zone: Timezone) -> Callable[[datetime], timedelta]:
    """`offset_at` for many instants of one VTIMEZONE."""
    onsets = []
    for observance in zone.subcomponents:
        assert "RRULE" not in observance and "RDATE" not in observance  # read DTSTART only
        start = observance["DTSTART"].dt.replace(tzinfo=UTC) - observance["TZOFFSETFROM"].td
        onsets.append((start, observance["TZOFFSETTO"].td))
    onsets.sort()
    starts = [start for start, _ in onsets]

    def offset(instant: datetime) -> timedelta:
        started = bisect_right(starts, instant)
        assert started, f"{instant} is before the time zone's first observance"
        return onsets[started - 1][1]

    return offset


def test_meetings_start_in_the_venues_zone_at_the_right_instant() -> None:
    data = make(FIRST)
    found = events(data)
    [zone] = Calendar.from_ical(data).walk("VTIMEZONE")

    assert b"DTSTART;TZID=America/New_York:20170515T090000\r\n" in data
    assert b"DTEND;TZID=America/New_York:20170515T092000\r\n" in data
    consortium = found[uid(0)]
    assert consortium["DTSTART"].params["TZID"] == "America/New_York"
    assert consortium["DTEND"].params["TZID"] == "America/New_York"
    assert consortium.start.replace(tzinfo=None) == datetime(2017, 5, 15, 9, 0)
    assert consortium.start.astimezone(UTC) == utc(2017, 5, 15, 13, 0)
    # The file's own VTIMEZONE says the same: 09:00 on the wall is 13:00 UTC, EDT.
    assert str(zone["TZID"]) == "America/New_York"
    assert offset_at(zone, utc(2017, 5, 15, 13, 0)) == timedelta(hours=-4)
    for meeting in (CONSORTIUM, NANOWORKS, ALLIANCE):
        event = found[f"{meeting.meeting_id}@{DOMAIN}"]
        for wall, instant in ((event.start, meeting.start), (event.end, meeting.end)):
            assert wall.replace(tzinfo=None) - instant.replace(tzinfo=None) == offset_at(
                zone, instant
            )


def test_the_calendar_carries_a_vtimezone_for_the_venue_exact_over_the_event() -> None:
    calendar = Calendar.from_ical(make(FIRST))
    [zone] = calendar.timezones
    new_york = ZoneInfo("America/New_York")

    assert calendar.get_missing_tzids() == set()
    assert calendar.subcomponents[0] is zone  # before the events that use it
    observances = [(o.name, o["DTSTART"].dt, o["TZNAME"]) for o in zone.subcomponents]
    assert observances == [
        ("STANDARD", datetime(2017, 1, 1), "EST"),
        ("DAYLIGHT", datetime(2017, 3, 12, 2, 0), "EDT"),  # as RFC 5545's own example
        ("STANDARD", datetime(2017, 11, 5, 2, 0), "EST"),
    ]
    offset, instant = reader(zone), utc(2017, 1, 1, 5, 0)
    while instant < utc(2018, 1, 1, 5, 0):
        assert offset(instant) == instant.astimezone(new_york).utcoffset(), instant
        instant += timedelta(minutes=30)


@pytest.mark.parametrize(
    ("zone", "before", "after", "wall"),
    [
        # Brussels leaves summer time on 29 Oct 2017: 09:00 is 07:00 UTC before, 08:00 after.
        ("Europe/Brussels", utc(2017, 10, 28, 7, 0), utc(2017, 10, 30, 8, 0), (9, 0)),
        # Sydney leaves it on 2 Apr 2017: 10:00 is 23:00 UTC the day before, then 00:00.
        ("Australia/Sydney", utc(2017, 3, 31, 23, 0), utc(2017, 4, 3, 0, 0), (10, 0)),
    ],
)
def test_an_event_across_a_change_of_summer_time_keeps_its_wall_times(
    zone: str, before: datetime, after: datetime, wall: tuple[int, int]
) -> None:
    data = make(agenda(item(0, before, table=1), item(1, after, table=2), zone=zone))
    calendar = Calendar.from_ical(data)
    found = events(data)
    [vtz] = calendar.timezones

    assert str(vtz["TZID"]) == zone
    assert {o.name for o in vtz.subcomponents} == {"STANDARD", "DAYLIGHT"}
    for n, instant in ((0, before), (1, after)):
        event = found[uid(n)]
        assert event["DTSTART"].params["TZID"] == zone
        assert (event.start.hour, event.start.minute) == wall
        assert event.start.astimezone(UTC) == instant
        local_wall = event.start.replace(tzinfo=None)
        assert local_wall - instant.replace(tzinfo=None) == offset_at(vtz, instant)
    assert offset_at(vtz, before) - offset_at(vtz, after) == timedelta(hours=1)


def test_vtimezones_of_other_zones_agree_with_zoneinfo_through_their_years() -> None:
    for name in ("Australia/Lord_Howe", "America/Santiago", "Asia/Tokyo", "Europe/London"):
        zone, tz = vtimezone(name, first=date(2016, 6, 1), last=date(2017, 6, 1)), ZoneInfo(name)
        offset, instant = reader(zone), datetime(2016, 1, 1, tzinfo=tz).astimezone(UTC)
        while instant < datetime(2018, 1, 1, tzinfo=tz).astimezone(UTC):
            assert offset(instant) == instant.astimezone(tz).utcoffset(), (name, instant)
            instant += timedelta(minutes=30)


Change = tuple[datetime, timedelta, timedelta, str, str]
"""A VTIMEZONE's change of time, as RFC 5545 reads it: (the UTC instant, the offset from, the
offset to, the name, STANDARD or DAYLIGHT)."""


def changes(component: Timezone, *, written_after_a_jump: bool = False) -> set[Change]:
    """Every change a VTIMEZONE lists (DTSTART and RDATEs). `written_after_a_jump`: the file
    writes a forward jump's DTSTART as the wall time after it, as `Timezone.from_tzinfo` does;
    it is read back by the jump, so that both files are compared on the instant they mean."""
    found: set[Change] = set()
    for observance in component.subcomponents:
        offset_from, offset_to = observance.TZOFFSETFROM, observance.TZOFFSETTO
        rdates = observance.get("RDATE", [])
        rdates = rdates if isinstance(rdates, list) else [rdates]
        walls = [observance.DTSTART, *(rdate.dt for value in rdates for rdate in value.dts)]
        jump = max(offset_to - offset_from, timedelta()) if written_after_a_jump else timedelta()
        for wall in walls:
            instant = wall.replace(tzinfo=None) - jump - offset_from
            found.add((instant, offset_from, offset_to, str(observance["TZNAME"]), observance.name))
    return found


@given(
    name=st.sampled_from(sorted(available_timezones())),
    year=st.integers(min_value=1970, max_value=2036),
    years=st.integers(min_value=0, max_value=1),
)
def test_vtimezone_lists_every_change_icalendars_own_lists(
    name: str, year: int, years: int
) -> None:
    """`vtimezone` against icalendar's `Timezone.from_tzinfo` over the same whole years: after
    the first instant (where each starts the zone its own way), every change the library lists
    is ours, at the same instant, its forward jumps read back by the jump (the one thing it
    writes differently); a change only ours lists (a name or summer time changing alone, which
    the library does not look for, or one it misses) is zoneinfo's."""
    tz = ZoneInfo(name)
    begin = datetime(year, 1, 1, tzinfo=tz).astimezone(UTC).replace(tzinfo=None)
    component = vtimezone(name, first=date(year, 6, 1), last=date(year + years, 6, 1))
    library = Timezone.from_tzinfo(
        tz, tzid=name, first_date=date(year, 1, 1), last_date=date(year + years + 1, 1, 1)
    )
    ours = {change for change in changes(component) if change[0] > begin}
    theirs = {change for change in changes(library, written_after_a_jump=True) if change[0] > begin}

    assert theirs <= ours
    for instant, offset_from, offset_to, zone_name, _ in ours - theirs:
        at = instant.replace(tzinfo=UTC).astimezone(tz)
        before = (instant - timedelta(seconds=1)).replace(tzinfo=UTC).astimezone(tz)
        assert (before.utcoffset(), at.utcoffset(), at.tzname()) == (
            offset_from,
            offset_to,
            zone_name,
        )
