"""The deadline rush: N applicants at once over HTTP against the embedded stack, on SQLite and on
PostgreSQL, and whether any application or confirmation email is lost or duplicated.

Each (database, concurrency) pair runs on a fresh `missionflow dev` (temporary home, its own
Temporal dev server, workers and SMTP sink) and a fresh mission whose call is open; PostgreSQL is
a throwaway cluster on loopback, one fresh database per pair. C applicants at a time post their
application, each with its own organisation, email and `Idempotency-Key`; on a 503 one waits
`Retry-After` and sends the same request again, like a real client (at most `MAX_TRIES` tries;
a connection error or another 5xx is retried too, after a second). Latency is the first try's, as
the applicant sees it; "accepted within" adds the retries.

Then it waits (bounded) until the mission's outbox has sent every confirmation and reads the
stack's database: `Application` rows per applicant (lost: answered 200/201 with no row;
duplicated: more than one row for an email) and the dev SMTP sink's `SinkMessage` rows for
`application_received` per applicant (lost: none; duplicated: more than one).

Goal: no 5xx other than 503, nothing lost or duplicated, at concurrency 50 and 200; p99 under
2 s at 50.

    .venv/bin/python -m benchmarks.rush [--applicants 2000] [--concurrency 50 200]
                                        [--databases sqlite postgresql]
"""

from __future__ import annotations

import sys
from pathlib import Path

# The throwaway PostgreSQL cluster is the test suite's helper (tests/ is not a package).
sys.path.append(str(Path(__file__).resolve().parent.parent / "tests"))

import argparse
import asyncio
import contextlib
import os
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import aiohttp
from pg_cluster import create_database, throwaway_cluster
from sqlalchemy import create_engine
from sqlmodel import Session, col, func, select

from benchmarks.intake import bounded
from benchmarks.stack import TOKEN, application, embedded_stack, open_call_mission
from missionflow.runtime import event_loop
from missionflow.runtime.models import Application, OutboxMessage, SinkMessage

MAX_TRIES = 10
"""Tries per applicant before giving up (503s are answered with Retry-After: 5)."""
DRAIN_SECONDS = 300.0
"""How long to wait for the outbox to send every confirmation after the last answer."""
P99_GOAL_SECONDS = 2.0
P99_GOAL_CONCURRENCY = 50
TEMPLATE = "application_received"


@dataclass
class Applicant:
    email: str
    first_status: int | None = None
    """The first try's HTTP status; None: the connection failed."""
    first_latency: float = 0.0
    status: int | None = None
    """The last try's status."""
    accepted_after: float | None = None
    """Seconds from the first try to a 200/201, retries included."""
    tries: int = 0
    server_errors: int = 0
    """5xx answers other than 503, over every try."""
    busy: int = 0
    """503 answers, over every try."""
    errors: list[str] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.status in (200, 201)


@dataclass
class Result:
    database: str
    concurrency: int
    applicants: list[Applicant]
    seconds: float
    lost_apps: int
    dup_apps: int
    lost_emails: int
    dup_emails: int
    stray_apps: int
    """Rows for applicants never answered 200/201."""
    drained: bool
    log: Path

    def percentile(self, values: list[float], share: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0

    @property
    def first_latencies(self) -> list[float]:
        return [a.first_latency for a in self.applicants if a.first_status is not None]

    @property
    def accepted(self) -> int:
        return sum(a.accepted for a in self.applicants)

    @property
    def server_errors(self) -> int:
        return sum(a.server_errors for a in self.applicants)

    @property
    def first_503(self) -> int:
        return sum(a.first_status == 503 for a in self.applicants)

    def row(self) -> str:
        p = [self.percentile(self.first_latencies, s) * 1000 for s in (0.5, 0.95, 0.99)]
        return (
            f"| {self.database} | {self.concurrency} | {len(self.applicants):,} | "
            f"{self.seconds:.1f} | {self.accepted / self.seconds:.0f} | "
            f"{p[0]:.0f} / {p[1]:.0f} / {p[2]:.0f} | {self.server_errors} | {self.first_503} | "
            f"{self.lost_apps} | {self.dup_apps} | {self.lost_emails} | {self.dup_emails} |"
        )

    @property
    def met(self) -> bool:
        return not self.shortfalls()

    def verdict(self) -> str:
        short = self.shortfalls()
        head = f"{self.database} at {self.concurrency}: "
        return head + ("goal met" if not short else "goal NOT met: " + "; ".join(short))

    def shortfalls(self) -> list[str]:
        """What falls short of the goal, in words; empty when it is met."""
        short = []
        if self.server_errors:
            short.append(f"{self.server_errors} server errors (5xx other than 503)")
        never = len(self.applicants) - self.accepted
        if never:
            short.append(f"{never} applicants never accepted")
        for count, what in (
            (self.lost_apps, "lost applications"),
            (self.dup_apps, "duplicated applications"),
            (self.lost_emails, "lost confirmations"),
            (self.dup_emails, "duplicated confirmations"),
            (self.stray_apps, "applications of applicants never accepted"),
        ):
            if count:
                short.append(f"{count} {what}")
        if not self.drained:
            short.append(f"outbox not drained after {DRAIN_SECONDS:.0f} s")
        p99 = self.percentile(self.first_latencies, 0.99)
        if self.concurrency <= P99_GOAL_CONCURRENCY and p99 >= P99_GOAL_SECONDS:
            short.append(f"p99 {p99 * 1000:.0f} ms, not under {P99_GOAL_SECONDS * 1000:.0f}")
        return short

    def details(self) -> str:
        retried = [a for a in self.applicants if a.tries > 1]
        within = [a.accepted_after for a in self.applicants if a.accepted_after is not None]
        lines = [
            f"  {self.database} at {self.concurrency}: accepted {self.accepted:,}, "
            f"{len(retried)} retried ({sum(a.busy for a in self.applicants)} 503s in all), "
            f"accepted within p99 {self.percentile(within, 0.99) * 1000:.0f} ms, "
            f"max {max(within, default=0) * 1000:.0f} ms; stack log {self.log}"
        ]
        seen = Counter(error for a in self.applicants for error in a.errors)
        lines += [f"    {count} x {error}" for error, count in seen.most_common(5)]
        return "\n".join(lines)


async def apply(
    http: aiohttp.ClientSession, path: str, body: dict[str, object], applicant: Applicant
) -> None:
    """One applicant: the first try, then retries with the same Idempotency-Key."""
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    started = time.perf_counter()
    for attempt in range(MAX_TRIES):
        sent = time.perf_counter()
        wait = 1.0
        try:
            async with http.post(path, json=body, headers=headers) as response:
                text = await response.text()
                status: int | None = response.status
                wait = float(response.headers.get("Retry-After", "1"))
        except (aiohttp.ClientError, TimeoutError) as error:
            status, text = None, f"{type(error).__name__}: {error}"
        applicant.tries += 1
        applicant.status = status
        if attempt == 0:
            applicant.first_status = status
            applicant.first_latency = time.perf_counter() - sent
        if status in (200, 201):
            applicant.accepted_after = time.perf_counter() - started
            return
        if status is not None and status < 500:
            applicant.errors.append(f"{status} {text[:160]}")
            return
        if status == 503:
            applicant.busy += 1
        else:
            applicant.server_errors += status is not None
            applicant.errors.append(f"{status} {text[:160]}")
        await asyncio.sleep(wait)


def counted(url: str, mission_id: str) -> tuple[Counter[str], Counter[str], int, int]:
    """Application rows and caught confirmations per email, the mission's unsent confirmations,
    and those the outbox counts as sent."""
    engine = create_engine(url)
    try:
        with Session(engine) as db:
            rows = Counter(
                db.exec(
                    select(Application.contact_email).where(Application.mission_id == mission_id)
                ).all()
            )
            emails: Counter[str] = Counter()
            for recipients in db.exec(
                select(SinkMessage.recipients).where(
                    SinkMessage.mission_id == mission_id, SinkMessage.template == TEMPLATE
                )
            ):
                emails.update(recipients)
            outbox = dict(
                db.exec(
                    select(OutboxMessage.status, func.count())
                    .where(OutboxMessage.mission_id == mission_id)
                    .where(OutboxMessage.template == TEMPLATE)
                    .group_by(col(OutboxMessage.status))
                ).all()
            )
    finally:
        engine.dispose()
    unsent = sum(n for status, n in outbox.items() if status not in ("sent", "failed"))
    return rows, emails, unsent, outbox.get("sent", 0)


async def drained(url: str, mission_id: str, accepted: int) -> tuple[bool, Counter, Counter]:
    """Wait until every confirmation queued is sent and caught by the sink (bounded)."""
    give_up = time.monotonic() + DRAIN_SECONDS
    while True:
        rows, emails, unsent, sent = await asyncio.to_thread(counted, url, mission_id)
        caught = sum(emails.values())
        done = unsent == 0 and sent >= len(rows) and caught >= sent and len(rows) >= accepted
        if done or time.monotonic() > give_up:
            if done:  # a straggler (a second delivery) would land now
                await asyncio.sleep(1.0)
                rows, emails, *_ = await asyncio.to_thread(counted, url, mission_id)
            return done, rows, emails
        await asyncio.sleep(0.5)


async def rush(database: str, url: str | None, count: int, concurrency: int) -> Result:
    env = {"MISSIONFLOW_DATABASE_URL": url} if url else {}
    async with embedded_stack(env) as stack:
        url = url or f"sqlite:///{stack.home / 'missionflow.db'}"
        document = open_call_mission()
        async with aiohttp.ClientSession(
            stack.api,
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=aiohttp.ClientTimeout(total=120),
            connector=aiohttp.TCPConnector(limit=concurrency * 2),
        ) as http:
            async with http.post("/missions", json=document) as created:
                created.raise_for_status()
            sectors = document["call"]["sectors"]
            path = f"/missions/{document['id']}/applications"
            bodies = [application(index, sectors) for index in range(count)]
            applicants = [Applicant(str(body["contact_email"])) for body in bodies]

            async def one(index: int) -> None:
                await apply(http, path, bodies[index], applicants[index])

            started = time.perf_counter()
            await bounded(count, concurrency, one)
            seconds = time.perf_counter() - started
        accepted = {a.email for a in applicants if a.accepted}
        done, rows, emails = await drained(url, document["id"], len(accepted))
    return Result(
        database=database,
        concurrency=concurrency,
        applicants=applicants,
        seconds=seconds,
        lost_apps=len(accepted - set(rows)),
        dup_apps=sum(n > 1 for n in rows.values()),
        lost_emails=sum(emails[email] == 0 for email in accepted),
        dup_emails=sum(n > 1 for n in emails.values()),
        stray_apps=len(set(rows) - accepted),
        drained=done,
        log=stack.log,
    )


HEADER = (
    "| database | concurrency | applicants | seconds | applications/s | p50 / p95 / p99 ms "
    "| 5xx | 503 | lost apps | dup apps | lost emails | dup emails |\n"
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
)


async def main(count: int, concurrencies: list[int], databases: list[str]) -> int:
    started = time.perf_counter()
    results: list[Result] = []
    with contextlib.ExitStack() as stack:
        cluster = None
        if "postgresql" in databases:
            try:  # the server binaries may be missing: say so, and run SQLite alone
                cluster = stack.enter_context(throwaway_cluster())
            except RuntimeError as error:
                print(f"PostgreSQL skipped, SQLite only: {str(error).splitlines()[0]}")
        print(
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
            f"{count:,} applicants, up to {MAX_TRIES} tries each"
        )
        for database in databases:
            if database == "postgresql" and cluster is None:
                continue
            for concurrency in concurrencies:
                url = None
                if database == "postgresql":
                    url = create_database(cluster, f"rush_{uuid.uuid4().hex[:10]}")
                result = await rush(database, url, count, concurrency)
                results.append(result)
                print(result.details(), flush=True)
    print()
    print(HEADER)
    for result in results:
        print(result.row())
    print()
    for result in results:
        print(result.verdict())
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 0 if all(result.met for result in results) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[50, 200])
    parser.add_argument(
        "--databases",
        nargs="+",
        choices=["sqlite", "postgresql"],
        default=["sqlite", "postgresql"],
    )
    arguments = parser.parse_args()
    sys.exit(event_loop.run(main(arguments.applicants, arguments.concurrency, arguments.databases)))
