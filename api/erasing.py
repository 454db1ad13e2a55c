"""Withdraw, then erase: what a coordinator's erasure and an applicant's "delete my data"
share. The withdrawal goes through the mission workflow first, so a seat or a place on a visit
the person held moves on to the waitlist exactly as for any withdrawal; only then are the rows
anonymised (`missionflow.runtime.erasure`)."""

from __future__ import annotations

from collections import Counter

from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.missions import withdraw_application
from api.updates import Refused
from missionflow.domain.call.applications import ApplicationStatus
from missionflow.domain.call.messages import ApplicationWithdrawal
from missionflow.domain.mission.phases import Phase
from missionflow.domain.refusals import CONFLICT
from missionflow.runtime.erasure import erase_application
from missionflow.runtime.models import Application, Mission


async def withdraw_then_erase(
    session: AsyncSession, client: Client, row: Application, *, by: str, reason: str
) -> Counter[str] | None:
    """Erase `row`'s person, withdrawing the application first while the mission runs.

    Returns what was erased, as counts; None if it was erased before.
    """
    mission_id, application_id = row.mission_id, row.id
    mission = await session.get(Mission, mission_id)
    active = row.erased_at is None and row.status != ApplicationStatus.WITHDRAWN
    if active and mission is not None and not Phase(mission.phase).is_terminal:
        try:
            await withdraw_application(
                client, mission_id, ApplicationWithdrawal(application_id=application_id)
            )
        except Refused as refusal:
            if refusal.kind != CONFLICT:  # CONFLICT: the mission has just ended, nothing moves on
                raise
    session.expire_all()  # the workflow's activity wrote the withdrawal meanwhile
    try:
        erased = await erase_application(session, mission_id, application_id, by=by, reason=reason)
        await session.commit()
    except BaseException:
        await session.rollback()
        raise
    return erased
