"""A mission's emails: who they come from, who answers them, and what every template knows.

Activities call `post` inside the transaction that causes the message, so the email is queued
exactly when the change it reports is written, and never otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.domain.access import access_token
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.languages import localized
from missionflow.runtime.mail import outbox
from missionflow.runtime.models import OutboxMessage
from missionflow.runtime.settings import Settings


@dataclass(frozen=True, slots=True)
class Sender:
    """Messages come from the organiser (by name) and replies go to the coordinators."""

    from_name: str
    reply_to: list[str]


def sender_for(mission: MissionFile, settings: Settings) -> Sender:
    return Sender(
        from_name=mission.organiser,
        reply_to=[str(person.email) for person in mission.coordinators],
    )


def mission_context(mission: MissionFile, language: str | None = None) -> dict[str, Any]:
    """What every template knows of the mission, its texts in `language`."""
    return {
        "id": mission.id,
        "title": localized(mission.title, language),
        "organiser": mission.organiser,
        "destination": mission.destination,
        "timezone": mission.timezone,
        "coordinators": [{"name": p.name, "email": str(p.email)} for p in mission.coordinators],
    }


def coordinators_language(mission: MissionFile) -> str:
    """The language every email to the coordinators is written in: the mission's default (the
    first of its `languages`). Coordinators have no language of their own yet: the mission file
    names them without one, so all of them read the same language."""
    return mission.languages[0]


def apply_url(settings: Settings, mission_id: str) -> str:
    return f"{settings.base_url}/missions/{mission_id}/apply"


def private_url(settings: Settings, mission_id: str, application_id: uuid.UUID) -> str:
    token = access_token(settings.link_secret(), application_id)
    return f"{settings.base_url}/missions/{mission_id}/applications/{application_id}?token={token}"


def visits_url(settings: Settings, mission_id: str, application_id: uuid.UUID) -> str:
    """A delegate's page of the visits, where they take or give up places."""
    token = access_token(settings.link_secret(), application_id)
    return (
        f"{settings.base_url}/missions/{mission_id}/visits?delegate={application_id}&token={token}"
    )


def participant_url(
    settings: Settings, mission_id: str, participant_id: uuid.UUID, *, host: bool
) -> str:
    """A matchmaking participant's page: their profile and their meetings, to answer requests.
    A delegate's link carries their application's token, a host's its own."""
    kind = "host" if host else "application"
    token = access_token(settings.link_secret(), participant_id, kind=kind)
    return f"{settings.base_url}/missions/{mission_id}/participants/{participant_id}?token={token}"


def feedback_url(
    settings: Settings, mission_id: str, respondent_id: uuid.UUID, *, host: bool
) -> str:
    """The feedback form of a delegate (by their application's token) or a host (by its own):
    the token alone says who answers, so the link carries no id."""
    kind = "host" if host else "application"
    token = access_token(settings.link_secret(), respondent_id, kind=kind)
    return f"{settings.base_url}/missions/{mission_id}/feedback?token={token}"


def follow_up_url(
    settings: Settings, mission_id: str, application_id: uuid.UUID, *, survey: int
) -> str:
    """A delegate's form for follow-up survey `survey` (from 1), by their application's token."""
    token = access_token(settings.link_secret(), application_id)
    return f"{settings.base_url}/missions/{mission_id}/follow-up?token={token}&survey={survey}"


async def post(
    session: AsyncSession, mission: MissionFile, settings: Settings, **message: Any
) -> OutboxMessage | None:
    """Queue one message of `mission` (see `compose`) in the caller's transaction; its `key`
    makes it happen once. None: the recipient was erased (`outbox.add_all`)."""
    return await outbox.add(session, compose(mission, settings, **message))


def compose(
    mission: MissionFile,
    settings: Settings,
    *,
    template: str,
    recipient: str,
    recipient_name: str | None,
    context: dict[str, Any],
    key: str,
    application_id: uuid.UUID | None = None,
    reminder: bool = False,
    attachments: Sequence[outbox.Attachment] = (),
    language: str | None = None,
) -> OutboxMessage:
    """One message of `mission`, rendered and built but not yet queued (see `outbox.compose`).

    It speaks `language` (the recipient's, e.g. the one they applied in) when the mission does,
    else the mission's default language.
    """
    if language not in mission.languages:
        language = mission.languages[0]
    sender = sender_for(mission, settings)
    return outbox.compose(
        mission_id=mission.id,
        template=template,
        recipient=recipient,
        recipient_name=recipient_name,
        context={
            "mission": mission_context(mission, language),
            "recipient_name": recipient_name,
            "language": language,
            **context,
        },
        idempotency_key=f"{mission.id}:{key}",
        application_id=application_id,
        reply_to=sender.reply_to,
        from_name=sender.from_name,
        auto_submitted=reminder,
        sender=settings.mail_from,
        now=datetime.now(UTC),
        attachments=attachments,
    )
