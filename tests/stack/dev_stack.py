"""`missionflow dev` run as a process of its own: `DevStack` starts it on a home and free
loopback ports and stops it; the processes it started are found in /proc and checked gone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

BIN = Path(sys.executable).parent
MISSIONFLOW = BIN / "missionflow"
TEMPORAL = BIN / "temporal"

START_SECONDS = 90.0
STOP_SECONDS = 30.0
BANNER_END = "Press Ctrl-C to stop."


# --- ports and processes ------------------------------------------------------------------------


def free_ports(count: int) -> list[int]:
    """Distinct loopback ports nothing listens on (all held open while picking, then released)."""
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]


def accepts_connections(port: int) -> bool:
    with closing(socket.socket()) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _start_time(pid: int) -> str | None:
    """A process's start time (field 22 of /proc/<pid>/stat), or None once it is gone or a zombie.

    Together with the pid it names one process, even if the pid is reused later.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state is first, starttime 20th
    return None if fields[0] in {"Z", "X"} else fields[19]


def descendants(pid: int) -> dict[int, str]:
    """Every live descendant of `pid`, as {pid: start time}, from /proc/<pid>/task/*/children."""
    found: dict[int, str] = {}
    pending = [pid]
    while pending:
        parent = pending.pop()
        for children in Path(f"/proc/{parent}/task").glob("*/children"):
            try:
                pids = [int(child) for child in children.read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
            for child in pids:
                started = _start_time(child)
                if started is not None and child not in found:
                    found[child] = started
                    pending.append(child)
    return found


def still_running(processes: dict[int, str]) -> list[int]:
    return [pid for pid, started in processes.items() if _start_time(pid) == started]


# --- the stack ----------------------------------------------------------------------------------


@dataclass
class DevStack:
    """One `missionflow dev` home and its ports; `start` may be called again after a stop."""

    home: Path
    api_port: int
    temporal_port: int
    ui_port: int
    smtp_port: int
    process: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    runs: int = 0
    children: dict[int, str] = field(default_factory=dict)
    missions: list[str] = field(default_factory=list)
    """Missions started on this stack: the restart test checks they all survive."""
    database_url: str | None = None
    """A database of its own (PostgreSQL); None: the SQLite file under `home`."""

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def ports(self) -> dict[str, int]:
        return {
            "API": self.api_port,
            "Temporal": self.temporal_port,
            "Temporal UI": self.ui_port,
            "SMTP sink": self.smtp_port,
        }

    def env(self) -> dict[str, str]:
        """The caller's environment without its MISSIONFLOW_* settings, plus this stack's."""
        env = {
            key: value for key, value in os.environ.items() if not key.startswith("MISSIONFLOW_")
        }
        return (
            env
            | {
                "MISSIONFLOW_HOME": str(self.home),
                "MISSIONFLOW_API_PORT": str(self.api_port),
                "MISSIONFLOW_TEMPORAL_PORT": str(self.temporal_port),
                "MISSIONFLOW_TEMPORAL_UI_PORT": str(self.ui_port),
                "MISSIONFLOW_SMTP_PORT": str(self.smtp_port),
                "MISSIONFLOW_PUBLIC_URL": self.api,
            }
            | ({"MISSIONFLOW_DATABASE_URL": self.database_url} if self.database_url else {})
        )

    def token(self) -> str:
        return (self.home / "api_token").read_text().strip()

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log else ""

    def start(self) -> float:
        """Start `missionflow dev` and wait until it is ready; returns the seconds it took."""
        assert self.process is None or self.process.poll() is not None, "already running"
        self.runs += 1
        self.log = self.home.parent / f"missionflow-dev-{self.runs}.log"
        began = time.monotonic()
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(MISSIONFLOW), "dev"],
                env=self.env(),
                cwd=self.home.parent,  # nothing may land in the repository's .missionflow/
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready(began + START_SECONDS)
        self.children = descendants(self.process.pid)
        return time.monotonic() - began

    def _wait_ready(self, deadline: float) -> None:
        """/healthz answers 200 and the banner is out (printed a moment after the API listens)."""
        assert self.process is not None
        last = "no answer yet"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(
                    f"missionflow dev exited early with {self.process.returncode}:\n"
                    + self.output()
                )
            try:
                response = httpx.get(f"{self.api}/healthz", timeout=5)
                if response.status_code == 200 and BANNER_END in self.output():
                    return
                last = f"{response.status_code} {response.text}"
            except httpx.HTTPError as error:
                last = repr(error)
            time.sleep(0.3)
        pytest.fail(f"not ready after {START_SECONDS:g} s (/healthz: {last}):\n{self.output()}")

    def stop(self, signum: signal.Signals) -> int:
        """Send `signum` and wait for the exit; returns the exit code."""
        assert self.process is not None and self.process.poll() is None, "not running"
        self.children |= descendants(self.process.pid)
        self.process.send_signal(signum)
        try:
            return self.process.wait(timeout=STOP_SECONDS)
        except subprocess.TimeoutExpired:
            pytest.fail(
                f"missionflow dev still running {STOP_SECONDS:g} s after {signum.name}:\n"
                + self.output()
            )

    def kill(self) -> None:
        """Teardown, whatever happened: nothing this test started may outlive it."""
        if self.process is not None and self.process.poll() is None:
            self.children |= descendants(self.process.pid)
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for pid in still_running(self.children):
            os.kill(pid, signal.SIGKILL)

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.api, headers={"Authorization": f"Bearer {self.token()}"}, timeout=30
        )
