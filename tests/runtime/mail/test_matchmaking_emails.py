"""The matchmaking's emails: meeting requests and answers, the reminder, the agenda and its
changes, times in the venue's zone, and what people typed escaped.
"""

from __future__ import annotations

from typing import Any

import jinja2
import pytest
from mail_contexts import AGENDA_URL, CONTEXTS, SHOWN_REQUESTS_DEADLINE, body, context

from missionflow.runtime.mail.templates import render

CELL = ' style="padding:4px 12px 4px 0; vertical-align:top;">'


def test_a_meeting_request_words_its_priority_and_its_deadline_in_the_venues_zone() -> None:
    words = {3: "a top priority", 2: "a priority", 1: "of interest"}
    bodies = set()
    for priority, word in words.items():
        rendered = render("meeting_request", context("meeting_request", priority=priority))
        assert f"a meeting with you is {word}." in rendered.text
        assert f"a meeting with you is <strong>{word}</strong>." in rendered.html
        bodies.add(body(rendered.text))
    assert len(bodies) == 3
    rendered = render("meeting_request", context("meeting_request"))
    answer_url = CONTEXTS["meeting_request"]["answer_url"]
    assert rendered.subject.startswith("Meeting request from Massachusetts Advanced Materials")
    assert SHOWN_REQUESTS_DEADLINE in rendered.text and SHOWN_REQUESTS_DEADLINE in rendered.html
    assert answer_url in rendered.text and f'href="{answer_url}"' in rendered.html
    assert "POST …/accept" in rendered.text and "POST …/decline" in rendered.text
    assert "POST …/accept" in rendered.html and "POST …/decline" in rendered.html
    assert "  We are looking for partners in nanocoatings.\n  Could we meet" in rendered.text
    without_note = render("meeting_request", context("meeting_request", note=None))
    assert "note" not in body(without_note.text) and "blockquote" not in without_note.html
    with pytest.raises(jinja2.UndefinedError):
        render("meeting_request", context("meeting_request", priority=4))


def test_a_meeting_answer_says_accepted_or_declined_and_where_to_find_others() -> None:
    accepted = render("meeting_answer", context("meeting_answer"))
    declined = render("meeting_answer", context("meeting_answer", accepted=False))
    directory_url = CONTEXTS["meeting_answer"]["directory_url"]

    assert accepted.subject.startswith("Meeting accepted: Philadelphia NanoWorks")
    assert declined.subject.startswith("Meeting declined: Philadelphia NanoWorks")
    assert "accepted your request" in accepted.text and "declined" not in body(accepted.text)
    assert "declined your request" in declined.text and "accepted" not in body(declined.text)
    for rendered in (accepted, declined):
        assert SHOWN_REQUESTS_DEADLINE in rendered.text
        assert directory_url in rendered.text and f'href="{directory_url}"' in rendered.html


def test_the_matchmaking_reminder_lists_the_requests_waiting_for_an_answer() -> None:
    waiting = render("matchmaking_reminder", context("matchmaking_reminder"))
    one = render(
        "matchmaking_reminder",
        context(
            "matchmaking_reminder", pending_answers=[{"name": "Pôle Médicen", "country": "France"}]
        ),
    )
    none = render("matchmaking_reminder", context("matchmaking_reminder", pending_answers=[]))

    assert waiting.subject.startswith("Reminder: 2 meeting requests await your answer")
    assert one.subject.startswith("Reminder: 1 meeting request awaits your answer")
    assert none.subject.startswith("Reminder: meeting requests close soon")
    assert "  - Philadelphia NanoWorks (United States of America)\n  - Pôle Médicen (France)" in (
        waiting.text
    )
    assert "<strong>Pôle Médicen</strong> (France)" in waiting.html
    assert "Pôle Médicen" not in none.text and "<ul>" not in none.html
    assert "No request waits for your answer" in none.text
    for rendered in (waiting, one, none):
        assert SHOWN_REQUESTS_DEADLINE in rendered.text
        assert CONTEXTS["matchmaking_reminder"]["private_url"] in rendered.text


def test_the_agenda_shows_each_meeting_in_the_venues_zone_with_its_table() -> None:
    rendered = render("agenda", context("agenda"))

    assert rendered.subject.startswith("Your agenda: 3 meetings at the U.S.–EU Cluster Matchmaking")
    expected = [
        ("15 May 2017 09:00–09:20 EDT", "4", "Massachusetts Advanced Materials Consortium"),
        ("15 May 2017 09:20–09:40 EDT", "12", "Philadelphia NanoWorks"),
        ("15 May 2017 14:00–14:20 EDT", "7", "Capital Region Biotech Alliance"),
    ]
    positions = []
    for time, table, name in expected:
        line = f"  {time}, table {table}\n    {name} (United States of America)\n"
        assert line in rendered.text
        positions.append(rendered.text.index(line))
        assert f"<td{CELL}{time}</td>" in rendered.html
        assert f"<strong>{name}</strong> (United States of America)" in rendered.html
    assert positions == sorted(positions)
    assert "UTC" not in body(rendered.text).split("Times are")[1]
    assert "Gaylord National Resort &amp; Convention Center" in rendered.html
    assert AGENDA_URL in rendered.text and f'href="{AGENDA_URL}"' in rendered.html
    assert "attached to this email as a calendar file" in rendered.text
    assert "attached to this email as a calendar file" in rendered.html
    breaks = "1 break: 09:40–14:00."
    assert rendered.text.index(breaks) > rendered.text.index("Capital Region Biotech Alliance")
    assert f"<p>{breaks}</p>" in rendered.html
    none = render("agenda", context("agenda", breaks="No breaks between your meetings"))
    assert "No breaks between your meetings." in none.text
    assert "break" not in render("agenda", context("agenda", breaks="")).text
    detached = render("agenda", context("agenda", ics_attached=False))
    assert "attached" not in detached.text and "attached" not in detached.html
    assert AGENDA_URL in detached.text


def test_an_empty_agenda_says_so_kindly_and_whom_to_contact() -> None:
    rendered = render("agenda", context("agenda", rows=[], ics_attached=False))

    assert rendered.subject.startswith("Your agenda: no meeting scheduled")
    assert "no meeting could be scheduled for you" in rendered.text
    assert "no meeting could be scheduled for you" in rendered.html
    assert "coordinators (Anna Verbeke, Marco Bellini)" in body(rendered.text)
    assert "table" not in body(rendered.text) and "<table" not in rendered.html
    assert AGENDA_URL not in rendered.text


def test_a_changed_agenda_lists_what_was_added_removed_and_moved() -> None:
    rendered = render("agenda_changed", context("agenda_changed"))
    text = body(rendered.text)

    added = "  15 May 2017 15:00–15:20 EDT, table 2\n    Chesapeake Photonics Lab"
    moved = "  15 May 2017 14:40–15:00 EDT, table 9\n    Philadelphia NanoWorks"
    removed = "  15 May 2017 14:00–14:20 EDT, table 7\n    Capital Region Biotech Alliance"
    sections = [
        text.index(f"New meeting:\n{added}"),
        text.index(f"Moved to another time or place (as they are now):\n{moved}"),
        text.index(f"Cancelled meeting (no longer in your agenda):\n{removed}"),
        text.index("Your agenda now:\n  15 May 2017 09:00–09:20 EDT, table 4"),
    ]
    assert sections == sorted(sections)
    now = text.split("Your agenda now:")[1]
    assert added in now and moved in now and "Capital Region" not in now
    assert "09:20–09:40" not in text  # the old time of the moved meeting
    assert text.count("Chesapeake Photonics Lab") == 2 and text.count("Capital Region") == 1
    for caption in ("New meeting", "Moved to another time or place", "Cancelled meeting"):
        assert f'padding:0 0 4px;">{caption}' in rendered.html
    assert "removes the cancelled ones" in rendered.text
    assert "1 break: 09:20–14:40." in now and "<p>1 break: 09:20–14:40.</p>" in rendered.html
    unchanged = render(
        "agenda_changed", context("agenda_changed", added=[], removed=[], moved=[], rows=[])
    )
    assert "New meeting" not in unchanged.text and "Cancelled meeting" not in unchanged.text
    assert "No meeting is left in your agenda" in unchanged.text
    assert "<table" not in unchanged.html


@pytest.mark.parametrize(
    "template",
    ["meeting_request", "meeting_answer", "matchmaking_reminder", "agenda", "agenda_changed"],
)
def test_what_people_typed_is_escaped_in_every_matchmaking_message(template: str) -> None:
    hostile = "<script>alert(1)</script>"
    row = {
        "time": "15 May 2017 09:00–09:20 EDT",
        "table": "4",
        "table_name": hostile,  # named in the mission file, shown as typed
        "location": hostile,
        "video_link": "",
        "with_name": hostile,
        "with_country": "Germany",
        "with_line": hostile,
    }
    changes: dict[str, Any] = {
        "requester": {"name": hostile, "country": "Germany", "line": hostile},
        "note": hostile,
        "other": {"name": hostile, "country": "Germany"},
        "pending_answers": [{"name": hostile, "country": "Germany"}],
        "event": hostile,
        "venue": hostile,
        "rows": [row],
        "added": [row],
        "removed": [row],
        "moved": [row],
    }
    own = {key: value for key, value in changes.items() if key in CONTEXTS[template]}
    rendered = render(template, context(template, **own))

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered.html
    assert "<script>" not in rendered.html
    assert hostile in rendered.text
