"""The matchmaking event over HTTP: hosts, the directory, meeting requests and answers, the
agendas and attendance.

Participants act through their private links: a delegate with their application's token, a
host with the token of the host link. Requests and answers go to the mission workflow as
Updates, so "are requests still open?" has one answer, to the second, in the venue's zone.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import col, or_, select

from api.deps import Coordinator, MissionRow, SessionDep, SettingsDep, TemporalDep, is_coordinator
from api.missions import add_hosts, answer_meeting, record_attendance, request_meeting
from missionflow.domain.access import token_matches
from missionflow.domain.instants import describe
from missionflow.domain.matchmaking import agenda
from missionflow.domain.matchmaking.messages import (
    AttendanceInput,
    HostBatch,
    MeetingAnswerInput,
    MeetingRequestInput,
)
from missionflow.domain.matchmaking.rules import (
    DELEGATE,
    HOST,
    HostFileError,
    csv_rows,
    parse_hosts,
    slots_of,
)
from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.selection.scoring import country_name
from missionflow.runtime import participants
from missionflow.runtime.mail.context import participant_url
from missionflow.runtime.models import AgendaSent, Application, Host, Meeting, Mission
from missionflow.runtime.participants import Participant
from missionflow.runtime.settings import Settings

router = APIRouter(prefix="/missions/{mission_id}", tags=["matchmaking"])

TokenHeader = Annotated[str | None, Header(alias="X-Access-Token")]
TokenQuery = Annotated[str | None, Query(alias="token")]
MAX_HOSTS_BYTES = 2 << 20


class HostLink(BaseModel):
    id: uuid.UUID
    name: str
    country: str
    sector: str
    contact_email: str
    unavailable: list[str]
    private_url: str


class HostsAdded(BaseModel):
    added: int
    updated: int
    hosts: list[HostLink]


class Profile(BaseModel):
    id: uuid.UUID
    side: str
    name: str
    country: str
    country_name: str
    line: str
    description: str | None


class MeetingBody(BaseModel):
    from_: Annotated[uuid.UUID, Field(alias="from")]
    to: uuid.UUID
    priority: Annotated[int, Field(ge=1, le=3)] = 2
    note: Annotated[str, Field(max_length=1000)] | None = None


class MeetingView(BaseModel):
    meeting_id: uuid.UUID
    status: str
    merged: bool = False


class AttendanceBody(BaseModel):
    attendance: Annotated[str, Field(pattern="^(held|no_show)$")]


@router.post(
    "/hosts",
    response_model=HostsAdded,
    dependencies=[Coordinator],
    summary="Load hosts (JSON list or CSV); each gets a private link",
)
async def load_hosts(
    mission: MissionRow,
    request: Request,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
) -> HostsAdded:
    event = _event(mission)
    rows = await _host_rows(request)
    try:
        hosts = parse_hosts(rows, slots_of(event))
    except HostFileError as error:
        raise RequestValidationError(error.errors) from None
    loaded = await add_hosts(
        client, mission.id, HostBatch(hosts=[h.model_dump(mode="json") for h in hosts])
    )
    return HostsAdded(
        added=loaded.added,
        updated=loaded.updated,
        hosts=await _host_links(session, mission, settings),
    )


@router.get(
    "/hosts", response_model=list[HostLink], dependencies=[Coordinator], summary="Every host"
)
async def list_hosts(
    mission: MissionRow, session: SessionDep, settings: SettingsDep
) -> list[HostLink]:
    _event(mission)
    return await _host_links(session, mission, settings)


class MeetingLine(BaseModel):
    meeting_id: uuid.UUID
    with_id: uuid.UUID
    with_name: str
    asked_by_me: bool
    status: str
    priority: int
    note: str | None
    start: datetime | None
    table: int | None


class ParticipantPage(BaseModel):
    profile: Profile
    meetings: list[MeetingLine]


@router.get(
    "/participants/{participant_id}",
    response_model=ParticipantPage,
    summary="A participant's page: profile and meetings (private link, or coordinator)",
)
async def participant_page(
    mission: MissionRow,
    participant_id: uuid.UUID,
    http: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: TokenQuery = None,
    header_token: TokenHeader = None,
) -> ParticipantPage:
    """Where the emails' links lead: the requests to answer (POST
    .../meeting-requests/{meeting_id}/accept or decline, with the same token) and the schedule."""
    _event(mission)
    if not is_coordinator(http):
        await _side(session, settings, mission.id, participant_id, header_token or token)
    person = await participants.find(session, mission.id, participant_id)
    if person is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such participant.")
    profile = _profile(person)
    names = await _names(session, mission.id)
    rows = (
        await session.exec(
            select(Meeting)
            .where(Meeting.mission_id == mission.id)
            .where(
                or_(Meeting.requester_id == participant_id, Meeting.invitee_id == participant_id)
            )
            .order_by(col(Meeting.requested_at))
        )
    ).all()
    return ParticipantPage(
        profile=profile,
        meetings=[
            MeetingLine(
                meeting_id=m.id,
                with_id=other,
                with_name=names.get(other, ""),
                asked_by_me=m.requester_id == participant_id,
                status=m.status,
                priority=m.priority,
                note=m.note,
                start=m.starts_at,
                table=m.table,
            )
            for m in rows
            for other in [m.invitee_id if m.requester_id == participant_id else m.requester_id]
        ],
    )


@router.get("/directory", response_model=list[Profile], summary="Profiles of the other side")
async def directory(
    mission: MissionRow,
    session: SessionDep,
    request: Request,
    settings: SettingsDep,
    participant: Annotated[
        uuid.UUID | None, Query(description="Who is looking (with ?token=)")
    ] = None,
    token: TokenQuery = None,
    header_token: TokenHeader = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in name, sector, country")
    ] = None,
) -> list[Profile]:
    """Delegates see the hosts and hosts the delegates; coordinators see both."""
    _event(mission)
    side = None
    if not is_coordinator(request):
        if participant is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such participant for this link.")
        side = await _side(session, settings, mission.id, participant, header_token or token)
    profiles = [
        _profile(person)
        for person in await participants.everyone(session, mission.id)
        if side is None or person.kind != side
    ]
    if q:
        words = q.casefold().split()
        profiles = [p for p in profiles if all(w in _searchable(p) for w in words)]
    return sorted(profiles, key=lambda p: (p.side, p.name.casefold()))


@router.post(
    "/meeting-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=MeetingView,
    summary="Ask to meet someone of the other side (by private link, or as a coordinator)",
    responses={409: {"description": "Requests are not open, or the pair was declined"}},
)
async def request(
    mission: MissionRow,
    body: MeetingBody,
    http: Request,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    token: TokenQuery = None,
    header_token: TokenHeader = None,
) -> JSONResponse:
    _event(mission)
    if not is_coordinator(http):
        await _side(session, settings, mission.id, body.from_, header_token or token)
    requester_kind = await _kind(session, mission.id, body.from_)
    invitee_kind = await _kind(session, mission.id, body.to, field="to")
    receipt = await request_meeting(
        client,
        mission.id,
        MeetingRequestInput(
            request_id=uuid.uuid4(),
            requester_id=body.from_,
            requester_kind=requester_kind,
            invitee_id=body.to,
            invitee_kind=invitee_kind,
            priority=body.priority,
            note=body.note,
        ),
    )
    view = MeetingView(meeting_id=receipt.meeting_id, status=receipt.status, merged=receipt.merged)
    code = status.HTTP_200_OK if receipt.merged else status.HTTP_201_CREATED
    return JSONResponse(view.model_dump(mode="json"), code)


@router.post(
    "/meeting-requests/{meeting_id}/{action}",
    response_model=MeetingView,
    summary="Accept or decline a request made to you; cancel a meeting you are in",
    responses={409: {"description": "Already answered, or too late"}},
)
async def answer(
    mission: MissionRow,
    meeting_id: uuid.UUID,
    action: str,
    http: Request,
    session: SessionDep,
    client: TemporalDep,
    settings: SettingsDep,
    token: TokenQuery = None,
    header_token: TokenHeader = None,
) -> MeetingView:
    if action not in ("accept", "decline", "cancel"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Actions are accept, decline and cancel.")
    meeting = await session.get(Meeting, meeting_id)
    if meeting is None or meeting.mission_id != mission.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such meeting request.")
    coordinator = is_coordinator(http)
    answering = meeting.invitee_id
    if not coordinator:
        given = header_token or token
        parties = [(meeting.invitee_id, meeting.invitee_kind)]
        if action == "cancel":
            parties.append((meeting.requester_id, meeting.requester_kind))
        matches = [pid for pid, kind in parties if _token_ok(settings, pid, kind, given)]
        if not matches:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "No such meeting request for this link.")
        answering = matches[0]
    receipt = await answer_meeting(
        client,
        mission.id,
        MeetingAnswerInput(
            meeting_id=meeting_id,
            participant_id=answering,
            action=action,
            by_coordinator=coordinator,
        ),
    )
    return MeetingView(meeting_id=receipt.meeting_id, status=receipt.status)


@router.get(
    "/agenda",
    dependencies=[Coordinator],
    summary="The whole grid: every meeting with its slot and table (JSON, or CSV)",
)
async def grid(
    mission: MissionRow, session: SessionDep, accept: Annotated[str | None, Header()] = None
) -> Response:
    event = _event(mission)
    names = await _names(session, mission.id)
    rows = (
        await session.exec(
            select(Meeting)
            .where(Meeting.mission_id == mission.id)
            .where(col(Meeting.status) == "accepted")
            .order_by(col(Meeting.starts_at), col(Meeting.table))
        )
    ).all()
    grid_rows = [
        {
            "meeting_id": str(m.id),
            "slot": m.slot_id,
            "start": m.starts_at.isoformat() if m.starts_at else None,
            "local": _local_text(m.starts_at, event),
            "table": m.table,
            "delegate": names.get(m.requester_id if m.requester_kind == DELEGATE else m.invitee_id),
            "host": names.get(m.invitee_id if m.invitee_kind == HOST else m.requester_id),
            "priority": m.priority,
            "attendance": m.attendance,
            "unscheduled_reason": m.unscheduled_reason,
        }
        for m in rows
    ]
    if accept and "text/csv" in accept:
        out = io.StringIO()
        columns = list(grid_rows[0]) if grid_rows else ["meeting_id"]
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(grid_rows)
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{mission.id}-agenda.csv"'},
        )
    return JSONResponse({"timezone": event.timezone, "meetings": grid_rows})


@router.get(
    "/participants/{participant_id}/agenda.ics",
    summary="A participant's agenda as a calendar file (private link, or coordinator)",
)
async def agenda_ics(
    mission: MissionRow,
    participant_id: uuid.UUID,
    http: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: TokenQuery = None,
    header_token: TokenHeader = None,
) -> Response:
    event = _event(mission)
    if not is_coordinator(http):
        await _side(session, settings, mission.id, participant_id, header_token or token)
    people = {p.id: p for p in await participants.everyone(session, mission.id)}
    if participant_id not in people:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such participant.")
    mine = (await participants.agendas(session, mission.id, event, people))[participant_id]
    if not mine.items:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No meeting is scheduled for you yet.")
    sent = await session.get(AgendaSent, (mission.id, participant_id))
    file = MissionFile.model_validate(mission.file)
    calendar = agenda.ics(
        mine,
        sequence=sent.sequence if sent else 0,
        organiser_email=str(file.coordinators[0].email),
        domain=settings.mail_from.rsplit("@", 1)[-1].strip("> "),
    )
    return Response(
        calendar,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{mission.id}-agenda.ics"'},
    )


@router.post(
    "/meetings/{meeting_id}/attendance",
    response_model=MeetingView,
    dependencies=[Coordinator],
    summary="Mark a scheduled meeting held or no-show (for the report)",
)
async def attendance(
    mission: MissionRow, meeting_id: uuid.UUID, body: AttendanceBody, client: TemporalDep
) -> MeetingView:
    receipt = await record_attendance(
        client, mission.id, AttendanceInput(meeting_id=meeting_id, attendance=body.attendance)
    )
    return MeetingView(meeting_id=receipt.meeting_id, status=receipt.status)


def _event(mission: Mission) -> Matchmaking:
    event = MissionFile.model_validate(mission.file).matchmaking
    if event is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "This mission has no matchmaking event.")
    return event


async def _host_rows(request: Request) -> list[dict[str, Any]]:
    body = await request.body()
    if len(body) > MAX_HOSTS_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, "At most 2 MiB of hosts.")
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type in ("text/csv", "application/csv"):
        try:
            return csv_rows(body)
        except HostFileError as error:
            raise RequestValidationError(error.errors) from None
    if media_type != "application/json":
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "Send hosts as application/json or text/csv."
        )
    try:
        document = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": f"The body is not valid JSON: {error}", "type": "json"}]
        ) from None
    if isinstance(document, dict) and isinstance(document.get("hosts"), list):
        document = document["hosts"]
    if not isinstance(document, list) or not all(isinstance(h, dict) for h in document):
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "Send a list of hosts.", "type": "hosts"}]
        )
    return document


async def _host_links(session: SessionDep, mission: Mission, settings: Settings) -> list[HostLink]:
    hosts = (
        await session.exec(
            select(Host).where(Host.mission_id == mission.id).order_by(col(Host.name_key))
        )
    ).all()
    return [
        HostLink(
            id=h.id,
            name=h.name,
            country=h.country,
            sector=h.sector,
            contact_email=h.contact_email,
            unavailable=h.unavailable,
            private_url=participant_url(settings, mission.id, h.id, host=True),
        )
        for h in hosts
    ]


async def _side(
    session: SessionDep, settings: Settings, mission_id: str, pid: uuid.UUID, token: str | None
) -> str:
    """The side of the participant this token opens; 404 for anyone else."""
    person = await participants.find(session, mission_id, pid)
    if person is None or not _token_ok(settings, pid, person.kind, token):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such participant for this link.")
    return person.kind


async def _kind(
    session: SessionDep, mission_id: str, pid: uuid.UUID, *, field: str = "from"
) -> str:
    person = await participants.find(session, mission_id, pid)
    if person is None:
        raise RequestValidationError(
            [
                {
                    "loc": ("body", field),
                    "msg": "No participant with this id in this mission.",
                    "type": "unknown",
                }
            ]
        )
    return person.kind


def _token_ok(settings: Settings, pid: uuid.UUID, kind: str, token: str | None) -> bool:
    return token_matches(
        settings.link_secret(), pid, token, kind="host" if kind == HOST else "application"
    )


async def _names(session: SessionDep, mission_id: str) -> dict[uuid.UUID, str]:
    hosts = (
        await session.exec(select(Host.id, Host.name).where(Host.mission_id == mission_id))
    ).all()
    apps = (
        await session.exec(
            select(Application.id, Application.organisation).where(
                Application.mission_id == mission_id
            )
        )
    ).all()
    return {**dict(apps), **dict(hosts)}


def _searchable(profile: Profile) -> str:
    text = f"{profile.name} {profile.line} {profile.country} {profile.country_name}"
    return f"{text} {profile.description or ''}".casefold()


def _profile(person: Participant) -> Profile:
    return Profile(
        id=person.id,
        side=person.kind,
        name=person.name,
        country=person.country,
        country_name=country_name(person.country),
        line=person.line,
        description=person.description,
    )


def _local_text(instant: datetime | None, event: Matchmaking) -> str | None:
    return None if instant is None else describe(instant.astimezone(UTC), event.timezone)
