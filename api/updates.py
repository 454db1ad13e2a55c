"""How the API asks Temporal: an Update sent again while the answer is "not now", a refusal as
an exception the API answers with its status, and a Temporal known to be down answered at once.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio.api.errordetails.v1 import WorkflowNotReadyFailure
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from api.session import release
from missionflow.domain.mission.file import workflow_id_for
from missionflow.domain.refusals import BUSY, CONFLICT, INVALID, NOT_FOUND

T = TypeVar("T")


class Unavailable(Exception):
    """Temporal could not answer; the API says 503 and the caller may retry."""


class Refused(Exception):
    """The mission refused a request: `kind` is CONFLICT (409), INVALID (422) or NOT_FOUND."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        field: str | None = None,
        said: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.field = field
        self.said = said
        """The same in words a page translates (`missionflow.domain.refusals.saying`)."""


UPDATE_PATIENCE = 30.0
"""Seconds a request keeps trying before it answers 503: about what an HTTP client waits."""

RETRY_SPACING = (0.02, 0.25)
"""The first and the longest wait between two tries. A handover takes about a second; spacing
the tries up to a second left applicants waiting up to a second more once the next run took
Updates, while a refused try costs the server little."""


async def send_update(
    client: Client,
    mission_id: str,
    send: Callable[[WorkflowHandle[Any, Any]], Awaitable[T]],
) -> T:
    """Send an Update, trying again while Temporal answers "not now" rather than yes or no.

    Three answers are load, not a decision, so the request waits and tries again rather than
    failing a coordinator or an applicant: the server's cap on in-flight Updates per workflow
    (RESOURCE_EXHAUSTED on the eleventh), a run handing over to the next (BUSY from a validator),
    and an Update the server aborted because the workflow task carrying it was refused
    (WorkflowNotReady). That last one happens when a request races the completion of another
    workflow task; the aborted Update was never applied, so sending it again is safe.
    """
    await release()
    await reachable(client)
    handle = client.get_workflow_handle(workflow_id_for(mission_id))
    delay, longest = RETRY_SPACING
    loop = asyncio.get_running_loop()
    give_up = loop.time() + UPDATE_PATIENCE
    while loop.time() < give_up:
        try:
            return await send(handle)
        except WorkflowUpdateFailedError as error:
            if not _busy(error):
                raise _refusal(error) from error
        except RPCError as error:
            if error.status != RPCStatusCode.RESOURCE_EXHAUSTED and not _aborted(error):
                if error.status == RPCStatusCode.NOT_FOUND or "already completed" in error.message:
                    raise Refused(
                        "The mission has ended; it takes no more requests.", kind=CONFLICT
                    ) from error
                note_unreachable(client, error)
                raise Unavailable(f"Temporal did not take the request: {error.message}") from error
        await asyncio.sleep(delay)
        delay = min(delay * 2, longest)
    raise Unavailable("The mission is busy; try again in a moment.")


PROBE_TIMEOUT = timedelta(seconds=1)
"""How long the quick check of a Temporal found unreachable waits for its answer."""

_unreachable: weakref.WeakSet[Client] = weakref.WeakSet()
"""Clients whose last request found Temporal unreachable (UNAVAILABLE once the client's own
retries, about 10 s of them, were spent)."""


async def reachable(client: Client) -> None:
    """Answer at once while Temporal is known to be down, rather than spend the client's retries
    again on every request: a rush of applicants queued behind one another would wait 10 s per
    Update in turn (measured: 30 applicants, the last 503 after 27 s). A quick health check,
    not retried, tells when it is back; then requests go through as before."""
    if client not in _unreachable:
        return
    try:
        back = await client.service_client.check_health(timeout=PROBE_TIMEOUT)
    except RPCError as error:
        raise Unavailable(f"Temporal is not reachable: {error.message}") from error
    if not back:
        raise Unavailable("Temporal is not serving.")
    _unreachable.discard(client)


def note_unreachable(client: Client, error: RPCError) -> None:
    if error.status == RPCStatusCode.UNAVAILABLE:
        _unreachable.add(client)


def _aborted(error: RPCError) -> bool:
    """The server aborted the Update with its workflow task (WorkflowNotReady)."""
    return error.status == RPCStatusCode.FAILED_PRECONDITION and any(
        detail.Is(WorkflowNotReadyFailure.DESCRIPTOR) for detail in error.grpc_status.details
    )


def _busy(error: WorkflowUpdateFailedError) -> bool:
    return isinstance(error.cause, ApplicationError) and error.cause.type == BUSY


def _refusal(error: WorkflowUpdateFailedError) -> Exception:
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type in (CONFLICT, INVALID, NOT_FOUND):
        field = cause.details[0] if cause.details else None
        said = cause.details[1] if len(cause.details) > 1 else None
        return Refused(cause.message, kind=cause.type, field=field, said=said)
    return error
