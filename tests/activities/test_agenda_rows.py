"""An agenda's meetings as its email shows them, in the participant's language."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from activities.agendas import _rows
from missionflow.domain.matchmaking.agenda import Agenda, AgendaItem

MEETING = AgendaItem(
    meeting_id="m1",
    start=datetime(2017, 5, 15, 13, 0, tzinfo=UTC),
    end=datetime(2017, 5, 15, 13, 20, tzinfo=UTC),
    table=4,
    with_name="Bavarian Nano Cluster",
    with_country="DE",
    with_line="Nanotechnologies",
)
AGENDA = Agenda(
    participant_id="p1",
    participant_name="Massachusetts Advanced Materials Consortium",
    event="U.S.–EU Cluster Matchmaking",
    venue="National Harbor",
    timezone="America/New_York",
    items=(MEETING,),
)


@pytest.mark.parametrize(
    ("language", "time", "country"),
    [
        ("en", "15 May 2017 09:00–09:20 EDT", "Germany"),
        ("fr", "15 mai 2017 09:00–09:20 EDT", "Allemagne"),
        ("de", "15. Mai 2017 09:00–09:20 EDT", "Deutschland"),
    ],
)
def test_a_meeting_is_dated_and_its_country_named_in_the_readers_language(
    language: str, time: str, country: str
) -> None:
    [row] = _rows(AGENDA, AGENDA.items, language)
    assert (row["time"], row["with_country"], row["table"]) == (time, country, "4")
