"""Application intake over HTTP against the embedded stack, beside the raw Update rate.

Starts `missionflow dev` (Temporal dev server, workers, API, SMTP sink) in a temporary home,
starts a mission whose call is open, and posts N applications over HTTP with a fixed number of
concurrent clients. In the same run, against the same Temporal server, it measures the raw rate
of bare Updates (a no-op handler) into one workflow with the same concurrency, before and after
intake: the faster of the two is the ceiling intake is compared with. Intake's figure is its
requests' answers; each size then waits until every confirmation is sent (and says when), so
the next measurement starts on a quiet machine. Prints applications/s, p50/p99 latency and the
ratio, per N, and where the CPU went while the requests were answered: milliseconds per
application in the API, the two workers, the dev SMTP sink, the Temporal server and this load
generator, beside the same per bare Update (Linux only; from /proc).

    .venv/bin/python -m benchmarks.intake --sizes 100 1000 10000 --concurrency 10
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from temporalio import workflow
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from benchmarks.stack import TOKEN, application, embedded_stack, open_call_mission
from missionflow.domain.mission.file import workflow_id_for
from missionflow.runtime import event_loop


@workflow.defn(sandboxed=False)
class BareUpdates:
    """The baseline: a workflow whose Update does nothing but count."""

    def __init__(self) -> None:
        self.count = 0
        self.done = False

    @workflow.run
    async def run(self) -> int:
        await workflow.wait_condition(lambda: self.done)
        return self.count

    @workflow.update
    def bump(self, _: int) -> int:
        self.count += 1
        return self.count

    @workflow.signal
    def finish(self) -> None:
        self.done = True


async def bounded(count: int, concurrency: int, one: object) -> list[float]:
    """Run `one(i)` for i < count with `concurrency` at a time; return each latency in seconds."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(count):
        queue.put_nowait(index)

    async def client() -> None:
        while not queue.empty():
            index = queue.get_nowait()
            started = time.perf_counter()
            await one(index)  # type: ignore[operator]
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return latencies


RAW_UPDATES_PER_WORKFLOW = 1000
"""A run takes at most 2,000 Updates; the baseline moves to a fresh workflow every 1,000, as the
mission continues as new every 1,000."""


async def raw_updates(
    client: Client, count: int, concurrency: int, pids: dict[str, int]
) -> tuple[float, list[float], str]:
    task_queue = f"bare-{uuid.uuid4().hex[:6]}"
    async with Worker(client, task_queue=task_queue, workflows=[BareUpdates]):
        handles = [
            await client.start_workflow(
                BareUpdates.run, id=f"bare-{uuid.uuid4()}", task_queue=task_queue
            )
            for _ in range(0, count, RAW_UPDATES_PER_WORKFLOW)
        ]

        async def one(index: int) -> None:
            handle = handles[index // RAW_UPDATES_PER_WORKFLOW]
            while True:
                try:
                    await handle.execute_update(BareUpdates.bump, index)
                    return
                except RPCError as error:  # the dev server's cap on in-flight Updates
                    if error.status != RPCStatusCode.RESOURCE_EXHAUSTED:
                        raise
                    await asyncio.sleep(0.01)

        cpu_before = cpu_seconds(pids)
        started = time.perf_counter()
        latencies = await bounded(count, concurrency, one)
        elapsed = time.perf_counter() - started
        cpu = cpu_row("Update", count, cpu_before, cpu_seconds(pids))
        for handle in handles:
            await handle.signal(BareUpdates.finish)
    return elapsed, latencies, cpu


PROCESSES = {
    "API": "missionflow dev",
    "workflow worker": "stack.dev worker workflows",
    "activity worker": "stack.dev worker activities",
    "SMTP sink": "stack.dev sink",
    "Temporal": "server",
}
"""The stack's processes, by what their command lines hold: the stack (the API), and its four
children."""


def stack_processes(stack_pid: int) -> dict[str, int]:
    """The pid of each of `PROCESSES`: the stack itself and its children (Linux)."""
    found = {"API": stack_pid}
    children = Path(f"/proc/{stack_pid}/task/{stack_pid}/children")
    for pid in children.read_text().split() if children.exists() else ():
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        for name, marker in PROCESSES.items():
            if name != "API" and marker in command:
                found[name] = int(pid)
    return found


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """User and system CPU seconds of each process so far, and of this one."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for name, pid in pids.items():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        seconds[name] = (int(fields[11]) + int(fields[12])) / ticks
    own = os.times()
    seconds["load generator"] = own.user + own.system
    return seconds


def cpu_row(name: str, count: int, before: dict[str, float], after: dict[str, float]) -> str:
    spent = {key: (after[key] - before[key]) * 1000 / count for key in after}
    parts = ", ".join(f"{key} {value:.1f}" for key, value in spent.items())
    return f"{'':<14} CPU ms per {name}: {parts} (total {sum(spent.values()):.1f})"


async def intake(
    client: Client, api: str, count: int, concurrency: int, pids: dict[str, int]
) -> tuple[float, list[float], float, str]:
    document = open_call_mission()
    # aiohttp, not httpx: the load generator shares the two cores with what it measures, and
    # aiohttp takes half of httpx's CPU per request (healthz: 398/s against 197/s here).
    async with aiohttp.ClientSession(
        api,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=aiohttp.ClientTimeout(total=120),
        connector=aiohttp.TCPConnector(limit=concurrency * 2),
    ) as http:
        async with http.post("/missions", json=document) as created:
            created.raise_for_status()
        sectors = document["call"]["sectors"]
        path = f"/missions/{document['id']}/applications"

        async def one(index: int) -> None:
            async with http.post(path, json=application(index, sectors)) as response:
                if response.status != 201:
                    text = await response.text()
                    raise RuntimeError(f"application {index}: {response.status} {text}")
                await response.read()

        cpu_before = cpu_seconds(pids)
        started = time.perf_counter()
        latencies = await bounded(count, concurrency, one)
        elapsed = time.perf_counter() - started
        cpu = cpu_row("application", count, cpu_before, cpu_seconds(pids))
        await _confirmed(http, document["id"], count)
        delivered = time.perf_counter() - started
    # Ended without the cancellation's emails to every applicant, which would still be going
    # out while the next size's baseline is measured.
    await client.get_workflow_handle(workflow_id_for(document["id"])).terminate("benchmark over")
    return elapsed, latencies, delivered, cpu


async def _confirmed(http: aiohttp.ClientSession, mission_id: str, count: int) -> None:
    """Wait until every applicant's confirmation is sent: the next measurement starts quiet."""
    query = {"status": "sent", "template": "application_received", "limit": 1}
    for _ in range(3000):
        async with http.get(f"/missions/{mission_id}/emails", params=query) as response:
            page = await response.json()
        if page["total"] >= count:
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{mission_id}: confirmations still unsent after 10 minutes")


def row(name: str, count: int, elapsed: float, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"{name:<14} {count:>7} {elapsed:>8.2f} {count / elapsed:>9.1f} "
        f"{statistics.median(ordered) * 1000:>8.1f} {p99 * 1000:>8.1f}"
    )


async def main(sizes: list[int], concurrency: int) -> None:
    async with embedded_stack() as stack:
        api = stack.api
        client = await Client.connect(stack.temporal)
        print(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
            f"concurrency {concurrency}"
        )
        print(f"{'':<14} {'count':>7} {'seconds':>8} {'per s':>9} {'p50 ms':>8} {'p99 ms':>8}")
        pids = stack_processes(stack.process.pid)
        for size in sizes:
            # The baseline before and after intake, and the faster of the two: a shared VM's
            # speed drifts within minutes, and a slow baseline would flatter the ratio.
            before = await raw_updates(client, size, concurrency, pids)
            print(row("raw Updates", size, *before[:2]), before[2], sep="\n")
            elapsed, latencies, delivered, cpu = await intake(client, api, size, concurrency, pids)
            print(row("applications", size, elapsed, latencies), cpu, sep="\n")
            print(f"{'':<14} every confirmation sent {delivered:.1f} s after the first request")
            after = await raw_updates(client, size, concurrency, pids)
            print(row("raw Updates", size, *after[:2]), after[2], sep="\n")
            raw_elapsed = min(before[0], after[0])
            ratio = raw_elapsed / elapsed
            print(f"{'ratio':<14} {size:>7} intake / faster raw Updates = {ratio:.2f}\n")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--concurrency", type=int, default=10)
    arguments = parser.parse_args()
    event_loop.run(main(arguments.sizes, arguments.concurrency))
