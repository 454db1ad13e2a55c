"""Fixed tables and remote meetings in the scheduler: every schedule of random events keeps each
host's fixed table, shared tables hold one meeting a slot, remote meetings take no table, and
`validate` refuses schedules that break those rules."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st
from scheduling_support import checked, event, where

from missionflow.domain.matchmaking.checks import problems, validate
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.result import Assignment
from missionflow.domain.matchmaking.scheduling import schedule, upper_bound


def with_places(
    instance: Instance, tables: dict[str, int] | None = None, remote: set[str] | frozenset = ()
) -> Instance:
    """The instance with participants at fixed tables and some remote."""
    data = instance.model_dump(mode="json")
    for person in data["participants"]:
        person["table"] = (tables or {}).get(person["id"])
        person["remote"] = person["id"] in remote
    return Instance.model_validate(data)


@st.composite
def placed_events(draw: st.DrawFn) -> Instance:
    """Delegates meet hosts; some hosts at fixed tables (often the same one), some delegates and
    hosts remote (never a host at a fixed table); the exact phase on or off."""
    delegates = [f"d{i}" for i in range(draw(st.integers(1, 5)))]
    hosts = [f"h{i}" for i in range(draw(st.integers(1, 5)))]
    tables = draw(st.integers(1, 3))
    pairs = [(d, h) for d in delegates for h in hosts]
    chosen = draw(st.lists(st.sampled_from(pairs), min_size=1, max_size=12, unique=True))
    fixed_table = {h: draw(st.integers(1, tables)) for h in hosts if draw(st.integers(0, 2)) > 0}
    remote = {p for p in [*delegates, *hosts] if p not in fixed_table and draw(st.booleans())}
    caps = {p: draw(st.integers(1, 4)) for p in [*delegates, *hosts]}
    away = {p: draw(st.lists(st.integers(1, 4), max_size=2, unique=True)) for p in caps}
    instance = event(
        [(d, h, draw(st.integers(1, 3))) for d, h in chosen],
        slots=draw(st.integers(2, 5)),
        tables=tables,
        caps=caps,
        away={p: [n for n in slots if n <= 2] for p, slots in away.items()},
        time_limit=draw(st.sampled_from([0.0, 0.5])),
    )
    return with_places(instance, fixed_table, remote)


def in_person_by_slot(instance: Instance, assignments: list[Assignment]) -> Counter[str]:
    return Counter(a.slot for a in assignments if a.table is not None)


@settings(deadline=None, max_examples=150)
@given(placed_events())
def test_fixed_tables_are_kept_and_remote_meetings_take_none(instance: Instance) -> None:
    result = checked(instance)  # validate: no table shared in a slot, fixed tables kept
    people = {p.id: p for p in instance.participants}
    meetings = {m.id: m for m in instance.meetings}
    for item in result.assignments:
        a, b = people[meetings[item.meeting].a], people[meetings[item.meeting].b]
        if a.remote or b.remote:
            assert item.table is None
        else:
            assert item.table == (a.table or b.table or item.table)
            assert item.table is not None and 1 <= item.table <= instance.tables
    assert max(in_person_by_slot(instance, result.assignments).values(), default=0) <= (
        instance.tables
    )
    assert result.stats.scheduled <= result.stats.upper_bound == upper_bound(instance)


def test_hosts_sharing_a_table_take_turns() -> None:
    """h1 and h2 both ask for table 2: never both there in one slot, and both meet."""
    instance = with_places(
        event(
            [("d1", "h1", 2), ("d2", "h1", 2), ("d3", "h2", 2), ("d4", "h2", 2), ("d5", "h3", 1)],
            slots=4,
            tables=2,
        ),
        {"h1": 2, "h2": 2},
    )
    result = checked(instance)
    placed = where(result)
    assert {placed[m][1] for m in ("m1", "m2", "m3", "m4")} == {2}
    assert len({placed[m][0] for m in ("m1", "m2", "m3", "m4")}) == 4
    assert placed["m5"][1] == 1


def test_remote_meetings_go_beyond_the_tables() -> None:
    """One table, two slots: two in-person meetings and two remote ones all take place."""
    instance = with_places(
        event(
            [("d1", "h1", 1), ("d2", "h2", 1), ("d3", "h3", 1), ("d4", "h4", 1)], slots=2, tables=1
        ),
        remote={"d3", "h4"},
    )
    for time_limit in (0.0, 1.0):
        result = checked(instance.model_copy(update={"time_limit": time_limit}))
        placed = where(result)
        assert result.stats.scheduled == 4 == result.stats.upper_bound
        assert placed["m3"][1] is None and placed["m4"][1] is None
        assert {placed["m1"][1], placed["m2"][1]} == {1}


def test_validate_refuses_a_host_away_from_their_table_and_a_remote_meeting_at_one() -> None:
    instance = with_places(
        event([("d1", "h1", 1), ("d2", "h2", 1)], slots=1, tables=3), {"h1": 3}, {"d2"}
    )
    good = schedule(instance)
    assert validate(instance, good) == []
    moved = good.model_copy(
        update={
            "assignments": [
                Assignment(meeting="m1", slot="s1", table=1),
                Assignment(meeting="m2", slot="s1", table=2),
            ]
        }
    )
    assert validate(instance, moved) == [
        "meeting 'm1' is placed at table 1, not at its fixed table 3",
        "remote meeting 'm2' is placed at table 2",
    ]


def test_tables_that_cannot_be_are_problems() -> None:
    instance = with_places(event([("d1", "h1", 1)], slots=1, tables=2), {"h1": 3, "d1": 1}, {"d1"})
    assert problems(instance) == [
        "participant 'd1' is remote and cannot have a table",
        "participant 'h1' is at table 3, outside 1..2",
        "meeting 'm1' is between participants at tables 1 and 3",
    ]


def test_a_kept_meeting_at_a_hosts_table_is_not_their_turn() -> None:
    """m1 (d1, h9) was placed in slot 1 at table 1 before h1 asked for table 1: h1 meets in
    slot 2."""
    instance = with_places(
        event([("d1", "h9", 1), ("d2", "h1", 1)], slots=2, tables=1, fixed=[("m1", 1, 1)]),
        {"h1": 1},
    )
    assert where(checked(instance)) == {"m1": ("s1", 1), "m2": ("s2", 1)}
