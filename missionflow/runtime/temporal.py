"""How every part of missionflow talks to Temporal: one client builder, one set of names.

The API, the worker, the CLI and the tests all connect through `connect`, so no two clients can
disagree on the data converter (pydantic) or the namespace.
"""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter

from missionflow.runtime.settings import Settings

MISSION_ID = SearchAttributeKey.for_keyword("MissionId")
MISSION_PHASE = SearchAttributeKey.for_keyword("MissionPhase")
SEARCH_ATTRIBUTES = (MISSION_ID, MISSION_PHASE)


async def connect(settings: Settings, *, address: str | None = None) -> Client:
    """Connect with the project's data converter; `address` overrides the settings' one."""
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        address or settings.temporal_target,
        namespace=settings.temporal_namespace,
        data_converter=pydantic_data_converter,
        tls=settings.temporal_tls or api_key is not None,
        api_key=api_key,
    )
