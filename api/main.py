"""The FastAPI application: coordinators start and steer missions, the public applies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import version
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api import console
from api.deps import TemporalConnection
from api.errors import RefuseNul, install_error_handlers
from api.intake_gate import IntakeGates
from api.metrics import ApiMetrics, RequestMetrics
from api.metrics import router as metrics_router
from api.pages import agenda_page, ops_session, preference_page
from api.pages import apply as apply_page
from api.pages import feedback as feedback_page
from api.pages import follow_up as follow_up_page
from api.pages import mailbox as mailbox_page
from api.routes import (
    agenda,
    applications,
    audit,
    auth,
    check_ins,
    codec,
    colleagues,
    emails,
    erasure,
    feedback,
    health,
    hosts,
    invitees,
    meetings,
    missions,
    people,
    personal_data,
    preferences,
    report,
    reviews,
    selection,
    visits,
)
from api.routes.missions import mission_file_schema
from missionflow.runtime.db import create_engine, sessions
from missionflow.runtime.settings import Settings


def create_app(
    settings: Settings | None = None,
    *,
    client: Client | None = None,
    engine: AsyncEngine | None = None,
    mailbox: bool | None = None,
) -> FastAPI:
    """Build the app; tests pass their own Temporal client and engine.

    Args:
        mailbox: serve /dev/mailbox; by default when no SMTP relay is configured (the dev sink).
    """
    settings = settings or Settings()
    owned_engine = engine is None
    engine = engine or create_engine(settings.database, settings.database_pool())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        if owned_engine:
            await engine.dispose()

    app = FastAPI(
        title="missionflow",
        summary="Runs international trade missions end to end on Temporal.",
        version=version("missionflow"),
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = sessions(engine)
    app.state.intake = IntakeGates(app.state.sessions)
    app.state.temporal = TemporalConnection(settings, client)
    app.state.coordinator_token = settings.coordinator_token()
    app.state.codec = None  # built on first use (api.deps.get_codec)
    app.state.metrics = ApiMetrics()
    app.add_middleware(RequestMetrics, metrics=app.state.metrics)
    app.add_middleware(codec.CodecCors, origins=settings.temporal_ui_origins)
    app.add_middleware(RefuseNul)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    install_error_handlers(app)
    # Every router, JSON (api.routes) and HTML pages (api.pages), in the order of the OpenAPI
    # document.
    for module in (
        health,
        auth,
        people,
        missions,
        applications,
        reviews,
        personal_data,
        erasure,
        audit,
        invitees,
        selection,
        hosts,
        meetings,
        colleagues,
        preferences,
        preference_page,
        agenda,
        check_ins,
        agenda_page,
        visits,
        feedback_page,
        follow_up_page,
        feedback,
        emails,
        report,
        apply_page,
        codec,
        ops_session,
    ):
        app.include_router(module.router)
    app.include_router(metrics_router)  # not in the OpenAPI document
    console.install(app)  # not in the OpenAPI document either
    if mailbox if mailbox is not None else settings.smtp_host is None:
        app.include_router(mailbox_page.router)
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's schema plus the mission file's, which POST /missions reads by hand (JSON or
    YAML) and so cannot declare as a body parameter."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, summary=app.summary, routes=app.routes
        )
        mission_file = mission_file_schema()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(mission_file.pop("$defs", {}))
        components["MissionFile"] = mission_file
        app.openapi_schema = schema
    return app.openapi_schema
