"""The matchmaking event's schedule: the whole grid for the coordinators, each participant's
agenda as a calendar file, and whether each scheduled meeting was held."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, status
from fastapi.responses import JSONResponse, Response

from api.agenda_grid import grid_meetings, latest_schedule
from api.deps import (
    Coordinator,
    MissionRow,
    PrivateLinkDep,
    SessionDep,
    SettingsDep,
    TemporalDep,
)
from api.missions import record_attendance
from api.reads import matchmaking_event
from api.routes.matchmaking import AttendanceBody, Grid, MeetingView
from api.routes.meetings import participant_side
from missionflow.domain.matchmaking import agenda
from missionflow.domain.matchmaking.messages import AttendanceInput
from missionflow.domain.matchmaking.rules import slots_of
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime import participants
from missionflow.runtime.check_ins import calendar_line
from missionflow.runtime.models import AgendaSent

router = APIRouter(prefix="/missions/{mission_id}", tags=["matchmaking"])


@router.get(
    "/agenda",
    dependencies=[Coordinator],
    summary="The whole grid: every meeting with its slot and table (JSON, or CSV), and the "
    "latest schedule against its bounds",
    responses={
        200: {
            "model": Grid,
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "JSON (the grid and the schedule's figures), or CSV (the grid)",
        }
    },
)
async def grid(
    mission: MissionRow, session: SessionDep, accept: Annotated[str | None, Header()] = None
) -> Response:
    event = matchmaking_event(mission)
    grid_rows = [m.model_dump(mode="json") for m in await grid_meetings(session, mission.id, event)]
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
    figures = await latest_schedule(session, mission.id)
    return JSONResponse(
        {
            "timezone": event.timezone,
            "meetings": grid_rows,
            "schedule": figures.model_dump(mode="json") if figures else None,
        }
    )


@router.get(
    "/participants/{participant_id}/agenda.ics",
    summary="A participant's agenda as a calendar file (private link, or coordinator)",
)
async def agenda_ics(
    mission: MissionRow,
    participant_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    link: PrivateLinkDep,
) -> Response:
    event = matchmaking_event(mission)
    if not link.coordinator:
        await participant_side(session, link, mission.id, participant_id)
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
        note=agenda.breaks_text(agenda.agenda_breaks(mine.items, slots_of(event)), event.timezone),
        check_in=calendar_line(settings, mission.id, participant_id),
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
