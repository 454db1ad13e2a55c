"""`make run` stopped with Ctrl-C in the middle of a call and started again on the same home: the
mission goes on where it was. Its timers are durable (the Temporal dev server's SQLite file), so
the reminders still to come and the call's close happen at their instants, and every email is
received exactly once: none lost with the stack, none sent again by the restarted worker.

The stack is `missionflow dev` as a real process (tests/stack/dev_stack.py); the emails are what
its SMTP sink caught, read from the dev mailbox.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from stack.dev_stack import DevStack, free_ports
from support import rehearsal

DEADLINE = 75
"""Seconds from the mission's start to its call's deadline."""

REMINDERS = ("PT65S", "PT25S", "PT15S")
"""Before the deadline: one ten seconds after the start, before the stack stops; two after the
restart (which takes about ten seconds; see the stop and start times in the output)."""

LATE = 12.0
"""Seconds an email may arrive after its instant: a timer fires, a workflow task and an activity
run, the message is written and sent, on a loaded 2-core machine."""

CALL_TEMPLATES = {"call_announcement", "application_received", "deadline_reminder", "call_closed"}
"""What the call sends (after its close, the selection's proposal goes to the coordinators)."""

APPLICANT = "incomplete@example.org"
INVITEES = ("one@example.org", "two@example.net")
COORDINATOR = "coordinator@example.org"


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DevStack]:
    api, temporal, ui, smtp = free_ports(4)
    dev = DevStack(
        home=tmp_path / "home", api_port=api, temporal_port=temporal, ui_port=ui, smtp_port=smtp
    )
    try:
        yield dev
    finally:
        dev.kill()


def test_a_restart_mid_call_keeps_the_reminders_and_the_close_on_time(stack: DevStack) -> None:
    stack.start()
    document = rehearsal(call=rehearsal()["call"] | {"deadline": f"+PT{DEADLINE}S"})
    document["call"]["reminders"] = list(REMINDERS)
    mission_id = document["id"]
    with stack.client() as api:
        started = api.post("/missions", json=document)
        assert started.status_code == 201, started.text
        applied = api.post(
            f"/missions/{mission_id}/applications",
            json=_incomplete_application(),
            headers={"Authorization": ""},
        )
        assert applied.status_code == 201, applied.text
        assert applied.json()["complete"] is False
        mission = _mission(api, mission_id)
    instants = {i["name"]: _utc(i["utc"]) for i in mission["instants"]}
    reminders = sorted(at for name, at in instants.items() if name.startswith("reminder:"))
    assert len(reminders) == len(REMINDERS), instants
    deadline = instants["deadline"]
    recipients = {APPLICANT, *INVITEES}

    # The first reminder goes out; then Ctrl-C, and `make run` again on the same home.
    _wait_for(stack, mission_id, "deadline_reminder", len(recipients), until=reminders[0])
    assert datetime.now(reminders[0].tzinfo) < reminders[1] - timedelta(seconds=30), (
        "too slow to stop and restart before the second reminder"
    )
    began = time.monotonic()
    assert stack.stop(signal.SIGINT) == 0, stack.output()
    stopped_in = time.monotonic() - began
    restarted_in = stack.start()
    print(f"stopped in {stopped_in:.1f} s, restarted in {restarted_in:.1f} s")
    assert datetime.now(reminders[0].tzinfo) < reminders[1], (
        f"the restart took {restarted_in:.1f} s: the second reminder's instant passed meanwhile"
    )

    with stack.client() as api:
        resumed = _mission(api, mission_id)
    assert (resumed["phase"], resumed["live"], resumed["applications"]) == ("call_open", True, 1)
    assert {i["name"]: _utc(i["utc"]) for i in resumed["instants"]} == instants

    _wait_for(stack, mission_id, "call_closed", 1, until=deadline)
    time.sleep(2)  # a reminder or a close sent twice would come about now
    with stack.client() as api:
        closed = _mission(api, mission_id)
    assert closed["phase"] == "selection", closed

    sent = [m for m in _caught(stack, mission_id) if m[0] in CALL_TEMPLATES]
    by_template = Counter(template for template, _, _ in sent)
    assert by_template == {
        "call_announcement": len(INVITEES),
        "application_received": 1,
        "deadline_reminder": len(REMINDERS) * len(recipients),
        "call_closed": 1,
    }, sent
    # Each reminder is received once by each recipient, at or a little after its own instant.
    received = []
    for template, to, at in sent:
        if template == "deadline_reminder":
            due = max((instant for instant in reminders if instant <= at), default=None)
            assert due is not None and at - due <= _late(), _timeline(reminders, sent)
            received.append((due, to))
    expected = [(instant, to) for instant in reminders for to in recipients]
    assert sorted(received) == sorted(expected), _timeline(reminders, sent)
    [(_, to, at)] = [message for message in sent if message[0] == "call_closed"]
    assert to == COORDINATOR and deadline <= at <= deadline + _late(), (deadline, at)

    assert stack.stop(signal.SIGINT) == 0, stack.output()


def _incomplete_application() -> dict:
    """One question answered of three: the applicant is reminded with the invitees."""
    return {
        "organisation": "Restart Cluster",
        "organisation_type": "cluster_organisation",
        "country": "DE",
        "city": "Dresden",
        "contact_name": "Ada Restart",
        "contact_email": APPLICANT,
        "sectors": ["Advanced materials"],
        "answers": {"member_organisations": 30},
        "consent": True,
    }


def _mission(api: httpx.Client, mission_id: str) -> dict:
    response = api.get(f"/missions/{mission_id}")
    assert response.status_code == 200, response.text
    return response.json()


def _caught(stack: DevStack, mission_id: str) -> list[tuple[str, str, datetime]]:
    """(template, recipient, received at) of every message the sink caught for the mission."""
    with stack.client() as api:
        listed = api.get("/dev/mailbox/messages.json", params={"mission": mission_id})
    assert listed.status_code == 200, listed.text
    return sorted(
        (entry["template"], to, _utc(entry["received_at"]))
        for entry in listed.json()
        for to in entry["recipients"]
    )


def _wait_for(stack: DevStack, mission_id: str, template: str, count: int, *, until: datetime):
    """Until `count` messages of `template` are caught, at most `LATE` s after `until`."""
    give_up = until + _late()
    while True:
        caught = [m for m in _caught(stack, mission_id) if m[0] == template]
        if len(caught) >= count:
            return
        assert datetime.now(until.tzinfo) < give_up, (
            f"{len(caught)} of {count} {template} messages by {give_up}:\n{stack.output()}"
        )
        time.sleep(0.3)


def _timeline(reminders: list[datetime], sent: list[tuple[str, str, datetime]]) -> str:
    start = reminders[0]
    dues = ", ".join(f"{(at - start).total_seconds():+.2f}" for at in reminders)
    lines = [
        f"{(at - start).total_seconds():+7.2f} s  {template} to {to}" for template, to, at in sent
    ]
    return f"seconds after the first reminder's instant (reminders at {dues}):\n" + "\n".join(lines)


def _late() -> timedelta:
    return timedelta(seconds=LATE)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
