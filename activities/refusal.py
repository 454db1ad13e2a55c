"""How an activity refuses a request for good: the workflow turns the error's type (a
`missionflow.domain.refusals` kind) and field into the client's 4xx, and a retry would only
refuse again."""

from __future__ import annotations

from temporalio.exceptions import ApplicationError


def refused(message: str, kind: str, field: str | None = None) -> ApplicationError:
    return ApplicationError(message, *([field] if field else []), type=kind, non_retryable=True)
