"""The email that tells a participant of a meeting request, whoever made it: another participant
by hand (`activities.matchmaking`) or their preference list at its deadline
(`activities.preferences`). One function, so a request reads the same however it was made."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.matchmaking.rules import HOST
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime.i18n import country
from missionflow.runtime.mail import context as mail
from missionflow.runtime.models import Meeting
from missionflow.runtime.participants import Participant
from missionflow.runtime.settings import Settings


async def tell_request(
    session: AsyncSession,
    settings: Settings,
    mission: MissionFile,
    meeting: Meeting,
    requester: Participant,
    invitee: Participant,
) -> None:
    """Post the request to its invitee, in the caller's transaction (once per meeting)."""
    event = mission.matchmaking
    assert event is not None
    await mail.post(
        session,
        mission,
        settings,
        template="meeting_request",
        recipient=invitee.contact_email,
        recipient_name=invitee.contact_name,
        context={
            "requester": {
                "name": requester.name,
                "country": country(requester.country, invitee.language),
                "line": requester.line,
            },
            "priority": meeting.priority,
            "note": meeting.note,
            "answer_url": mail.participant_url(
                settings, mission.id, invitee.id, host=invitee.kind == HOST
            ),
            "requests_deadline": event.requests_deadline,
            "event": event.event,
            "event_timezone": event.timezone,
        },
        key=f"meeting_request:{meeting.id}",
        language=invitee.language,
    )
