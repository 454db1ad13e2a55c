"""One applicant's personal data as a JSON download (GDPR right of access): by their private
link, and by a coordinator answering a request made to them some other way.

Both routes serve the one export `missionflow.runtime.person_data` builds; they differ only in
who may ask and how a refusal reads.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, HTTPException, Request, Response, status
from sqlmodel.ext.asyncio.session import AsyncSession

from api.deps import (
    MissionRow,
    PersonalDataReader,
    PrivateLinkDep,
    SessionDep,
    SettingsDep,
    allows,
)
from api.routes.applications import Permitted, selection_disclosed
from api.routes.audit import actor
from missionflow.domain.people import Action
from missionflow.runtime import audit
from missionflow.runtime.models import Application
from missionflow.runtime.person_data import person_data
from missionflow.runtime.person_data_export import PersonData

router = APIRouter(prefix="/missions/{mission_id}", tags=["personal data"])


@router.get(
    "/applications/{application_id}/data",
    response_model=PersonData,
    summary="Everything the mission keeps about me, as a JSON file (private link)",
    responses={404: {"description": "No such application for this link"}},
)
async def my_data(
    row: Permitted,
    link: PrivateLinkDep,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> PersonData:
    """The applicant's own export. A wrong or missing token gets the 404 every private route
    gives, so the link tells nothing about whether the application exists.

    `Permitted` also lets in whoever may read the application (a viewer, a reviewer it is
    assigned to); the whole record with its contact data is only for the applicant and for
    those who may export it (`READ_PERSONAL_DATA`), as on the coordinators' route."""
    if not (link.opens(row.id) and row.erased_at is None) and not await allows(
        request, Action.READ_PERSONAL_DATA
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such application for this link.")
    disclosed = await selection_disclosed(session, row.mission_id, request)
    return await _export(session, row, settings.base_url, request, response, disclosed=disclosed)


@router.get(
    "/personal-data/{application_id}",
    response_model=PersonData,
    dependencies=[PersonalDataReader],
    summary="Everything the mission keeps about one applicant, as a JSON file (coordinator)",
    responses={404: {"description": "No such application in this mission"}},
)
async def applicant_data(
    mission: MissionRow,
    application_id: uuid.UUID,
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
) -> PersonData:
    """For a coordinator answering an access request that came by email or post."""
    row = await session.get(Application, application_id)
    if row is None or row.mission_id != mission.id:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such application in this mission.")
    return await _export(session, row, settings.base_url, request, response, disclosed=True)


async def _export(
    session: AsyncSession,
    row: Application,
    base_url: str,
    request: Request,
    response: Response,
    *,
    disclosed: bool,
) -> PersonData:
    """The export, offered as a file to save rather than a page to show, and logged: who
    downloaded whose data is what a regulator asks first."""
    data = await person_data(
        session, row, base_url=base_url, disclosed=disclosed, now=datetime.now(UTC)
    )
    audit.record(
        session,
        row.mission_id,
        by=actor(request),
        action=audit.EXPORTED,
        subject=str(row.id),
        detail=f"{len(data.emails)} emails, {len(data.meetings)} meetings",
    )
    await session.commit()
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{row.mission_id}-{row.id}-personal-data.json"'
    )
    return data
