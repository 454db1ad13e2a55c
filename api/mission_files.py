"""Starting a mission from its file, for `POST /missions` and the console's upload form alike:
reading the document (JSON or YAML), checking it with every error at its field, starting its
workflow, and making whoever started it, when a person, its owner.

The errors are those of a request body (`RequestValidationError`, each located under "body"), so
the JSON route answers them as its 422 as it always did, and the console lists the same
locations and messages at the upload field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import yaml
from fastapi import HTTPException, Request, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from api.identity import Principal
from api.missions import start_mission
from api.schemas import MissionCreated
from missionflow.domain.mission.fields import field_errors
from missionflow.domain.mission.file import load_mission
from missionflow.domain.mission.phases import Phase
from missionflow.domain.mission.replay import replay_today
from missionflow.domain.mission.yaml_syntax import parse_yaml
from missionflow.runtime.settings import Settings

MAX_MISSION_FILE_BYTES = 1 << 20
JSON_TYPE = "application/json"
YAML_TYPE = "application/yaml"
YAML_TYPES = {YAML_TYPE, "application/x-yaml", "text/yaml", "text/x-yaml"}


def read_document(body: bytes, kind: str) -> dict[str, Any]:
    """The mission file in `body`, by its media type `kind`, refused whole if unreadable.

    Raises:
        HTTPException: 413 for a file over `MAX_MISSION_FILE_BYTES`, 415 for a kind that is
            neither JSON nor YAML.
        RequestValidationError: the file is no JSON or YAML mapping.
    """
    if len(body) > MAX_MISSION_FILE_BYTES:
        raise too_large()
    try:
        if kind == JSON_TYPE or kind.endswith("+json"):
            document = json.loads(body)
        elif kind in YAML_TYPES:
            document = parse_yaml(body)
        else:
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                "Send the mission file as application/json or application/yaml.",
            )
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise _unreadable(f"The body is not valid JSON: {error}") from None
    except (yaml.YAMLError, ValueError) as error:  # ValueError: a scalar YAML cannot construct
        raise _unreadable(f"The body is not valid YAML: {error}") from None
    if not isinstance(document, dict):
        raise _unreadable("The mission file must be a mapping of keys such as id, title, call.")
    return document


def too_large() -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"A mission file is at most {MAX_MISSION_FILE_BYTES // 1024} KiB.",
    )


async def begin_mission(
    request: Request,
    settings: Settings,
    principal: Principal,
    document: dict[str, Any],
    *,
    replay: bool,
) -> MissionCreated:
    """Check the mission file and start the mission; a person who starts one is its owner.

    Raises:
        RequestValidationError: every error of the file, each at its field.
        MissionExists: a mission with its id exists.
        Unavailable: Temporal cannot start it now.
    """
    now = datetime.now(UTC)
    try:
        mission = load_mission(document, now=now, live=not replay)
    except ValidationError as error:
        raise RequestValidationError(
            [{**item, "loc": ("body", *item["loc"])} for item in field_errors(error)]
        ) from None
    years = 0
    if replay:
        mission, years = replay_today(mission, now)
    client = await request.app.state.temporal.client()
    await start_mission(
        client,
        request.app.state.sessions,
        mission,
        task_queue=settings.task_queue,
        now=now,
        owner=principal.person_id,
    )
    return MissionCreated(
        id=mission.id, workflow_id=mission.workflow_id, phase=Phase.CALL_OPEN, years_later=years
    )


def _unreadable(message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body",), "msg": message, "type": "unreadable"}])
