"""Who attends a meeting: its two participants and the colleagues who come too.

Several people of one organisation are participants of their own (each with their own
agenda, availability and maximum). Colleagues who go together are one meeting: one participant
is its `a` (or `b`), the others are its `colleagues`, and all of them are booked in its slot.
Colleagues who go apart have meetings of their own, in parallel if need be. The one rule
(`checks.validate`): nobody who attends is in two meetings of one slot. Every engine keeps it by
counting each attendee busy in the meeting's slot (`Timetable`, the CP-SAT model); a Kempe chain,
which follows a path of two-person meetings, does not move a meeting with colleagues.
"""

from __future__ import annotations

from collections import Counter

from missionflow.domain.matchmaking.instance import Instance, Meeting


def attendees(meeting: Meeting) -> tuple[str, ...]:
    """Everyone in the meeting: a, b, then the colleagues."""
    return (meeting.a, meeting.b, *meeting.colleagues)


def colleague_problems(instance: Instance) -> list[str]:
    """What makes the meetings' colleagues invalid, in words."""
    people = {p.id for p in instance.participants}
    found: list[str] = []
    for meeting in instance.meetings:
        for who in dict.fromkeys(meeting.colleagues):
            if who not in people:
                found.append(f"meeting {meeting.id!r} names colleague {who!r}, who does not exist")
            if who in (meeting.a, meeting.b):
                found.append(f"meeting {meeting.id!r} names {who!r} as their own colleague")
        found += [
            f"meeting {meeting.id!r} names colleague {who!r} {n} times"
            for who, n in Counter(meeting.colleagues).items()
            if n > 1
        ]
    return found
