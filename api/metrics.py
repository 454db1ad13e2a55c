"""GET /metrics: what Prometheus scrapes from the API.

- `missionflow_http_requests_total{method, route, status}`: requests answered, by route template
  (`/missions/{mission_id}/applications`, never a path with its ids: one series per route, not
  per mission), and `missionflow_http_request_duration_seconds{method, route}`, their latency.
  A path no route matches counts as route `<unmatched>`; /metrics itself is not counted.
- The outbox, read from the database at each scrape (every API replica reports the same figures):
  `missionflow_outbox_messages{status}` for the messages not sent (queued, sending, failed),
  `missionflow_outbox_failures{kind}` for those the relay refused (`temporary`: 4xx, queued to
  be tried again; `permanent`: 5xx, never retried), `missionflow_outbox_oldest_unsent_seconds`
  and `missionflow_outbox_readable` (0 when the database did not answer).
- `process_*`: the API process's CPU, memory and open files.

Each app has a registry of its own, so tests and several apps in one process do not collide.
The endpoint is open like /healthz unless `MISSIONFLOW_METRICS_TOKEN` is set: it names no
person and no mission, and the coordinator token (which can change missions) does not belong in
a scrape configuration.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from datetime import datetime

from fastapi import APIRouter, HTTPException, Request, Response, status
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from activities.email import UNSENT
from missionflow.runtime.logs import mission_scope
from missionflow.runtime.models import OutboxMessage, utc_now

log = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
UNMATCHED = "<unmatched>"
OUTBOX_STATUSES = (*UNSENT, "failed")
"""The outbox's statuses short of "sent": waiting, claimed by a delivery, refused for good."""
OUTBOX_READ_SECONDS = 3.0
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds; up to 30 s, as a request may wait for a database connection and then Temporal."""

router = APIRouter()


class ApiMetrics:
    """One app's metrics, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "missionflow_http_requests",
            "HTTP requests answered, by route template and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "missionflow_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.outbox = Gauge(
            "missionflow_outbox_messages",
            "Emails not sent, by status: queued, sending (claimed by a delivery), failed.",
            ["status"],
            registry=self.registry,
        )
        self.outbox_failures = Gauge(
            "missionflow_outbox_failures",
            "Emails not sent that the SMTP relay refused: temporary (4xx, to be tried again) "
            "or permanent (5xx, never retried).",
            ["kind"],
            registry=self.registry,
        )
        self.outbox_oldest = Gauge(
            "missionflow_outbox_oldest_unsent_seconds",
            "Age of the oldest email queued or sending; 0 when none waits.",
            registry=self.registry,
        )
        self.outbox_readable = Gauge(
            "missionflow_outbox_readable",
            "1 when the outbox figures were read from the database at this scrape, else 0.",
            registry=self.registry,
        )
        ProcessCollector(registry=self.registry)

    async def read_outbox(self, engine: AsyncEngine) -> None:
        """Set the outbox gauges from the database; on failure, say so and drop stale figures."""
        try:
            counts, refusals, oldest = await asyncio.wait_for(
                _outbox_figures(engine), OUTBOX_READ_SECONDS
            )
        except Exception as error:  # a scrape reports what it can; the database may be down
            log.warning("the outbox could not be read: %s: %s", type(error).__name__, error)
            for gauge in (self.outbox, self.outbox_failures):
                gauge.clear()
            self.outbox_oldest.set(0)
            self.outbox_readable.set(0)
            return
        for name in OUTBOX_STATUSES:
            self.outbox.labels(status=name).set(counts.get(name, 0))
        for kind, count in refusals.items():
            self.outbox_failures.labels(kind=kind).set(count)
        self.outbox_oldest.set(max(0.0, (utc_now() - oldest).total_seconds()) if oldest else 0)
        self.outbox_readable.set(1)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


async def _outbox_figures(
    engine: AsyncEngine,
) -> tuple[dict[str, int], dict[str, int], datetime | None]:
    status_ = col(OutboxMessage.status)
    async with engine.connect() as connection:
        counts = dict(
            (
                await connection.execute(
                    select(status_, func.count())
                    .where(status_.in_(OUTBOX_STATUSES))
                    .group_by(status_)
                )
            ).all()
        )
        temporary = await connection.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(status_.in_(UNSENT))
            .where(col(OutboxMessage.smtp_code).is_not(None))
        )
        oldest = await connection.scalar(
            select(func.min(col(OutboxMessage.created_at))).where(status_.in_(UNSENT))
        )
    refusals = {"temporary": temporary or 0, "permanent": counts.get("failed", 0)}
    return counts, refusals, oldest


@router.get(METRICS_PATH, include_in_schema=False)
async def metrics(request: Request) -> Response:
    """The Prometheus text exposition of this API process."""
    token = request.app.state.settings.metrics_token
    if token is not None:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            given.encode(), token.get_secret_value().encode()
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "The metrics need the metrics token (MISSIONFLOW_METRICS_TOKEN).",
                headers={"WWW-Authenticate": "Bearer"},
            )
    figures: ApiMetrics = request.app.state.metrics
    await figures.read_outbox(request.app.state.engine)
    return Response(figures.exposition(), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Pure ASGI middleware: counts and times each request by its route template, and scopes
    the request's logs to the mission its path names (`mission_id`)."""

    def __init__(self, app: ASGIApp, *, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        answered = 500  # what the server answers for an exception that escapes the app

        async def send_and_note(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.start":
                answered = message["status"]
            await send(message)

        def mission_id() -> str | None:  # routing puts the path's parameters into the scope
            return (scope.get("path_params") or {}).get("mission_id")

        try:
            with mission_scope(mission_id):
                await self.app(scope, receive, send_and_note)
        finally:
            # The route that answered, as routing left it in the scope (a 405 names it too).
            route = getattr(scope.get("route"), "path", UNMATCHED)
            if route != METRICS_PATH:
                method = scope["method"]
                self.metrics.requests.labels(method=method, route=route, status=str(answered)).inc()
                self.metrics.latency.labels(method=method, route=route).observe(
                    time.perf_counter() - started
                )
