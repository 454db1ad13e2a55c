"""When a failed email may be sent again: the rule the API checks before it asks the mission,
so a resend that cannot be taken reaches no workflow, and that the activity applies again in
the statement that moves the row, where two resends at once are told apart."""

from __future__ import annotations

from missionflow.domain.erasure import is_erased_address

FAILED = "failed"


def resend_refusal(status: str, recipient: str) -> str | None:
    """Why an email in this state cannot be sent again, or None when it can."""
    if is_erased_address(recipient):
        return "The recipient's personal data was erased: this email cannot be sent."
    if status != FAILED:
        return f"This email is {status} already: only a failed one is sent again."
    return None
