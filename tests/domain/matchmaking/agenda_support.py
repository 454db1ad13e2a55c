"""The agenda of a delegate at the U.S.–EU matchmaking, its meetings, and its calendar file
(`make`) read back by UID (`events`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event

from missionflow.domain.matchmaking.agenda import Agenda, AgendaItem, ics

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
