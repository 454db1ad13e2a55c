"""The mission's timeline rules, without Temporal: phases, reminders, extensions, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from support import example

from missionflow.domain.call import deadline
from missionflow.domain.mission import lifecycle
from missionflow.domain.mission import status as mission_status
from missionflow.domain.mission.file import load_mission


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


MISSION = load_mission(example("eu-us-2017"))
STARTED = utc(2017, 2, 1, 9, 0)


def started():
    return lifecycle.begin(MISSION, STARTED)


def test_reminders_keep_their_wall_time_in_the_call_zone() -> None:
    """P7D, P2D and P1D before midnight CET on 22 March 2017 are midnights CET too."""
    assert deadline.reminders(MISSION, started()) == [
        ("P7D", utc(2017, 3, 15, 23, 0)),
        ("P2D", utc(2017, 3, 20, 23, 0)),
        ("P1D", utc(2017, 3, 21, 23, 0)),
    ]


def test_reminders_across_the_european_dst_change() -> None:
    """Extended to 29 March 24:00 CEST (22:00Z), P7D before is 22 March 24:00 CET (23:00Z)."""
    state = deadline.extend_deadline(started(), utc(2017, 3, 29, 22, 0), utc(2017, 3, 10, 12, 0))
    assert dict(deadline.reminders(MISSION, state)) == {
        "P7D": utc(2017, 3, 22, 23, 0),
        "P2D": utc(2017, 3, 27, 22, 0),
        "P1D": utc(2017, 3, 28, 22, 0),
    }


def test_reminders_across_the_us_dst_change() -> None:
    """A call run from New York: the US moved on 12 March 2017."""
    document = example("eu-us-2017")
    document["timezone"] = "America/New_York"
    document["call"]["deadline"] = "2017-03-15T24:00"  # EDT: 2017-03-16T04:00Z
    mission = load_mission(document)
    reminders = dict(deadline.reminders(mission, lifecycle.begin(mission, STARTED)))
    assert mission.call.deadline == utc(2017, 3, 16, 4, 0)
    assert reminders["P7D"] == utc(2017, 3, 9, 5, 0)  # 8 March 24:00 EST
    assert reminders["P2D"] == utc(2017, 3, 14, 4, 0)


def test_the_call_announces_reminds_and_closes_in_order() -> None:
    state = started()
    assert deadline.call_actions_due(MISSION, state, utc(2017, 2, 15, 7, 59)) == []
    opened = deadline.call_actions_due(MISSION, state, utc(2017, 2, 15, 8, 0))
    assert [a.kind for a in opened] == ["announce"]
    state = deadline.call_action_done(MISSION, state, opened[0], utc(2017, 2, 15, 8, 0))
    assert deadline.call_actions_due(MISSION, state, utc(2017, 3, 15, 22, 59, 59)) == []
    due = deadline.call_actions_due(MISSION, state, utc(2017, 3, 15, 23, 0))
    assert [(a.kind, a.reminder) for a in due] == [("remind", "P7D")]
    state = deadline.call_action_done(MISSION, state, due[0], utc(2017, 3, 15, 23, 0))
    assert deadline.call_actions_due(MISSION, state, utc(2017, 3, 16, 0, 0)) == []
    closing = deadline.call_actions_due(MISSION, state, utc(2017, 3, 22, 23, 0))
    assert [a.kind for a in closing] == ["close"]


def test_of_several_overdue_reminders_only_the_most_urgent_goes_out() -> None:
    state = started()
    announce = deadline.call_actions_due(MISSION, state, utc(2017, 2, 15, 8, 0))[0]
    state = deadline.call_action_done(MISSION, state, announce, utc(2017, 2, 15, 8, 0))
    late = utc(2017, 3, 21, 23, 30)  # the worker was down from before P7D until after P1D
    due = deadline.call_actions_due(MISSION, state, late)
    assert [(a.kind, a.reminder) for a in due] == [("remind", "P1D")]
    state = deadline.call_action_done(MISSION, state, due[0], late)
    assert deadline.call_actions_due(MISSION, state, late + timedelta(minutes=1)) == []


def test_an_extension_is_told_and_replans_reminders_without_sending_old_ones() -> None:
    state = started()
    announce = deadline.call_actions_due(MISSION, state, utc(2017, 2, 15, 8, 0))[0]
    state = deadline.call_action_done(MISSION, state, announce, utc(2017, 2, 15, 8, 0))
    extended_at = utc(2017, 3, 21, 12, 0)
    new_deadline = utc(2017, 3, 29, 22, 0)
    state = deadline.extend_deadline(state, new_deadline, extended_at)
    due = deadline.call_actions_due(MISSION, state, extended_at)
    assert [(a.kind, a.deadline, a.previous_deadline) for a in due] == [
        ("extension", new_deadline, utc(2017, 3, 22, 23, 0))
    ]
    state = deadline.call_action_done(MISSION, state, due[0], extended_at)
    # P7D before the new deadline (22 March 23:00Z) is still ahead: it will be sent then.
    due = deadline.call_actions_due(MISSION, state, utc(2017, 3, 22, 23, 0))
    assert [(a.kind, a.reminder) for a in due] == [("remind", "P7D")]


def test_reminders_planned_before_the_call_opens_are_never_sent() -> None:
    document = example("eu-us-2017")
    document["call"]["opens_at"] = "2017-03-19T09:00"  # after P7D's instant
    mission = load_mission(document)
    state = lifecycle.begin(mission, STARTED)
    due = deadline.call_actions_due(mission, state, utc(2017, 3, 19, 8, 0))
    assert [a.kind for a in due] == ["announce"]
    names = [m.name for m in lifecycle.timeline(mission, state)]
    assert "reminder:P7D" not in names and "reminder:P2D" in names


def test_the_call_refuses_to_the_second_in_its_zone() -> None:
    state = started()
    assert deadline.call_refusal(MISSION, state, utc(2017, 2, 15, 7, 59, 59)) == (
        "The call for expression of interest opens on 15 Feb 2017 at 09:00 CET."
    )
    assert deadline.call_refusal(MISSION, state, utc(2017, 3, 22, 22, 59, 59)) is None
    assert deadline.call_refusal(MISSION, state, utc(2017, 3, 22, 23, 0)) == (
        "The call for expression of interest closed on 22 Mar 2017 at 24:00 CET."
    )


def test_waiting_for_names_the_next_reminder() -> None:
    state = started()
    text = mission_status.waiting_for(MISSION, state, utc(2017, 3, 1, 12, 0))
    assert text == (
        "Call open: waiting for the deadline, 22 Mar 2017 24:00 CET (23:00 UTC); "
        "next reminder 15 Mar 2017 24:00 CET (23:00 UTC)"
    )
