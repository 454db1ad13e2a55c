"""Structured logs: with MISSIONFLOW_LOG_FORMAT=json each line is one JSON object, and every
line that concerns a mission carries its mission id and workflow id, wherever it was logged: an
API request on a mission's path, an activity, a workflow."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from temporalio import activity
from temporalio.testing import ActivityEnvironment

from api.metrics import ApiMetrics, RequestMetrics
from missionflow.runtime.logs import configure_logging
from missionflow.runtime.settings import Settings


class Captured:
    def __init__(self) -> None:
        self.stream = io.StringIO()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def text(self) -> str:
        return self.stream.getvalue()


def _capture(log_format: str) -> Iterator[Captured]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    captured = Captured()
    handler = configure_logging(Settings(log_format=log_format), stream=captured.stream)
    try:
        yield captured
    finally:
        root.removeHandler(handler)
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.fixture
def json_logs() -> Iterator[Captured]:
    yield from _capture("json")


@pytest.fixture
def text_logs() -> Iterator[Captured]:
    yield from _capture("text")


def test_a_line_is_one_json_object_with_the_exception(json_logs: Captured) -> None:
    log = logging.getLogger("missionflow.test")
    log.info("plain line")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("it failed")
    plain, failed = json_logs.lines()
    assert plain["message"] == "plain line" and plain["level"] == "INFO"
    assert plain["logger"] == "missionflow.test" and plain["time"].endswith("+00:00")
    assert "mission_id" not in plain and "exception" not in plain
    assert failed["level"] == "ERROR"
    assert "ValueError: boom" in failed["exception"]


async def test_an_api_request_names_the_mission_of_its_path(json_logs: Captured) -> None:
    app = FastAPI()

    @app.get("/missions/{mission_id}/applications")
    async def applications(mission_id: str) -> dict[str, str]:
        logging.getLogger("api.test").info("listing applications")
        return {}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        logging.getLogger("api.test").info("checking health")
        return {}

    app.add_middleware(RequestMetrics, metrics=ApiMetrics())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        await client.get("/missions/usa-2017/applications")
        await client.get("/healthz")
    listing, health = [line for line in json_logs.lines() if line["logger"] == "api.test"]
    assert listing["mission_id"] == "usa-2017"
    assert listing["workflow_id"] == "mission-usa-2017"
    assert "mission_id" not in health and "workflow_id" not in health


async def test_an_activity_names_its_mission(json_logs: Captured) -> None:
    @activity.defn
    async def send_reminders() -> None:
        activity.logger.info("through the activity's logger")
        logging.getLogger("missionflow.runtime.mail").info("through any other logger")

    environment = ActivityEnvironment()
    environment.info = dataclasses.replace(environment.info, workflow_id="mission-osaka-2016")
    await environment.run(send_reminders)
    lines = json_logs.lines()
    assert len(lines) == 2
    for line in lines:
        assert line["mission_id"] == "osaka-2016", line
        assert line["workflow_id"] == "mission-osaka-2016", line


def test_a_workflow_line_names_its_mission(json_logs: Captured) -> None:
    """`workflow.logger` puts the workflow's details in a `temporal_workflow` extra."""
    details = {"workflow_id": "mission-usa-2017", "workflow_type": "MissionWorkflow"}
    logging.getLogger("temporalio.workflow").warning("late", extra={"temporal_workflow": details})
    logging.getLogger("temporalio.workflow").warning(
        "not a mission", extra={"temporal_workflow": {"workflow_id": "other-1"}}
    )
    late, other = json_logs.lines()
    assert (late["mission_id"], late["workflow_id"]) == ("usa-2017", "mission-usa-2017")
    assert "mission_id" not in other and other["workflow_id"] == "other-1"


def test_text_stays_for_people_and_names_the_mission(text_logs: Captured) -> None:
    details = {"workflow_id": "mission-usa-2017"}
    logging.getLogger("temporalio.activity").info("sent", extra={"temporal_activity": details})
    line = text_logs.text().strip()
    assert line.endswith("INFO temporalio.activity [mission usa-2017]: sent")
    assert not line.startswith("{")


def test_configuring_again_replaces_the_handler(json_logs: Captured) -> None:
    before = len(logging.getLogger().handlers)
    configure_logging(Settings(log_format="json"), stream=json_logs.stream)
    assert len(logging.getLogger().handlers) == before
    assert Settings(log_level="debug").log_level == "DEBUG"
