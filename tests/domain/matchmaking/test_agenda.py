"""Personal agendas: calendar files read back with icalendar, rows for emails, what changed.

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
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar, Event, Timezone

from missionflow.domain.matchmaking.agenda import (
    PRODID,
    Agenda,
    AgendaItem,
    agenda_rows,
    changed_items,
    ics,
    item_rows,
    vtimezone,
)

DOMAIN = "missions.example.org"
ORGANISER = "matchmaking@example.org"
STAMP = datetime(2017, 5, 8, 12, 0, tzinfo=UTC)
VENUE = "Gaylord National Resort & Convention Center, National Harbor (Washington DC)"
EVENT = "U.S.–EU Cluster Matchmaking at TechConnect World Innovation Conference"
IDS = [
    "5b0e8a0e-3f4c-4d8e-9a43-0a7c1f0e2b11",
    "8f14e45f-ceea-467f-a0e6-1b1a6a3c9d22",
    "c9f0f895-fb98-4b91-9d3a-0b9c2f6e4a33",
    "45c48cce-2e2d-4fbd-8b1e-6f0f4a9e7d44",
]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def item(
    n: int,
    start: datetime,
    *,
    table: int = 4,
    minutes: int = 20,
    name: str | None = None,
    line: str = "Advanced materials: coatings and composites for aerospace",
) -> AgendaItem:
    return AgendaItem(
        meeting_id=IDS[n],
        start=start,
        end=start + timedelta(minutes=minutes),
        table=table,
        with_name=name or f"Host company {n}",
        with_country="US",
        with_line=line,
    )


def agenda(*items: AgendaItem, zone: str = "America/New_York") -> Agenda:
    return Agenda(
        participant_id="7",
        participant_name="Bavarian Nano Cluster",
        event=EVENT,
        venue=VENUE,
        timezone=zone,
        items=items,
    )


# 15 May 2017 in National Harbor: 09:00 EDT is 13:00 UTC.
CONSORTIUM = item(0, utc(2017, 5, 15, 13, 0), table=4, name="Massachusetts Materials Consortium")
NANOWORKS = item(1, utc(2017, 5, 15, 13, 20), table=12, name="Philadelphia NanoWorks")
ALLIANCE = item(2, utc(2017, 5, 15, 18, 0), table=7, name="Capital Region Biotech Alliance")
FIRST = agenda(NANOWORKS, ALLIANCE, CONSORTIUM)  # given out of order on purpose


def make(the_agenda: Agenda, **options: object) -> bytes:
    arguments: dict[str, object] = {
        "sequence": 0,
        "organiser_email": ORGANISER,
        "domain": DOMAIN,
        "stamp": STAMP,
        **options,
    }
    return ics(the_agenda, **arguments)  # type: ignore[arg-type]


def events(data: bytes) -> dict[str, Event]:
    calendar = Calendar.from_ical(data)
    found = calendar.walk("VEVENT")
    by_uid = {str(event["UID"]): event for event in found}
    assert len(by_uid) == len(found), "two events share a UID"
    return by_uid


def uid(n: int) -> str:
    return f"{IDS[n]}@{DOMAIN}"


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


# The calendar file


def test_one_event_per_meeting_saying_whom_where_and_what() -> None:
    data = make(FIRST)
    calendar = Calendar.from_ical(data)
    found = events(data)

    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"]) == PRODID
    assert str(calendar["METHOD"]) == "PUBLISH"
    assert set(found) == {uid(0), uid(1), uid(2)}
    nanoworks = found[uid(1)]
    assert str(nanoworks["SUMMARY"]) == "Meeting with Philadelphia NanoWorks (table 12)"
    assert str(nanoworks["LOCATION"]) == f"{VENUE}, table 12"
    assert "Advanced materials: coatings and composites for aerospace" in nanoworks["DESCRIPTION"]
    assert "Philadelphia NanoWorks (United States of America)" in nanoworks["DESCRIPTION"]
    assert str(nanoworks["ORGANIZER"]) == f"mailto:{ORGANISER}"
    assert nanoworks["DTSTAMP"].dt == STAMP
    assert {str(event["STATUS"]) for event in found.values()} == {"CONFIRMED"}
    assert nanoworks.end - nanoworks.start == timedelta(minutes=20)


def test_uids_stay_the_same_and_the_sequence_is_the_one_given() -> None:
    moved = agenda(CONSORTIUM, item(1, utc(2017, 5, 15, 18, 40), table=9, name="NanoWorks"))
    first, again, changed = make(FIRST), make(FIRST, sequence=3), make(moved, sequence=4)

    assert first == make(FIRST)  # the same agenda gives the same file
    assert set(events(first)) == set(events(again)) == {uid(0), uid(1), uid(2)}
    assert set(events(changed)) == {uid(0), uid(1)}
    assert {int(e["SEQUENCE"]) for e in events(first).values()} == {0}
    assert {int(e["SEQUENCE"]) for e in events(again).values()} == {3}
    assert {int(e["SEQUENCE"]) for e in events(changed).values()} == {4}
    assert events(changed)[uid(1)].start.astimezone(UTC) == utc(2017, 5, 15, 18, 40)


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


def test_cancelled_meetings_are_sent_as_cancelled_events_with_the_same_uid() -> None:
    after = agenda(CONSORTIUM, NANOWORKS)
    data = make(after, sequence=2, cancelled=[ALLIANCE])
    found = events(data)

    assert set(found) == {uid(0), uid(1), uid(2)}
    cancelled = found[uid(2)]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 2
    assert cancelled.start.astimezone(UTC) == ALLIANCE.start
    assert str(cancelled["SUMMARY"]).startswith("Cancelled: Meeting with Capital Region")
    assert {str(found[uid(n)]["STATUS"]) for n in (0, 1)} == {"CONFIRMED"}
    assert b"STATUS:CANCELLED" not in make(after, sequence=2)
    only_cancelled = events(make(agenda(), sequence=3, cancelled=[ALLIANCE]))
    assert [str(e["STATUS"]) for e in only_cancelled.values()] == ["CANCELLED"]


def test_lines_are_folded_and_end_in_crlf_and_text_comes_back_intact() -> None:
    line = "Nanocoatings, optics; metrology \\ testing\nsecond line – " + "é" * 80
    name = 'Acme; Optics, "Labs" \\ Co'
    data = make(agenda(item(0, utc(2017, 5, 15, 13, 0), name=name, line=line)))

    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    assert max(len(physical) for physical in data.split(b"\r\n")) <= 75
    assert b"\r\n " in data  # at least one folded line
    event = events(data)[uid(0)]
    assert str(event["SUMMARY"]) == f"Meeting with {name} (table 4)"
    assert line in str(event["DESCRIPTION"])


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="offset"):
        item(0, datetime(2017, 5, 15, 9, 0))
    with pytest.raises(ValueError, match="ends before it starts"):
        item(0, utc(2017, 5, 15, 13, 0), minutes=0)
    with pytest.raises(ValueError, match="table"):
        item(0, utc(2017, 5, 15, 13, 0), table=0)
    with pytest.raises(ValueError, match="time zone"):
        agenda(CONSORTIUM, zone="America/Nowhere")
    with pytest.raises(ValueError, match="twice"):
        agenda(CONSORTIUM, CONSORTIUM)
    with pytest.raises(ValueError, match="no meeting"):
        make(agenda())
    with pytest.raises(ValueError, match="twice"):
        make(FIRST, cancelled=[NANOWORKS])
    with pytest.raises(ValueError, match="negative"):
        make(FIRST, sequence=-1)
    with pytest.raises(ValueError, match="domain"):
        make(FIRST, domain="example.org\r\nX")
    with pytest.raises(ValueError, match="email address"):
        make(FIRST, organiser_email="matchmaking")


def test_items_are_kept_in_utc_and_in_order() -> None:
    eastern = datetime(2017, 5, 15, 9, 20, tzinfo=ZoneInfo("America/New_York"))
    late, early = item(1, eastern), item(0, utc(2017, 5, 15, 13, 0))

    assert late.start == utc(2017, 5, 15, 13, 20) and late.start.tzinfo is UTC
    assert agenda(late, early).items == (early, late)
    assert FIRST.items == (CONSORTIUM, NANOWORKS, ALLIANCE)


# What changed


def test_changed_items_finds_added_removed_and_moved_exactly() -> None:
    joined = item(3, utc(2017, 5, 15, 19, 0), table=2, name="Chesapeake Photonics Lab")
    later = item(1, utc(2017, 5, 15, 18, 40), table=12, name="Philadelphia NanoWorks")
    other_table = item(0, CONSORTIUM.start, table=5, name=CONSORTIUM.with_name)
    after = agenda(other_table, later, joined)

    added, removed, moved = changed_items(FIRST, after)

    assert added == [joined]
    assert removed == [ALLIANCE]
    assert moved == [other_table, later]  # as they are now, in order
    assert changed_items(FIRST, agenda(CONSORTIUM, NANOWORKS, ALLIANCE)) == ([], [], [])
    assert changed_items(after, FIRST) == ([ALLIANCE], [joined], [CONSORTIUM, NANOWORKS])
    renamed = agenda(CONSORTIUM, NANOWORKS, item(2, ALLIANCE.start, table=7, name="Renamed"))
    assert changed_items(FIRST, renamed) == ([], [], [])
    longer = item(2, ALLIANCE.start, table=7, minutes=30, name=ALLIANCE.with_name)
    assert changed_items(FIRST, agenda(CONSORTIUM, NANOWORKS, longer)) == ([], [], [longer])
    someone_else = Agenda("8", "Pôle Médicen", EVENT, VENUE, "America/New_York", ())
    with pytest.raises(ValueError, match="cannot be compared"):
        changed_items(FIRST, someone_else)


# Rows for the emails


def test_agenda_rows_say_the_time_in_the_venues_zone_with_its_abbreviation() -> None:
    rows = agenda_rows(FIRST)

    assert rows[0] == {
        "time": "15 May 2017 09:00–09:20 EDT",
        "table": "4",
        "with_name": "Massachusetts Materials Consortium",
        "with_country": "United States of America",
        "with_line": "Advanced materials: coatings and composites for aerospace",
    }
    assert [row["time"] for row in rows] == [
        "15 May 2017 09:00–09:20 EDT",
        "15 May 2017 09:20–09:40 EDT",
        "15 May 2017 14:00–14:20 EDT",
    ]
    assert [row["table"] for row in rows] == ["4", "12", "7"]
    winter = agenda(item(0, utc(2017, 1, 10, 14, 0)))
    assert agenda_rows(winter)[0]["time"] == "10 Jan 2017 09:00–09:20 EST"
    tokyo = agenda(item(0, utc(2016, 10, 18, 0, 30)), zone="Asia/Tokyo")
    assert agenda_rows(tokyo)[0]["time"] == "18 Oct 2016 09:30–09:50 JST"
    past_midnight = agenda(item(0, utc(2017, 5, 16, 3, 50)))
    assert agenda_rows(past_midnight)[0]["time"] == "15 May 2017 23:50 EDT – 16 May 2017 00:10 EDT"
    assert item_rows([ALLIANCE], "America/New_York") == [agenda_rows(FIRST)[2]]
    assert agenda_rows(agenda()) == []
