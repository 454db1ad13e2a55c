"""How every part of missionflow talks to Temporal: one client builder, one set of names.

The API, the worker, the CLI and the tests all connect through `connect`, or build their test
environments with `data_converter`, so no two clients can disagree on the data converter
(pydantic, every payload sealed) or the namespace.
"""

from __future__ import annotations

import dataclasses
import logging

from temporalio.client import Client
from temporalio.common import SearchAttributeKey
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    PrometheusConfig,
    Runtime,
    TelemetryConfig,
)

from missionflow.runtime.codec import SealingCodec
from missionflow.runtime.settings import Settings

MISSION_ID = SearchAttributeKey.for_keyword("MissionId")
MISSION_PHASE = SearchAttributeKey.for_keyword("MissionPhase")
SEARCH_ATTRIBUTES = (MISSION_ID, MISSION_PHASE)


def sealing_codec(settings: Settings) -> SealingCodec:
    """The payload codec for the keys in `settings` (the codec endpoints use it alone)."""
    keys = settings.sealing_keys()
    return SealingCodec(current=keys.current, keys=keys.keys)


def data_converter(settings: Settings) -> DataConverter:
    """Pydantic payloads, sealed with the settings' keys; failures' messages and stack traces
    sealed too (an SMTP refusal names its recipient), so nothing an applicant wrote or is
    called lies in a history in plain text."""
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=sealing_codec(settings),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


async def connect(
    settings: Settings, *, address: str | None = None, runtime: Runtime | None = None
) -> Client:
    """Connect with the project's data converter; `address` overrides the settings' one, and
    `runtime` (a worker's, `worker_runtime`) the SDK's default one."""
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None
    return await Client.connect(
        address or settings.temporal_target,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(settings),
        tls=settings.temporal_tls or api_key is not None,
        api_key=api_key,
        runtime=runtime,
    )


def worker_runtime(settings: Settings, *, metrics_port: int | None) -> Runtime | None:
    """A worker's Temporal runtime: the SDK's metrics (`temporal_*`) served for Prometheus on
    `metrics_host:metrics_port`, and with JSON logs the SDK core's own lines forwarded into
    Python's logging (logger `temporalio.core`) rather than printed in a format of their own.
    None when neither is wanted: the SDK's default runtime then serves.

    A runtime binds its port for the life of the process, so one is made per port and kept.
    """
    json_logs = settings.log_format == "json"
    if metrics_port is None and not json_logs:
        return None
    address = f"{settings.metrics_host}:{metrics_port}" if metrics_port is not None else ""
    if (kept := _RUNTIMES.get(address)) is not None:
        return kept
    logging_config = LoggingConfig.default
    if json_logs:
        logging_config = LoggingConfig(
            filter=logging_config.filter,
            forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core")),
        )
    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=logging_config,
            metrics=PrometheusConfig(bind_address=address) if address else None,
        )
    )
    _RUNTIMES[address] = runtime
    return runtime


_RUNTIMES: dict[str, Runtime] = {}
"""Worker runtimes by metrics address ("" for none): a second runtime on the same port fails."""
