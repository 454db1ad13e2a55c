"""The example mission files, read as they are or with changes, and what a refusal says.

`mutated` applies changes at dotted paths (`DELETE` removes a key); `refusal` loads a mission
file that must be refused and returns the messages by the field they are located at.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from missionflow.domain.mission.fields import field_errors
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.mission.yaml_syntax import parse_yaml

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def example_data(name: str) -> dict[str, Any]:
    return parse_yaml((EXAMPLES / name).read_text(encoding="utf-8"))


def example(name: str, **kwargs: Any) -> MissionFile:
    return load_mission(example_data(name), **kwargs)


DELETE = object()


def mutated(changes: dict[str, Any], name: str = "eu-us-2017.yaml") -> dict[str, Any]:
    """The example with `changes` applied; keys are dotted paths (`visits.1.timezone`)."""
    data = copy.deepcopy(example_data(name))
    for path, value in changes.items():
        *parents, last = (int(p) if p.isdigit() else p for p in path.split("."))
        target = data
        for part in parents:
            target = target[part]
        if value is DELETE:
            del target[last]
        else:
            target[last] = value
    return data


def refusal(data: dict[str, Any], **kwargs: Any) -> dict[tuple[Any, ...], str]:
    """Load `data`, expect a refusal, and return its messages by field location."""
    with pytest.raises(ValidationError) as caught:
        load_mission(data, **kwargs)
    errors = field_errors(caught.value)
    assert errors
    for error in errors:
        assert error["loc"], f"error not located at a field: {error}"
        assert "input" not in error
        assert not error["msg"].startswith("Value error")
    return {error["loc"]: error["msg"] for error in errors}


SECTORS = example_data("eu-us-2017.yaml")["call"]["sectors"]
