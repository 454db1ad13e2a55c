"""Helpers shared by tests: example missions moved in time, and waiting for eventual effects."""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload, SearchAttributes
from temporalio.client import WorkflowHandle
from temporalio.converter import DataConverter

from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.mission.replay import years_ahead, years_later
from missionflow.domain.mission.yaml_syntax import parse_yaml
from missionflow.runtime.settings import Settings
from missionflow.runtime.temporal import data_converter, sealing_codec

EXAMPLES = Path(__file__).parent.parent / "examples"

SEALING: dict[str, Any] = {
    "encryption_keys": {"tests-1": base64.b64encode(b"tests only: 32 bytes of AES key.").decode()}
}
"""The tests' payload key, in every Settings of a test that talks to Temporal, as a deployment
has its own: the API's and the worker's converters then agree with the environments'."""


def sealed_converter() -> DataConverter:
    """The data converter of every client in the tests: pydantic, sealed with `SEALING`."""
    return data_converter(Settings(**SEALING))


def unsealed(payload: Payload) -> Payload:
    """A payload read from a history (a timer's summary, an activity's input), opened with the
    tests' key as the clients would; one never sealed comes back as it is."""
    return _TESTS_CODEC.unseal(payload)


_TESTS_CODEC = sealing_codec(Settings(**SEALING))


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every payload anywhere in a protobuf message (a history, an event), in order, but those
    of search attributes: Temporal indexes them, so they are never sealed, and hold no one's
    personal data (the mission's id and phase)."""
    if isinstance(message, Payload):
        yield message
        return
    if isinstance(message, SearchAttributes):
        return
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            entry_value = field.message_type.fields_by_name["value"]
            if entry_value.type == FieldDescriptor.TYPE_MESSAGE:
                for item in value.values():
                    yield from payloads_in(item)
        elif field.is_repeated:
            for item in value:
                yield from payloads_in(item)
        else:
            yield from payloads_in(value)


T = TypeVar("T")


def example(name: str) -> dict[str, Any]:
    return parse_yaml((EXAMPLES / f"{name}.yaml").read_text())


def rehearsal(**changes: Any) -> dict[str, Any]:
    """The ten-minute rehearsal mission under a fresh id, with top-level changes."""
    document = example("rehearsal")
    document["id"] = unique_id("rehearsal")
    document.update(changes)
    return document


EU_US_OPENS = datetime(2017, 2, 15, 8, 0, tzinfo=UTC)


def eu_us_later(now: datetime, *, auto_approve: bool = True) -> tuple[MissionFile, int]:
    """The eu-us-2017 mission moved whole years ahead of `now`, under an id of its own.

    Its selection is approved automatically at the due time, so the timeline walks on its own;
    tests of the coordinators' review start their own missions.

    Returns the mission and the number of years it moved."""
    years = years_ahead(now, EU_US_OPENS)
    document = example("eu-us-2017")
    document["id"] = unique_id("eu-us")
    document["selection"]["auto_approve"] = auto_approve
    return years_later(load_mission(document), years), years


def in_year_offset(instant: datetime, years: int) -> datetime:
    return instant.replace(year=instant.year + years)


def unique_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def eventually(check: Callable[[], Awaitable[T]], *, within: float = 15.0) -> T:
    """Retry `check` until it stops raising AssertionError (effects of activities are async)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return await check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.05)


HISTORIES = Path(__file__).parent / "histories"


async def keep_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With MISSIONFLOW_RECORD_HISTORIES=1, save the run's history for the replay test.

    Recorded histories are committed; replaying them in CI proves a code change still replays
    missions that are already running.
    """
    if os.environ.get("MISSIONFLOW_RECORD_HISTORIES") != "1":
        return
    history = await handle.fetch_history()
    HISTORIES.mkdir(exist_ok=True)
    (HISTORIES / f"{name}.json").write_text(history.to_json())
