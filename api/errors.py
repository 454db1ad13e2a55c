"""Refusals as HTTP answers: every one a JSON `{"detail": ...}` with the status that fits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.types import ASGIApp, Receive, Scope, Send

from api.missions import MissionExists
from api.updates import Refused, Unavailable
from missionflow.domain.refusals import CONFLICT, NOT_FOUND

RETRY_AFTER = {"Retry-After": "5"}
"""Seconds a client waits before trying again after a 503."""

DATABASE_UNAVAILABLE = (PoolTimeout, OperationalError, InterfaceError)
"""The database cannot serve the request now (every pooled connection busy past the pool's
timeout, the server restarting or out of reach): load or an outage, not a bug, so a 503."""

DATABASE_BUSY = "The database is busy or out of reach; try again in a moment."


class RefuseNul:
    """No id or value here holds a NUL character, and PostgreSQL cannot even compare text with
    one: a path with one names nothing (404), a query value with one is refused at its field
    (422), before any route reads the database with it. Found by fuzzing on PostgreSQL."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if "\x00" in scope["path"]:
                detail: Any = "Nothing here: a path cannot contain a NUL character."
                await JSONResponse({"detail": detail}, status.HTTP_404_NOT_FOUND)(
                    scope, receive, send
                )
                return
            query = scope["query_string"]
            names = (  # parsed only when a NUL is there: every request passes here
                [n for n, v in parse_qsl(query.decode("latin-1")) if "\x00" in n + v]
                if b"%00" in query
                else []
            )
            if names:
                detail = [
                    {
                        "loc": ["query", name],
                        "msg": "A NUL character is not allowed.",
                        "type": "nul",
                    }
                    for name in names
                ]
                await JSONResponse({"detail": detail}, status.HTTP_422_UNPROCESSABLE_CONTENT)(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MissionExists)
    async def _exists(_: Request, error: MissionExists) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status.HTTP_409_CONFLICT)

    @app.exception_handler(Refused)
    async def _refused(_: Request, error: Refused) -> JSONResponse:
        if error.kind == CONFLICT:
            return JSONResponse({"detail": str(error)}, status.HTTP_409_CONFLICT)
        if error.kind == NOT_FOUND:
            return JSONResponse({"detail": str(error)}, status.HTTP_404_NOT_FOUND)
        parts = error.field.split(".") if error.field else []
        location = ["body", *(int(part) if part.isdigit() else part for part in parts)]
        detail = [{"loc": location, "msg": str(error), "type": "refused"}]
        return JSONResponse({"detail": detail}, status.HTTP_422_UNPROCESSABLE_CONTENT)

    @app.exception_handler(Unavailable)
    async def _unavailable(_: Request, error: Unavailable) -> JSONResponse:
        return JSONResponse(
            {"detail": str(error)}, status.HTTP_503_SERVICE_UNAVAILABLE, headers=RETRY_AFTER
        )

    for kind in DATABASE_UNAVAILABLE:

        @app.exception_handler(kind)
        async def _database(_: Request, __: Exception) -> JSONResponse:
            return JSONResponse(
                {"detail": DATABASE_BUSY}, status.HTTP_503_SERVICE_UNAVAILABLE, headers=RETRY_AFTER
            )


def body_errors(errors: Iterable[Mapping[str, Any]]) -> RequestValidationError:
    """Errors located in the request body (`loc` below "body"), as a 422 shows them."""
    return RequestValidationError(
        [
            {"loc": ("body", *error["loc"]), "msg": error["msg"], "type": error["type"]}
            for error in errors
        ]
    )
