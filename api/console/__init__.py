"""The coordinator console: server-rendered pages under /console, for people signed in with a
session (docs/console.md). They steer missions through the same code as the JSON routes."""

from __future__ import annotations

from fastapi import FastAPI

from api.console import (
    applications,
    check_in,
    forms,
    matchmaking,
    outbox,
    pages,
    report,
    selection,
    sign_in,
    visits,
)
from api.console.access import PageAnswer, page_answer


def install(app: FastAPI) -> None:
    """Serve the console's pages (none in the OpenAPI document)."""
    app.add_exception_handler(PageAnswer, page_answer)  # type: ignore[arg-type]
    for module in (
        sign_in,
        pages,
        forms,
        applications,
        selection,
        outbox,
        matchmaking,
        check_in,
        visits,
        report,
    ):
        app.include_router(module.router)
