"""The colleagues' reads and writes on SQLite and PostgreSQL: who a manager may book for, a
side of a meeting's attendees replaced by who its manager says goes, and an organisation's
erasure reaching its colleagues."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from support import rehearsal

from activities.meeting_schedule import instance_of
from missionflow.domain.erasure import ERASED, ERASED_ADDRESS
from missionflow.domain.matchmaking.rules import slots_of
from missionflow.domain.mission.file import load_mission
from missionflow.runtime import representatives
from missionflow.runtime.models import Meeting, Mission
from missionflow.runtime.participants import Participant
from missionflow.runtime.representatives import Representative


async def test_colleagues_are_booked_replaced_and_erased(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    mission = load_mission(rehearsal(), now=datetime.now(UTC), live=True)
    alpha, beta, host = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    cleo = Representative(
        mission_id=mission.id, organisation_id=alpha, side="delegate", name="Cleo",
        email="cleo@example.org", role="CTO",
    )  # fmt: skip
    dan = Representative(
        mission_id=mission.id, organisation_id=alpha, side="delegate", name="Dan",
        email="dan@example.org",
    )  # fmt: skip
    bo = Representative(
        mission_id=mission.id, organisation_id=beta, side="delegate", name="Bo",
        email="bo@example.org",
    )  # fmt: skip
    async with session_factory() as session:
        session.add(
            Mission(
                id=mission.id, workflow_id=mission.workflow_id, title=mission.title,
                organiser=mission.organiser, timezone=mission.timezone, phase="matchmaking",
                file=mission.model_dump(mode="json"),
            )
        )  # fmt: skip
        await session.commit()
        session.add_all([cleo, dan, bo])
        await session.commit()
        refused = representatives.refused_people
        assert await refused(session, mission.id, alpha, [alpha, cleo.id, dan.id]) == []
        assert await refused(session, mission.id, alpha, [cleo.id, bo.id, beta]) == [bo.id, beta]

        replaced = representatives.attendees_with
        both = [str(cleo.id), str(host)]
        assert await replaced(session, mission.id, both, alpha, []) == both  # nobody named
        assert await replaced(session, mission.id, both, alpha, [dan.id, alpha, dan.id]) == [
            str(host),
            str(dan.id),
            str(alpha),
        ]  # Alpha's side replaced, the host's kept

        await representatives.erase(session, mission.id, alpha)
        await session.commit()
        rows = await representatives.of_organisations(session, mission.id)
        assert {(r.organisation_id, r.name, r.email, r.role) for r in rows} == {
            (alpha, ERASED, ERASED_ADDRESS, None),
            (beta, "Bo", "bo@example.org", None),
        }


def test_the_instance_makes_each_person_a_participant() -> None:
    """A side nobody named sends its contact (as every meeting before); named people go, the
    contact first when named, each a participant with their organisation's absences."""
    mission = load_mission(rehearsal(), now=datetime.now(UTC), live=True)
    event = mission.matchmaking
    assert event is not None
    alpha, host = uuid.uuid4(), uuid.uuid4()
    cleo = Representative(
        mission_id=mission.id, organisation_id=alpha, side="delegate", name="Cleo", email="c@x.org"
    )
    people = {
        alpha: Participant(alpha, "delegate", "Alpha", "DE", "", None, "Ana", "ana@x.org"),
        host: Participant(host, "host", "Host", "US", "", None, "Hope", "h@x.org", ("s1",)),
    }

    def meeting(attendees: list[str]) -> Meeting:
        return Meeting(
            mission_id=mission.id, pair_key=str(uuid.uuid4()), requester_id=alpha,
            requester_kind="delegate", invitee_id=host, invitee_kind="host", priority=2,
            status="accepted", attendees=attendees,
        )  # fmt: skip

    before, joint = meeting([]), meeting([str(cleo.id), str(alpha)])
    instance = instance_of(
        event, slots_of(event), people, [before, joint], keep_placed=False, colleagues=[cleo]
    )
    a, b = instance.meetings
    assert (a.a, a.b, a.colleagues) == (str(alpha), str(host), [])
    assert (b.a, b.b, b.colleagues) == (str(alpha), str(host), [str(cleo.id)])
    assert [p.id for p in instance.participants] == [str(alpha), str(host), str(cleo.id)]
    assert instance.participants[2].side == "delegate"
    assert instance.participants[2].unavailable == instance.participants[0].unavailable
