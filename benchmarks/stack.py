"""What the HTTP benchmarks share: `missionflow dev` in a temporary home, a mission whose call is
open, and its applicants.

`embedded_stack()` starts the whole embedded stack (Temporal dev server, workers, API, SMTP sink)
on free loopback ports in a fresh temporary home, waits until the API answers, and stops it with
Ctrl-C's SIGINT on the way out, so nothing is left running.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "benchmark-coordinator-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Stack:
    home: Path
    api: str
    """The API's base URL."""
    temporal: str
    """host:port of the Temporal dev server."""
    process: asyncio.subprocess.Process
    """`missionflow dev` itself: the API's process, parent of the others."""

    @property
    def log(self) -> Path:
        """Where the stack's stdout and stderr go."""
        return self.home / "stack.log"


@asynccontextmanager
async def embedded_stack(env: Mapping[str, str] | None = None) -> AsyncIterator[Stack]:
    """`missionflow dev` in a fresh temporary home, with `env` added to its environment (e.g.
    `MISSIONFLOW_DATABASE_URL`), once its API answers /healthz."""
    home = Path(tempfile.mkdtemp(prefix="missionflow-bench-"))
    ports = {name: free_port() for name in ("API", "TEMPORAL", "TEMPORAL_UI", "SMTP")}
    environment = {
        **os.environ,
        "MISSIONFLOW_HOME": str(home),
        "MISSIONFLOW_API_TOKEN": TOKEN,
        **{f"MISSIONFLOW_{name}_PORT": str(port) for name, port in ports.items()},
        **(env or {}),
    }
    log = (home / "stack.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "missionflow"),
        "dev",
        env=environment,
        stdout=log,
        stderr=log,
    )
    api = f"http://127.0.0.1:{ports['API']}"
    try:
        async with aiohttp.ClientSession() as probe:
            for _ in range(300):
                try:
                    async with probe.get(f"{api}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.2)
            else:
                raise RuntimeError(f"the stack did not start; see {home / 'stack.log'}")
        yield Stack(home, api, f"127.0.0.1:{ports['TEMPORAL']}", process)
    finally:
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 60)
        log.close()


def open_call_mission() -> dict[str, Any]:
    """The rehearsal mission under a fresh id, its call open for 50 minutes, without
    matchmaking or visits: the mission file to POST to /missions."""
    document = yaml.safe_load((ROOT / "examples" / "rehearsal.yaml").read_text())
    document["id"] = f"bench-{uuid.uuid4().hex[:8]}"
    document["call"]["deadline"] = "+PT50M"
    for key, value in (("decision_due", "+PT51M"), ("delegation_lock", "+PT52M")):
        document["selection"][key] = value
    document["matchmaking"] = None
    document["visits"] = []
    document["reporting"]["report_due"] = "+PT55M"
    return document


def application(index: int, sectors: list[str]) -> dict[str, object]:
    """Applicant `index`'s application: its organisation and email are its own."""
    return {
        "organisation": f"Benchmark Cluster {index}",
        "organisation_type": "cluster_organisation",
        "country": ("DE", "FR", "IT", "ES", "NL", "PL")[index % 6],
        "city": "Somewhere",
        "contact_name": f"Contact {index}",
        "contact_email": f"contact{index}@bench.example.org",
        "sectors": [sectors[index % len(sectors)]],
        "answers": {},
        "consent": True,
    }
