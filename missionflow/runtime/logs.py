"""Logging for every missionflow process, configured once at its start.

`MISSIONFLOW_LOG_FORMAT=text` (the default) writes lines for people; `json` writes one JSON
object per line for a log pipeline: `time`, `level`, `logger`, `message`, `exception` when there
is one, and `mission_id` and `workflow_id` on every line that concerns a mission. Where that
mission comes from, in order:

- a workflow's `workflow.logger` (its `temporal_workflow` extra) or an activity's
  `activity.logger` (`temporal_activity`);
- any other logger called inside an activity (`temporalio.activity.info()`);
- an API request on a `/missions/{mission_id}/...` route (`mission_scope`, set by the API's
  request middleware).

A mission's workflow id is `mission-<mission id>` (`workflow_id_for`), so either gives the other.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sys
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, TextIO

from temporalio import activity

from missionflow.domain.mission.file import workflow_id_for
from missionflow.runtime.settings import Settings

WORKFLOW_ID_PREFIX = workflow_id_for("")

MissionSource = str | Callable[[], str | None] | None
"""A mission id, or where to find it when a line is logged (an API request's path parameters,
known only once the request is routed)."""

_mission: ContextVar[MissionSource] = ContextVar("missionflow_mission", default=None)


@contextlib.contextmanager
def mission_scope(mission: MissionSource) -> Iterator[None]:
    """Every line logged inside (in this task and those it starts) names the mission."""
    token = _mission.set(mission)
    try:
        yield
    finally:
        _mission.reset(token)


def mission_of(record: logging.LogRecord) -> tuple[str | None, str | None]:
    """The (mission id, workflow id) a log record concerns, or (None, None)."""
    workflow_id = None
    for extra in ("temporal_workflow", "temporal_activity"):
        details = getattr(record, extra, None)
        if isinstance(details, Mapping) and details.get("workflow_id"):
            workflow_id = str(details["workflow_id"])
            break
    if workflow_id is None and activity.in_activity():
        workflow_id = activity.info().workflow_id
    if workflow_id is not None:
        mission_id = workflow_id.removeprefix(WORKFLOW_ID_PREFIX)
        return (mission_id if mission_id != workflow_id else None), workflow_id
    mission = _mission.get()
    mission_id = mission() if callable(mission) else mission
    return mission_id, (workflow_id_for(mission_id) if mission_id else None)


class MissionContext(logging.Filter):
    """Puts `mission_id` and `workflow_id` on every record that passes (None when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.mission_id, record.workflow_id = mission_of(record)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in ("mission_id", "workflow_id"):
            if value := getattr(record, key, None):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger [mission id]: message`, the mission only when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(mission)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        mission_id = getattr(record, "mission_id", None)
        record.mission = f" [mission {mission_id}]" if mission_id else ""
        return super().format(record)


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> logging.Handler:
    """Send every logger's records to `stream` (stderr) in the settings' format and level.

    Called once at the start of each process (API, worker, dev stack and its parts); calling it
    again replaces the handler it installed rather than adding a second one.
    """
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(MissionContext())
    handler.setFormatter(JsonFormatter() if settings.log_format == "json" else TextFormatter())
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    for previous in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(previous)
        previous.close()
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    return handler


def uvicorn_log_config(settings: Settings) -> dict[str, Any] | None:
    """uvicorn's own logging for text; none for JSON, so its lines (the access log among them,
    written within the request) reach the root handler and carry the request's mission."""
    if settings.log_format == "json":
        return None
    from uvicorn.config import LOGGING_CONFIG

    return LOGGING_CONFIG


_HANDLER_NAME = "missionflow"
