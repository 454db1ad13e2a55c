"""GET /healthz: can the API do its work right now, and which dependency is down if not?

Each of the database, Temporal and the SMTP relay answers "ok" or the reason it did not.

- 200 `"status": "ok"`: all three answer.
- 200 `"status": "degraded"`: the database and Temporal answer, the SMTP relay does not. The API
  still takes applications and steers missions: every email waits in the outbox and leaves once
  the relay is back. A 503 here would have load balancers and orchestrators take the API out of
  service (or restart it) over an outage it cannot fix, and turn a mail outage into an intake one.
- 503 `"status": "unavailable"`: the database or Temporal does not answer; writes fail.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable

from aiosmtplib import SMTP
from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from missionflow.runtime.db import ping
from missionflow.runtime.settings import Settings

router = APIRouter(tags=["health"])

CHECK_SECONDS = 3.0


@router.get(
    "/healthz",
    summary="200 when the API reaches Temporal and the database (degraded without SMTP)",
)
async def healthz(request: Request) -> JSONResponse:
    database, temporal, smtp = await asyncio.gather(
        _check(ping(request.app.state.engine)),
        _check(_temporal(request)),
        _check(smtp_answers(request.app.state.settings)),
    )
    serving = database == temporal == "ok"
    state = ("ok" if smtp == "ok" else "degraded") if serving else "unavailable"
    return JSONResponse(
        {"status": state, "database": database, "temporal": temporal, "smtp": smtp},
        status.HTTP_200_OK if serving else status.HTTP_503_SERVICE_UNAVAILABLE,
    )


async def _temporal(request: Request) -> None:
    client = await request.app.state.temporal.client()
    if not await client.service_client.check_health():
        raise RuntimeError("Temporal answered that it is not serving")


async def smtp_answers(settings: Settings) -> None:
    """Connect to the configured relay (unset: the dev stack's sink), say EHLO and NOOP, quit.

    Raises:
        Whatever the connection or the server's answer raised.
    """
    smtp = SMTP(
        hostname=settings.smtp_host or "127.0.0.1",
        port=settings.smtp_port,
        start_tls=False,
        timeout=CHECK_SECONDS,
        local_hostname=socket.gethostname(),
    )
    await smtp.connect()
    try:
        await smtp.ehlo()
        await smtp.noop()
    finally:
        try:
            await smtp.quit()
        except Exception:  # the answer is in; a relay that hangs up first is no failure
            smtp.close()


async def _check(probe: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_SECONDS)
    except TimeoutError:
        return f"no answer within {CHECK_SECONDS:g} s"
    except Exception as error:  # a health check reports every failure, whatever its kind
        return f"{type(error).__name__}: {error}"
    return "ok"
