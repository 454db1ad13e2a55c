"""Throwaway PostgreSQL clusters for the test suite.

The tests run against a real PostgreSQL server, not a mock or SQLite: locking, transactional
DDL, JSON operators and constraint errors behave differently enough that only the real thing
catches the bugs that matter. Each cluster is private to the test session (its own data
directory, socket directory and TCP port on 127.0.0.1), uses `trust` authentication, runs with
durability off for speed, and is stopped and deleted on exit. It never touches the `main`
cluster that Debian's postgresql package creates.

Install the server with `scripts/ensure-system-packages` (Debian: `apt-get install postgresql`).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

DATABASE = "missionflow"
SUPERUSER = "postgres"


def _bindir() -> Path:
    """The newest PostgreSQL server bin directory on this machine."""
    candidates = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    candidates.sort(key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()])
    if candidates:
        return candidates[-1]
    if shutil.which("pg_config"):
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True)
        bindir = Path(out.stdout.strip())
        if out.returncode == 0 and (bindir / "initdb").exists():
            return bindir
    raise RuntimeError(
        "PostgreSQL server binaries not found: "
        "run scripts/ensure-system-packages (apt-get install postgresql)"
    )


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a server tool; as root, run it as the `postgres` user (the tools refuse root)."""
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _url(port: int, database: str) -> str:
    return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{port}/{database}"


def create_database(cluster_url: str, name: str) -> str:
    """Create a fresh database `name` in the cluster of `cluster_url`; return its URL."""
    url = make_url(cluster_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return url.set(database=name).render_as_string(hide_password=False)


def restart(cluster_url: str, *, down_for: float = 0.0) -> None:
    """Stop the cluster of `cluster_url` (fast: every session is cut, as in a crash or a
    failover), leave it down `down_for` seconds, and start it again with the same options and
    port, waiting until it takes connections."""
    url = make_url(cluster_url)
    with psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname="postgres", autocommit=True
    ) as conn:
        row = conn.execute("SHOW data_directory").fetchone()
    assert row is not None
    data = Path(row[0])
    _pg_ctl(data, "-m", "fast", "-w", "stop")
    time.sleep(down_for)
    # A stopped cluster "restarted" starts with the options it last ran with (postmaster.opts).
    _pg_ctl(data, "-l", str(data.parent / "log"), "-w", "-t", "60", "restart")


def _pg_ctl(data: Path, *args: str) -> None:
    done = _run([str(_bindir() / "pg_ctl"), "-D", str(data), *args], cwd=data.parent)
    if done.returncode != 0:
        raise RuntimeError(f"pg_ctl {' '.join(args)} failed:\n{done.stdout}{done.stderr}")


@contextmanager
def throwaway_cluster() -> Iterator[str]:
    """Start a private PostgreSQL cluster; yield the SQLAlchemy URL of its `missionflow` db."""
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="missionflow-pg-", dir="/tmp"))
    data, log = root / "data", root / "log"
    started = False
    try:
        if os.geteuid() == 0:
            shutil.chown(root, user="postgres", group="postgres")
        initdb = [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", SUPERUSER]
        initdb += ["--no-sync", "-E", "UTF8"]
        done = _run([*initdb, "--locale=C.UTF-8"], cwd=root)
        if done.returncode != 0:
            shutil.rmtree(data, ignore_errors=True)
            done = _run([*initdb, "--no-locale"], cwd=root)
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed:\n{done.stdout}\n{done.stderr}")

        pg_ctl = str(bindir / "pg_ctl")
        for attempt in range(3):  # the free port may be taken before postgres binds it
            port = _free_port()
            options = (
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
                " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            done = _run([pg_ctl, "-D", str(data), "-o", options, "-l", str(log), "-w", "-t", "60",
                         "start"], cwd=root)  # fmt: skip
            started = True
            if done.returncode == 0:
                break
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else "(no log)"
            if attempt == 2 or "already in use" not in tail:
                raise RuntimeError(
                    f"PostgreSQL failed to start on port {port}:\n{done.stdout}{done.stderr}\n"
                    f"--- tail of {log} ---\n{tail}"
                )
            log.unlink()
        yield create_database(_url(port, "postgres"), DATABASE)
    finally:
        if started:
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                 cwd=root)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
