"""GET /healthz: is the API able to reach Temporal and the database right now?"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse

from missionflow.runtime.db import ping

router = APIRouter(tags=["health"])

CHECK_SECONDS = 3.0


@router.get("/healthz", summary="200 when the API reaches Temporal and the database")
async def healthz(request: Request) -> JSONResponse:
    database = await _check(ping(request.app.state.engine))
    temporal = await _check(_temporal(request))
    healthy = database == temporal == "ok"
    return JSONResponse(
        {"status": "ok" if healthy else "unavailable", "database": database, "temporal": temporal},
        status.HTTP_200_OK if healthy else status.HTTP_503_SERVICE_UNAVAILABLE,
    )


async def _temporal(request: Request) -> None:
    client = await request.app.state.temporal.client()
    if not await client.service_client.check_health():
        raise RuntimeError("Temporal answered that it is not serving")


async def _check(probe: object) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_SECONDS)  # type: ignore[arg-type]
    except TimeoutError:
        return f"no answer within {CHECK_SECONDS:g} s"
    except Exception as error:  # a health check reports every failure, whatever its kind
        return f"{type(error).__name__}: {error}"
    return "ok"
