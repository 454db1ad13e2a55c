"""Personal agendas of the matchmaking event, as calendar files and as rows for emails.

Pure functions, no I/O: the scheduling decides who meets whom, when and at which table; this
module only says it. Every instant is stored in UTC and shown in the venue's zone, where the
meetings happen.

A calendar file (`ics`) holds one event per meeting, identified by `<meeting_id>@<domain>`. When an
agenda changes, the whole agenda is sent again with a higher `sequence` and the same identifiers,
so a calendar client updates the meetings it already has instead of adding copies; the meetings
taken out of the agenda go along as cancelled events, so the client drops them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vCalAddress

from missionflow.domain.instants import check_zone, local, to_utc
from missionflow.domain.matchmaking.breaks import Timed, sessions
from missionflow.domain.selection.scoring import country_name

PRODID = "-//missionflow//Matchmaking agenda//EN"


@dataclass(frozen=True)
class AgendaItem:
    """One meeting of a participant's agenda, seen from that participant."""

    meeting_id: str
    """Stable id of the meeting (a uuid as text): the same in both participants' agendas and in
    every version of them."""
    start: datetime
    """Aware; kept in UTC."""
    end: datetime
    """Aware; kept in UTC."""
    table: int | None
    """None: a remote meeting, at no table."""
    with_name: str
    """The organisation met."""
    with_country: str
    """Its ISO 3166 alpha-2 code."""
    with_line: str
    """One line about it (sector, an excerpt of its description)."""
    table_name: str | None = None
    """The table's name when the mission file names its tables; None for numbered ones."""
    location: str | None = None
    """Where the named table is (a hall, a floor)."""
    video_link: str | None = None
    """A remote meeting's link."""

    def __post_init__(self) -> None:
        if not self.meeting_id:
            raise ValueError("a meeting needs an id")
        object.__setattr__(self, "start", to_utc(self.start))
        object.__setattr__(self, "end", to_utc(self.end))
        if self.end <= self.start:
            raise ValueError(f"meeting {self.meeting_id} ends before it starts")
        if self.table is not None and self.table < 1:
            raise ValueError(
                f"meeting {self.meeting_id} is at table {self.table}: tables count from 1"
            )


@dataclass(frozen=True)
class Agenda:
    """A participant's meetings at the matchmaking event."""

    participant_id: str
    participant_name: str
    event: str
    """The matchmaking event's name."""
    venue: str
    timezone: str
    """IANA zone of the venue."""
    items: tuple[AgendaItem, ...]
    """Sorted by start (then table); a list is taken and sorted."""

    def __post_init__(self) -> None:
        check_zone(self.timezone)
        items = tuple(sorted(self.items, key=lambda item: (item.start, item.table or 0)))
        object.__setattr__(self, "items", items)
        _refuse_repeated_ids(items, f"the agenda of {self.participant_name}")


def ics(
    agenda: Agenda,
    *,
    sequence: int,
    organiser_email: str,
    domain: str,
    cancelled: Sequence[AgendaItem] = (),
    stamp: datetime | None = None,
    note: str | None = None,
    check_in: str | None = None,
) -> bytes:
    """The agenda as an iCalendar file (RFC 5545, METHOD:PUBLISH), one VEVENT per meeting.

    Args:
        agenda: whose meetings.
        sequence: the version of this agenda sent to the participant (0 the first time); every
            event carries it, so a client replaces what an earlier version said.
        organiser_email: the ORGANIZER of every event: where questions go.
        domain: the right-hand side of every UID (`<meeting_id>@<domain>`).
        cancelled: meetings taken out of the agenda since a version the participant has, sent as
            STATUS:CANCELLED with the time they had; none of them may still be in the agenda.
        stamp: the DTSTAMP of every event; now when left out.
        note: a line about the whole agenda (its breaks, `breaks_text`), as the calendar's
            description (X-WR-CALDESC, which common clients show); none when left out.
        check_in: the participant's check-in code and link, added to every meeting's
            description, for the desk on the day; none when left out.

    Returns:
        The file's bytes: UTF-8, lines folded at 75 octets, ending in CRLF.

    Raises:
        ValueError: nothing to put in the file (no meeting, none cancelled), a cancelled meeting
            that is still in the agenda, a negative sequence, an address or domain that cannot
            be one.
    """
    if sequence < 0:
        raise ValueError(f"sequence {sequence} is negative")
    if not domain or any(c.isspace() or c in "@<>" for c in domain):
        raise ValueError(f"{domain!r} is not a domain")
    if organiser_email.count("@") != 1 or any(c.isspace() for c in organiser_email):
        raise ValueError(f"{organiser_email!r} is not an email address")
    cancelled = tuple(sorted(cancelled, key=lambda item: (item.start, item.table or 0)))
    _refuse_repeated_ids((*agenda.items, *cancelled), "an agenda and its cancelled meetings")
    if not agenda.items and not cancelled:
        raise ValueError(f"the agenda of {agenda.participant_name} has no meeting to put in a file")
    stamp = to_utc(stamp) if stamp is not None else datetime.now(UTC)
    zone = ZoneInfo(agenda.timezone)

    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    if note:
        calendar.add("x-wr-caldesc", note)
    every = (*agenda.items, *cancelled)
    first = min(local(item.start, agenda.timezone).date() for item in every)
    last = max(local(item.end, agenda.timezone).date() for item in every)
    calendar.add_component(vtimezone(agenda.timezone, first=first, last=last))
    statuses = [(item, "CONFIRMED") for item in agenda.items]
    statuses += [(item, "CANCELLED") for item in cancelled]
    for item, status in statuses:
        event = Event()
        event.add("uid", f"{item.meeting_id}@{domain}")
        event.add("dtstamp", stamp)
        event.add("sequence", sequence)
        event.add("dtstart", item.start.astimezone(zone))
        event.add("dtend", item.end.astimezone(zone))
        summary = f"Meeting with {item.with_name} ({_where(item)})"
        event.add("summary", summary if status == "CONFIRMED" else f"Cancelled: {summary}")
        if item.video_link:
            event.add("location", item.video_link)
            event.add("url", item.video_link)
        else:
            event.add("location", ", ".join(filter(None, (agenda.venue, _place_text(item)))))
        event.add(
            "description",
            f"{item.with_name} ({country_name(item.with_country)})\n{item.with_line}\n\n"
            + (f"Video link: {item.video_link}\n\n" if item.video_link else "")
            + f"{agenda.event}"
            + (f"\n\n{check_in}" if check_in else ""),
        )
        event.add("organizer", vCalAddress(f"mailto:{organiser_email}"))
        event.add("status", status)
        event.add("transp", "OPAQUE" if status == "CONFIRMED" else "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


def _where(item: AgendaItem) -> str:
    if item.table is None:
        return "video"
    return item.table_name or f"table {item.table}"


def _place_text(item: AgendaItem) -> str:
    """An in-person meeting's table as a calendar says it: "table 3", "Table A1, Hall B"."""
    return ", ".join(filter(None, (_where(item), item.location)))


# Kept beside icalendar's Timezone.from_tzinfo (0.09 ms against 0.77 ms here): it wrote New York's
# 2017 spring change as DTSTART:20170312T030000, an hour late; it missed Casablanca's 2031-12-14.
def vtimezone(zone: str, *, first: date, last: date) -> Timezone:
    """A VTIMEZONE for an IANA zone, exact from 1 January of `first`'s year to the end of `last`'s.

    Whole years, so that a client sees the zone's standard and summer time even for an event
    held in one of them. Each observance starts at the instant of its transition, written as
    the wall time before it (RFC 5545 3.6.5: DTSTART is read with TZOFFSETFROM): clocks going
    forward at 02:00 give `DTSTART:…T020000`. (icalendar's `Timezone.from_tzinfo` writes the
    wall time after a forward jump, `T030000`, an hour late for the clients that read it as the
    RFC says; hence this.)
    """
    tz = ZoneInfo(check_zone(zone))
    begin = datetime.combine(date(first.year, 1, 1), time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(date(last.year + 1, 1, 1), time(), tzinfo=tz).astimezone(UTC)
    component = Timezone()
    component.add("tzid", zone)
    component.add_component(_observance(begin, tz, None))
    day = timedelta(days=1)
    instant = begin
    while instant < end:
        following = min(instant + day, end)
        if _observed(following, tz) != _observed(instant, tz):
            change = _first_change(instant, following, tz)
            component.add_component(_observance(change, tz, instant.astimezone(tz).utcoffset()))
        instant = following
    return component


def _observed(instant: datetime, tz: ZoneInfo) -> tuple[timedelta | None, str | None, bool]:
    wall = instant.astimezone(tz)
    return wall.utcoffset(), wall.tzname(), bool(wall.dst())


def _first_change(before: datetime, after: datetime, tz: ZoneInfo) -> datetime:
    """The first instant in (before, after] observed differently from `before`, to the second."""
    old = _observed(before, tz)
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) / 2
        middle = middle.replace(microsecond=0)
        if middle <= before:
            middle = before + timedelta(seconds=1)
        if _observed(middle, tz) == old:
            before = middle
        else:
            after = middle
    return after


def _observance(
    instant: datetime, tz: ZoneInfo, offset_from: timedelta | None
) -> TimezoneStandard | TimezoneDaylight:
    wall = instant.astimezone(tz)
    offset_to = wall.utcoffset()
    assert offset_to is not None
    offset_from = offset_to if offset_from is None else offset_from
    observance = TimezoneDaylight() if wall.dst() else TimezoneStandard()
    observance.add("dtstart", (instant + offset_from).replace(tzinfo=None))
    observance.add("tzoffsetfrom", offset_from)
    observance.add("tzoffsetto", offset_to)
    observance.add("tzname", wall.tzname() or "")
    return observance


def agenda_rows(
    agenda: Agenda, *, day: Callable[[datetime, bool], str] | None = None
) -> list[dict[str, str]]:
    """The agenda as the email templates show it, one dict per meeting, in order.

    Keys: `time` ("15 May 2017 09:00–09:20 EDT", in the venue's zone with its abbreviation),
    `table` (its number; "" for a remote meeting), `table_name` and `location` (named tables;
    "" otherwise), `video_link` (a remote meeting's; "" otherwise), `with_name`, `with_country`
    (the country's name), `with_line`. Another language passes its own `day(value,
    with_year)`.
    """
    return item_rows(agenda.items, agenda.timezone, day=day)


def item_rows(
    items: Sequence[AgendaItem], zone: str, *, day: Callable[[datetime, bool], str] | None = None
) -> list[dict[str, str]]:
    """Rows as `agenda_rows` makes them, for some meetings (what `changed_items` found)."""
    return [_row(item, zone, day or _day) for item in items]


def _row(item: AgendaItem, zone: str, day: Callable[[datetime, bool], str]) -> dict[str, str]:
    return {
        "time": _time_text(item.start, item.end, zone, day),
        "table": "" if item.table is None else str(item.table),
        "table_name": item.table_name or "",
        "location": item.location or "",
        "video_link": item.video_link or "",
        "with_name": item.with_name,
        "with_country": country_name(item.with_country),
        "with_line": item.with_line,
    }


def _time_text(
    start: datetime, end: datetime, zone: str, day: Callable[[datetime, bool], str]
) -> str:
    begins, ends = local(start, zone), local(end, zone)
    if begins.date() == ends.date() and begins.tzname() == ends.tzname():
        return f"{day(begins, True)} {begins:%H:%M}–{ends:%H:%M} {begins.tzname()}"
    return (
        f"{day(begins, True)} {begins:%H:%M} {begins.tzname()} – "
        f"{day(ends, True)} {ends:%H:%M} {ends.tzname()}"
    )


def _day(wall: datetime, with_year: bool) -> str:
    return f"{wall.day} {wall:%b} {wall.year}" if with_year else f"{wall.day} {wall:%b}"


@dataclass(frozen=True)
class Break:
    """A wait between two meetings of a participant in one session: from the end of the one to
    the start of the next (`breaks.py` counts them so)."""

    start: datetime
    end: datetime


def agenda_breaks(items: Sequence[AgendaItem], slots: Sequence[Timed]) -> list[Break]:
    """The breaks of a participant meeting at `items`, on the event's grid of `slots` (any
    order): a break is a maximal run of slots without a meeting between two consecutive
    meetings in one session (a run of back-to-back slots), so lunch between sessions is none.
    A meeting that starts at no slot of the grid is left out of the count."""
    order = sorted(slots, key=lambda slot: (slot.start, slot.end))
    session_of = sessions(order)
    position = {to_utc(slot.start): i for i, slot in enumerate(order)}
    taken = sorted({position[item.start] for item in items if item.start in position})
    return [
        Break(to_utc(order[before].end), to_utc(order[after].start))
        for before, after in pairwise(taken)
        if after > before + 1 and session_of[before] == session_of[after]
    ]


def breaks_text(found: Sequence[Break], zone: str) -> str:
    """The breaks in a line, times in the venue's zone: "2 breaks: 10:20–10:40, 14:00–14:20",
    each with its day ("15 May 10:20–10:40") when they fall on more than one; "No breaks
    between your meetings" when there are none."""
    if not found:
        return "No breaks between your meetings"
    spans = break_spans(found, zone)
    return f"{len(found)} {'break' if len(found) == 1 else 'breaks'}: {', '.join(spans)}"


def break_spans(
    found: Sequence[Break], zone: str, *, day: Callable[[datetime, bool], str] | None = None
) -> list[str]:
    """Each break as `breaks_text` says it ("10:20–10:40", "15 May 10:20–10:40" when they fall
    on more than one day); another language passes its own `day(value, with_year)`."""
    day = day or _day
    walls = [(local(b.start, zone), local(b.end, zone)) for b in found]
    several_days = len({begins.date() for begins, _ in walls}) > 1
    return [
        f"{f'{day(begins, False)} ' if several_days else ''}{begins:%H:%M}–{ends:%H:%M}"
        for begins, ends in walls
    ]


def changed_items(
    before: Agenda, after: Agenda
) -> tuple[list[AgendaItem], list[AgendaItem], list[AgendaItem]]:
    """What changed between two versions of a participant's agenda, meetings matched by id.

    Returns:
        (added, removed, moved), each in order of start: meetings only in `after`, meetings only
        in `before` (as they were), and meetings in both at another time or table (as they are
        now). A meeting whose time and table are unchanged is in none of them.

    Raises:
        ValueError: the agendas are not the same participant's.
    """
    if before.participant_id != after.participant_id:
        raise ValueError(
            f"the agendas of {before.participant_id} and {after.participant_id} cannot be compared"
        )
    earlier = {item.meeting_id: item for item in before.items}
    later = {item.meeting_id: item for item in after.items}
    added = [item for item in after.items if item.meeting_id not in earlier]
    removed = [item for item in before.items if item.meeting_id not in later]
    moved = [
        item
        for item in after.items
        if item.meeting_id in earlier and _place(earlier[item.meeting_id]) != _place(item)
    ]
    return added, removed, moved


def _place(item: AgendaItem) -> tuple[datetime, datetime, int | None]:
    return item.start, item.end, item.table


def _refuse_repeated_ids(items: Sequence[AgendaItem], where: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.meeting_id in seen:
            raise ValueError(f"meeting {item.meeting_id} appears twice in {where}")
        seen.add(item.meeting_id)
