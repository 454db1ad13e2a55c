"""Sending a one-time sign-in link by email (`workflows.sign_in_link` runs it with retries).

The link belongs to no mission, so it does not go through a mission's outbox: the activity
sends its one message itself, over the same relay (`activities.email.connect_smtp`). A retry may
send it again if the relay took it but its answer was lost (SMTP's own ambiguity); a second
copy of the same link is harmless, since only one use of it signs in. A retry that comes after
the link was used or expired sends nothing.
"""

from __future__ import annotations

import socket
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import SMTPUTF8
from email.utils import format_datetime, parseaddr
from typing import Any

from aiosmtplib import SMTPResponseException
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.email import connect_smtp
from missionflow.domain.sign_in_links import SignInLinkEmail
from missionflow.runtime.db import sessions
from missionflow.runtime.mail.message import one_line
from missionflow.runtime.mail.templates import environment
from missionflow.runtime.settings import Settings
from missionflow.runtime.sign_in_links import link_email_sendable

TEMPLATE = "sign_in_link"
"""Also its `X-Missionflow-Template` header, as for every message missionflow sends."""


def _block(name: str, context: dict[str, Any]) -> str:
    template = environment.get_template(f"{TEMPLATE}.txt")
    return "".join(template.blocks[name](template.new_context(context)))


def compose(email: SignInLinkEmail, settings: Settings) -> EmailMessage:
    """The message, plain text and in English, like the console it leads to."""
    context = {
        "name": email.name,
        "url": email.url,
        "expires_at": email.expires_at.astimezone(UTC),
        "console_url": f"{settings.base_url}/console/sign-in",
    }
    message = EmailMessage(policy=SMTP_POLICY if email.email.isascii() else SMTPUTF8)
    sender_name, sender_address = parseaddr(settings.mail_from)
    message["Subject"] = " ".join(_block("subject", context).split())
    message["From"] = Address(one_line(sender_name), addr_spec=sender_address)
    message["To"] = Address(one_line(email.name), addr_spec=email.email)
    message["Date"] = format_datetime(datetime.now(UTC))
    # The same id on every retry, so a relay or client that sees two copies can tell.
    message["Message-ID"] = f"<{TEMPLATE}.{email.link_id}@{socket.gethostname()}>"
    message["X-Missionflow-Template"] = TEMPLATE
    message.set_content(_block("body", context).strip() + "\n")
    return message


class SignInLinkActivities:
    def __init__(self, engine: AsyncEngine, settings: Settings) -> None:
        self._sessions = sessions(engine)
        self._settings = settings

    @activity.defn(name="send_sign_in_link")
    async def send_sign_in_link(self, email: SignInLinkEmail) -> bool:
        """Send the link's email; False when the link was used or expired before it went.

        Raises:
            ApplicationError: non-retryable, when the relay refuses the message for good (5xx).
            SMTPException, OSError: the relay is unreachable or failed for now; retried.
        """
        async with self._sessions() as session:
            if not await link_email_sendable(session, email.link_id, datetime.now(UTC)):
                activity.logger.info("sign-in link %s used or expired: not sent", email.link_id)
                return False
        message = compose(email, self._settings)
        smtp = await connect_smtp(self._settings)
        try:
            await smtp.send_message(message)
        except SMTPResponseException as error:
            if 500 <= error.code < 600:
                raise ApplicationError(
                    f"the relay refused the sign-in link: {error.code} {error.message}",
                    non_retryable=True,
                ) from error
            raise
        finally:
            smtp.close()
        return True
