"""The delegation's itinerary as a calendar file and as rows for emails: each visit in the zone
of its own city, so Boston at 09:00 is 09:00 EDT in every calendar, wherever it is read.

A visit keeps its UID (`<mission>-<visit>@<domain>`) across changes; each change raises its
SEQUENCE, and a cancelled visit goes out as STATUS:CANCELLED, so calendar clients update the
event they already have instead of adding a copy.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress

from missionflow.domain.instants import describe, local
from missionflow.domain.matchmaking.agenda import vtimezone
from missionflow.domain.mission.event_sections import Visit

PRODID = "-//missionflow//Mission itinerary//EN"


def ics(
    mission_id: str,
    visits: Sequence[Visit],
    *,
    organiser_email: str,
    domain: str,
    sequences: Mapping[str, int] | None = None,
    stamp: datetime | None = None,
) -> bytes:
    """The visits as one iCalendar file (METHOD:PUBLISH), with a VTIMEZONE per zone used.

    Raises:
        ValueError: no visit to put in the file.
    """
    if not visits:
        raise ValueError("an itinerary needs at least one visit")
    sequences = sequences or {}
    stamp = stamp or datetime.now(UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    for zone in sorted({visit.timezone for visit in visits}):
        days = [local(v.starts_at, zone).date() for v in visits if v.timezone == zone]
        days += [local(v.ends_at, zone).date() for v in visits if v.timezone == zone]
        calendar.add_component(vtimezone(zone, first=min(days), last=max(days)))
    for visit in visits:
        calendar.add_component(
            _event(mission_id, visit, organiser_email, domain, sequences.get(visit.id, 0), stamp)
        )
    return calendar.to_ical()


def _event(
    mission_id: str,
    visit: Visit,
    organiser_email: str,
    domain: str,
    sequence: int,
    stamp: datetime,
) -> Event:
    event = Event()
    event.add("uid", f"{mission_id}-{visit.id}@{domain}")
    event.add("dtstamp", stamp)
    event.add("sequence", sequence)
    event.add("dtstart", local(visit.starts_at, visit.timezone))
    event.add("dtend", local(visit.ends_at, visit.timezone))
    summary = f"Visit: {visit.host}, {visit.city}"
    event.add("summary", f"Cancelled: {summary}" if visit.cancelled else summary)
    event.add("location", visit.address)
    lines = [visit.description or ""]
    if visit.meeting_point:
        lines.append(f"Meeting point: {visit.meeting_point}")
    if visit.what_to_bring:
        lines.append(f"What to bring: {visit.what_to_bring}")
    event.add("description", "\n\n".join(line for line in lines if line))
    event.add("organizer", vCalAddress(f"mailto:{organiser_email}"))
    event.add("status", "CANCELLED" if visit.cancelled else "CONFIRMED")
    event.add("transp", "TRANSPARENT" if visit.cancelled else "OPAQUE")
    return event


def rows(
    visits: Sequence[Visit], statuses: Mapping[str, str] | None = None
) -> list[dict[str, str]]:
    """The visits as emails and pages show them, each in its city's zone; `statuses` says the
    reader's place on each visit (registered, waitlisted n, …) where they hold one."""
    statuses = statuses or {}
    count = len(visits)
    return [
        {
            "id": visit.id,
            "title": f"Visit {number} of {count}: {visit.city}",
            "city": visit.city,
            "host": visit.host,
            "address": visit.address,
            "meeting_point": visit.meeting_point or "",
            "when": span(visit),
            "timezone": visit.timezone,
            "description": visit.description or "",
            "what_to_bring": visit.what_to_bring or "",
            "cancelled": "yes" if visit.cancelled else "",
            "status": statuses.get(visit.id, ""),
        }
        for number, visit in enumerate(visits, start=1)
    ]


def span(
    visit: Visit,
    *,
    day: Callable[[datetime], str] | None = None,
    at: Callable[[datetime, str], str] | None = None,
) -> str:
    """`Tue 16 May 2017, 09:00–17:00 EDT`: one day, one zone, as a traveller reads it; a visit
    over several days from one instant to the other. Another language passes its own `day`
    (a local date) and `at` (an instant in a zone)."""
    start, end = local(visit.starts_at, visit.timezone), local(visit.ends_at, visit.timezone)
    abbreviation = end.tzname() or visit.timezone
    if start.date() == end.date():
        shown = day(start) if day else start.strftime("%a %d %b %Y").replace(" 0", " ")
        return f"{shown}, {start:%H:%M}–{end:%H:%M} {abbreviation}"
    at = at or describe
    return f"{at(visit.starts_at, visit.timezone)} – {at(visit.ends_at, visit.timezone)}"
