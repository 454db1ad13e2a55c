"""A participant's breaks as their agenda says them: waits between two meetings in one session,
counted as the scheduler counts them (`breaks.waits`), told in the venue's zone."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from agenda_support import FIRST, item, make
from icalendar import Calendar

from missionflow.domain.matchmaking.agenda import Break, agenda_breaks, breaks_text
from missionflow.domain.matchmaking.breaks import sessions, waits
from missionflow.domain.matchmaking.rules import SlotTime

ZONE = "America/New_York"
SLOT = timedelta(minutes=20)


def grid(*sessions_utc: tuple[datetime, datetime]) -> list[SlotTime]:
    slots = []
    for number, (start, end) in enumerate(sessions_utc, start=1):
        while start + SLOT <= end:
            slots.append(SlotTime(f"{number}-{start:%d%H%M}", number, start, start + SLOT))
            start += SLOT
    return slots


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2017, 5, day, hour, minute, tzinfo=UTC)


# 09:00–12:00 and 14:00–17:00 EDT on 15 May (13:00–16:00 and 18:00–21:00 UTC).
DAY = grid((utc(15, 13), utc(15, 16)), (utc(15, 18), utc(15, 21)))


def meetings(*starts: datetime) -> list:
    return [item(n % 4, start) for n, start in enumerate(starts)]


def test_lunch_between_two_sessions_is_no_break() -> None:
    mine = meetings(utc(15, 13), utc(15, 13, 20), utc(15, 18))

    assert agenda_breaks(mine, DAY) == []
    assert breaks_text([], ZONE) == "No breaks between your meetings"


def test_each_wait_within_a_session_is_a_break_from_one_meeting_to_the_next() -> None:
    items = [
        item(0, utc(15, 13)),
        item(1, utc(15, 14)),
        item(2, utc(15, 14, 20)),
        item(3, utc(15, 15, 20)),
    ]

    found = agenda_breaks(list(reversed(items)), reversed(DAY))  # any order

    assert found == [Break(utc(15, 13, 20), utc(15, 14)), Break(utc(15, 14, 40), utc(15, 15, 20))]
    assert breaks_text(found, ZONE) == "2 breaks: 09:20–10:00, 10:40–11:20"
    assert breaks_text(found[:1], ZONE) == "1 break: 09:20–10:00"


def test_breaks_on_several_days_say_their_day() -> None:
    two_days = DAY + grid((utc(16, 13), utc(16, 16)))
    mine = meetings(utc(15, 18), utc(15, 19), utc(16, 13), utc(16, 14))

    found = agenda_breaks(mine, two_days)

    assert breaks_text(found, ZONE) == "2 breaks: 15 May 14:20–15:00, 16 May 09:20–10:00"


def test_a_meeting_off_the_grid_is_left_out() -> None:
    mine = meetings(utc(15, 13), utc(15, 13, 10), utc(15, 14))

    assert agenda_breaks(mine, DAY) == [Break(utc(15, 13, 20), utc(15, 14))]


def test_the_count_is_the_schedulers() -> None:
    chance = random.Random(7)
    session_of = sessions(DAY)
    for _ in range(200):
        taken = sorted(chance.sample(range(len(DAY)), chance.randint(0, 4)))
        mine = [item(n, DAY[p].start) for n, p in enumerate(taken)]
        counted = waits(taken, session_of)
        found = agenda_breaks(mine, DAY)
        assert len(found) == counted.breaks
        assert sum((b.end - b.start) // SLOT for b in found) == counted.idle


def test_the_calendar_file_carries_the_breaks_as_its_description() -> None:
    whole_day = grid((utc(15, 13), utc(15, 21)))
    told = breaks_text(agenda_breaks(FIRST.items, whole_day), ZONE)
    with_note = Calendar.from_ical(make(FIRST, note=told))
    assert str(with_note["X-WR-CALDESC"]) == told == "1 break: 09:40–14:00"
    assert "X-WR-CALDESC" not in Calendar.from_ical(make(FIRST))
