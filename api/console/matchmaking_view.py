"""What the console's matchmaking page shows, read from the database: the event's instants in the
venue's zone, the hosts, every meeting request, and the schedule as a grid of slots × tables.

The grid's meetings and the schedule's figures are those of `GET /missions/{id}/agenda`
(`api.agenda_grid`), the hosts those of `GET /missions/{id}/hosts` (`api.host_loading`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from api.agenda_grid import grid_meetings, latest_schedule
from api.host_loading import host_links
from api.reads import organisation_names
from api.routes.matchmaking import GridMeeting, HostLink, ScheduleFigures
from missionflow.domain.instants import describe
from missionflow.domain.matchmaking import agenda
from missionflow.domain.matchmaking.rules import SlotTime, slots_of
from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.mission.event_tables import Place, place_of, table_count, table_numbers
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.phases import Phase
from missionflow.runtime import participants
from missionflow.runtime.models import Meeting, Mission
from missionflow.runtime.settings import Settings

PARTICIPANT_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
BEFORE_MATCHMAKING = frozenset({Phase.CALL_OPEN, Phase.SELECTION, Phase.CONFIRMATION})


@dataclass(frozen=True)
class HostProblem:
    """One refused cell of a hosts CSV, as the JSON route locates it at ("body", index, field)."""

    row: int | None
    """The host's row in the file, 1 the first after the header; None: the whole file."""
    column: str | None
    message: str


def host_problems(errors: Sequence[Mapping[str, Any]]) -> list[HostProblem]:
    problems = []
    for error in errors:
        where = tuple(error.get("loc", ()))[1:]  # after "body"
        row = where[0] + 1 if where and isinstance(where[0], int) else None
        column = str(where[1]) if row is not None and len(where) > 1 else None
        problems.append(HostProblem(row, column, str(error.get("msg", ""))))
    return problems


@dataclass(frozen=True)
class RequestLine:
    asked_by: str
    asked_by_side: str
    asked: str
    asked_side: str
    priority: int
    status: str
    requested: str


@dataclass(frozen=True)
class SlotRow:
    slot: SlotTime
    when: str
    """Its start in the venue's zone, and in UTC."""
    first_of_session: bool
    cells: list[GridMeeting | None]
    """One per table, table 1 first."""
    remote: list[GridMeeting] = field(default_factory=list)
    """The slot's remote meetings, which take no table."""


@dataclass(frozen=True)
class MatchmakingView:
    mission: Mission
    phase: Phase
    event: Matchmaking | None = None
    """None: the mission has no matchmaking event."""
    instants: list[tuple[str, str]] = field(default_factory=list)
    """The event's instants, each in the venue's zone, labelled."""
    coming: str | None = None
    requests_close: str = ""
    slot_example: str = ""
    """The first slot's name, as a host's unavailability names it."""
    """Before the matchmaking phase: when it comes."""
    hosts: list[HostLink] = field(default_factory=list)
    requests: list[RequestLine] = field(default_factory=list)
    slots: list[SlotRow] = field(default_factory=list)
    tables: list[Place] = field(default_factory=list)
    """Each table's number, name and location, table 1 first."""
    remote: bool = False
    """Some placed meetings are remote: the grid has a column for them."""
    table_names: dict[str, str] = field(default_factory=dict)
    """Each table's id and name, for the hosts at a fixed table."""
    placed: list[GridMeeting] = field(default_factory=list)
    unscheduled: list[GridMeeting] = field(default_factory=list)
    schedule: ScheduleFigures | None = None
    breaks: list[tuple[str, str]] = field(default_factory=list)
    """Each participant with breaks between their meetings: their name, the breaks."""
    started: bool = False
    """The first session has started: attendance can be recorded."""
    over: bool = True
    """The event has ended: hosts are no longer taken."""


async def matchmaking_view(
    session: AsyncSession, row: Mission, settings: Settings, now: datetime | None = None
) -> MatchmakingView:
    now = now or datetime.now(UTC)
    file = MissionFile.model_validate(row.file)
    event, phase = file.matchmaking, Phase(row.phase)
    if event is None:
        return MatchmakingView(mission=row, phase=phase)
    zone = event.timezone
    meetings = await grid_meetings(session, row.id, event)
    placed = [m for m in meetings if m.slot is not None]
    return MatchmakingView(
        mission=row,
        event=event,
        phase=phase,
        instants=_instants(event),
        coming=_coming(file, event) if phase in BEFORE_MATCHMAKING else None,
        requests_close=describe(event.requests_deadline, zone),
        slot_example=slots_of(event)[0].id,
        hosts=await host_links(session, row, settings),
        requests=await _requests(session, row.id, zone),
        slots=_grid(event, placed) if placed else [],
        tables=[place_of(event.tables, n) for n in range(1, table_count(event.tables) + 1)],
        remote=any(m.table is None for m in placed),
        table_names={
            table_id: place_of(event.tables, number).name
            for table_id, number in table_numbers(event.tables).items()
        },
        placed=placed,
        unscheduled=await _unscheduled(session, row.id, meetings),
        schedule=await latest_schedule(session, row.id),
        breaks=await _breaks(session, row.id, event) if placed else [],
        started=now >= event.sessions[0].start,
        over=now >= event.ends_at,
    )


def _instants(event: Matchmaking) -> list[tuple[str, str]]:
    zone = event.timezone
    lines = [
        ("Meeting requests open", describe(event.requests_open_at, zone)),
        ("Meeting requests close", describe(event.requests_deadline, zone)),
    ]
    for number, session in enumerate(event.sessions, start=1):
        lines.append(
            (
                f"Session {number}",
                f"{describe(session.start, zone)} to {describe(session.end, zone)}",
            )
        )
    return lines


def _coming(file: MissionFile, event: Matchmaking) -> str:
    lock = describe(file.selection.delegation_lock, file.timezone)
    opens = describe(event.requests_open_at, event.timezone)
    return (
        f"Matchmaking comes once the delegation locks, planned for {lock}. Hosts can be loaded "
        f"now; meeting requests open on {opens}, and the schedule is placed when they close."
    )


async def _unscheduled(
    session: AsyncSession, mission_id: str, meetings: Sequence[GridMeeting]
) -> list[GridMeeting]:
    """The meetings left out, each with the scheduler's reason; it names participants by id,
    the page by name."""
    names = {
        str(pid): name for pid, name in (await organisation_names(session, mission_id)).items()
    }

    def named(reason: str) -> str:
        return PARTICIPANT_ID.sub(lambda found: names.get(found[0], found[0]), reason)

    return [
        m.model_copy(update={"unscheduled_reason": named(m.unscheduled_reason)})
        for m in meetings
        if m.slot is None and m.unscheduled_reason
    ]


async def _breaks(
    session: AsyncSession, mission_id: str, event: Matchmaking
) -> list[tuple[str, str]]:
    """The breaks as each participant's agenda (and calendar file) says them."""
    people = {p.id: p for p in await participants.everyone(session, mission_id)}
    slots = slots_of(event)
    found = [
        (mine.participant_name, agenda.agenda_breaks(mine.items, slots))
        for mine in (await participants.agendas(session, mission_id, event, people)).values()
    ]
    return sorted(
        (name, agenda.breaks_text(spans, event.timezone)) for name, spans in found if spans
    )


async def _requests(session: AsyncSession, mission_id: str, zone: str) -> list[RequestLine]:
    names = await organisation_names(session, mission_id)
    rows = (
        await session.exec(
            select(Meeting)
            .where(Meeting.mission_id == mission_id)
            .order_by(col(Meeting.requested_at))
        )
    ).all()
    return [
        RequestLine(
            asked_by=names.get(m.requester_id, "?"),
            asked_by_side=m.requester_kind,
            asked=names.get(m.invitee_id, "?"),
            asked_side=m.invitee_kind,
            priority=m.priority,
            status=m.status,
            requested=describe(m.requested_at, zone),
        )
        for m in rows
    ]


def _grid(event: Matchmaking, placed: Sequence[GridMeeting]) -> list[SlotRow]:
    at = {(m.slot, m.table): m for m in placed}
    rows = []
    previous = 0
    for slot in slots_of(event):
        rows.append(
            SlotRow(
                slot=slot,
                when=describe(slot.start, event.timezone),
                first_of_session=slot.session != previous,
                cells=[
                    at.get((slot.id, table)) for table in range(1, table_count(event.tables) + 1)
                ],
                remote=[m for m in placed if m.slot == slot.id and m.table is None],
            )
        )
        previous = slot.session
    return rows
