"""What `missionflow simulate` adds to a mission without preference lists, request expiry and
nudges, and the preference marks its people make (`missionflow.simulation.request_steps`)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

from support import example

from missionflow.domain.matchmaking.preferences import NO_THANKS, PRIORITY
from missionflow.domain.matchmaking.request_policy import nudge_rounds
from missionflow.domain.mission.file import load_mission
from missionflow.runtime.models import Host
from missionflow.simulation.request_steps import (
    mutual_pairs,
    preference_marks,
    with_request_steps,
)

SECTORS = ["Nanotechnologies", "Advanced materials", "Energy and sustainability"]


def test_a_file_without_the_steps_gets_all_three_inside_its_request_window() -> None:
    mission = load_mission(example("eu-us-2017"))
    given, added = with_request_steps(mission)
    assert set(added) == {"preferences_deadline", "request_expiry", "nudge_every"}
    event = given.matchmaking
    assert event is not None
    assert event.preferences_deadline is not None
    assert event.request_expiry is not None
    # The window is 17 days and 8 hours: a quarter of it for the lists, half for an answer.
    assert event.preferences_deadline == datetime(2017, 4, 22, 21, 0, tzinfo=UTC)
    assert (str(event.request_expiry), str(event.nudge_every)) == ("P8D", "P4D")
    assert len(nudge_rounds(event)) == 4
    # A request the lists make is answered, or expires, before requests close.
    expires = event.request_expiry.shift(event.preferences_deadline, event.timezone)
    assert expires < event.requests_deadline
    # Everything else is the file's.
    assert given.model_dump(exclude={"matchmaking"}) == mission.model_dump(exclude={"matchmaking"})


def test_a_file_that_sets_any_step_is_taken_as_written() -> None:
    document = example("eu-us-2017")
    document["matchmaking"]["nudge_every"] = "P2D"
    mission = load_mission(document)
    assert with_request_steps(mission) == (mission, {})
    document = example("eu-us-2017")
    del document["matchmaking"]
    mission = load_mission(document)
    assert with_request_steps(mission) == (mission, {})


def test_marks_spare_the_pairs_asked_by_hand_and_make_every_kind() -> None:
    rng = random.Random(5)
    delegates = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(30)]
    hosts = [
        Host(id=uuid.UUID(int=rng.getrandbits(128)), sector=rng.choice(SECTORS)) for _ in range(45)
    ]
    sectors = {d: rng.sample(SECTORS, 2) for d in delegates}
    asked = {frozenset((d, rng.choice(hosts).id)) for d in delegates}
    marks = preference_marks(rng, delegates, hosts, sectors, asked)

    pairs = [(m.participant_id, m.other_id) for m in marks]
    assert len(pairs) == len(set(pairs)), "one mark per author and other"
    assert not {frozenset(p) for p in pairs} & asked
    hosting = {h.id for h in hosts}
    for by, on in pairs:
        assert (by in hosting) != (on in hosting), "a delegate marks hosts, a host delegates"
    mutual = mutual_pairs(marks)
    one_sided = {
        frozenset(p)
        for p, m in zip(pairs, marks, strict=True)
        if m.mark in PRIORITY and frozenset(p) not in mutual
    }
    assert mutual and one_sided and any(m.mark == NO_THANKS for m in marks)
    # A no thanks answering a wish: the request the lists make for it is a quiet one.
    assert any(
        m.mark == NO_THANKS and frozenset((m.participant_id, m.other_id)) in one_sided
        for m in marks
    )
    assert preference_marks(random.Random(5), [], hosts, {}, set()) == []


def test_a_day_long_window_gets_hours() -> None:
    document = example("eu-us-2017")
    opens = load_mission(document).matchmaking.requests_open_at  # type: ignore[union-attr]
    document["matchmaking"]["requests_deadline"] = (opens + timedelta(hours=20)).isoformat()
    _, added = with_request_steps(load_mission(document))
    assert (added["request_expiry"], added["nudge_every"]) == ("PT10H", "PT5H")
