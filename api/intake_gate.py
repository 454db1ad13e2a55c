"""Where this process's submissions to a mission wait for one another: they leave together.

A mission's workflow takes its Updates one after another, and Temporal caps them (2,000 per run,
10 in flight per workflow on the dev server): with one Update per applicant, the Update rate is
the ceiling of intake. A gate sends at most `IN_FLIGHT` Updates to its mission at once; the
submissions that arrive meanwhile queue, and the next Update carries them all (group commit, as
the workflow's admitter does for its writes). Its validator answers for all of them at the one
instant it runs: the call is open, or it is not. The rows are then written in one transaction.
An idle mission's submission waits for nothing; under load the batches grow with the load, and
so does what one Update, one workflow task and one commit carry.

Under load, a free gate waits a moment for company: until as many submissions wait as it
expects, for at most `LINGER`. It expects what the previous Update carried and what arrived while
that one travelled; an idle mission's gate expects one, and sends it at once. Sending whatever
waits the instant the gate is free wasted half the Updates: applicants answered together come
back one after another, the first left alone, and the rest waited for it (ten clients, measured:
Updates of 1, 9, 1, 9... submissions; with the wait, of 10, and a third less CPU per
application).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.client import Client

from api.missions import submit_applications
from api.session import release
from api.updates import Unavailable
from missionflow.domain.call.messages import ApplicationReceipt, ApplicationSubmission
from missionflow.domain.mission.file import MissionFile
from missionflow.runtime import intake
from missionflow.runtime.models import Application

IN_FLIGHT = 1
"""Updates a gate has under way at once. A mission's workflow takes its Updates one workflow
task after another anyway: while one travels, the next batch gathers, and the fewer and fuller
the Updates, the fewer the workflow tasks, each costing the worker and the server alike
(measured: one at a time carried twice the submissions an Update that three at a time did, for
a fifth less CPU per application, all processes together). It is also well below the server's 10
in-flight Updates per workflow, which other API processes and the mission's other requests
(amendments, withdrawals, coordinators) share. An Update is under way from the check of the
applicants who applied before to the workflow's answer; the rows are written after it, while
the next one travels."""

LINGER = 0.010
"""Seconds a free gate holds fewer submissions than it expects, for the others to join them: a
third of an Update's round trip on the 2-core machine of DESIGN.md, and nothing an applicant
notices. When the load drops, the gate waits it once and then expects what came."""

KEPT_IDLE = 60.0
"""Seconds an idle gate is kept, so that what it expects outlives the moment between one batch's
answers and the requests its applicants send next."""

MAX_SUBMISSIONS = 25
"""Submissions per Update: a few kilobytes each keeps the Update's payload far below the
256 KB at which Temporal warns."""


@dataclass(frozen=True)
class Taken:
    """What a submission became: its own new row (`created`), or the row of the same applicant's
    earlier application, which the answer is then about."""

    row: Application
    created: bool


Waiting = tuple[ApplicationSubmission, "asyncio.Future[Taken]"]


class IntakeGates:
    """One gate per mission this process has submissions for, dropped once idle for
    `KEPT_IDLE`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._gates: dict[tuple[int, str], _Gate] = {}

    async def take(
        self, client: Client, mission: MissionFile, submission: ApplicationSubmission
    ) -> Taken:
        """Hand the submission to the mission with whatever else is waiting, and once accepted,
        write it, so the applicant's private link works from the answer on.

        Raises:
            Refused: the call is not open, or another refusal of the workflow.
            Unavailable: Temporal did not answer, or the row could not be written yet (the
                workflow's admitter writes it shortly).
        """
        await release()  # the request waits here for the others and the workflow
        key = (id(client), mission.id)
        gate = self._gates.get(key)
        if gate is None:
            gate = self._gates[key] = _Gate(
                client, self._sessions, mission, lambda: self._gates.pop(key, None)
            )
        return await gate.take(submission)


class _Gate:
    def __init__(
        self,
        client: Client,
        sessions: async_sessionmaker[AsyncSession],
        mission: MissionFile,
        on_idle: Callable[[], object],
    ) -> None:
        self._client = client
        self._sessions = sessions
        self._mission = mission
        self._on_idle = on_idle
        self._waiting: list[Waiting] = []
        self._in_flight = 0
        self._expected = 1  # submissions worth waiting `LINGER` for
        self._lingering: asyncio.TimerHandle | None = None
        self._lingered = False  # waited `LINGER` already: what waits leaves as it is
        self._dropping: asyncio.TimerHandle | None = None
        self._batches: set[asyncio.Task[None]] = set()  # referenced until done

    async def take(self, submission: ApplicationSubmission) -> Taken:
        taken: asyncio.Future[Taken] = asyncio.get_running_loop().create_future()
        self._waiting.append((submission, taken))
        self._dispatch()
        # A request cancelled while its submission waits cancels `taken`: it is never sent.
        return await taken

    def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        if self._dropping is not None:
            self._dropping.cancel()
            self._dropping = None
        while self._in_flight < IN_FLIGHT:
            self._waiting = [(s, taken) for s, taken in self._waiting if not taken.cancelled()]
            if not self._waiting:
                break
            if len(self._waiting) < self._expected and not self._lingered:
                if self._lingering is None:
                    self._lingering = loop.call_later(LINGER, self._lingered_enough)
                return
            if self._lingering is not None:  # the company came before `LINGER` ran out
                self._lingering.cancel()
                self._lingering = None
            self._lingered = False
            batch = self._waiting[:MAX_SUBMISSIONS]
            del self._waiting[:MAX_SUBMISSIONS]
            self._in_flight += 1
            task = asyncio.create_task(self._send(batch))
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)
        if not self._waiting and not self._in_flight:
            self._dropping = loop.call_later(KEPT_IDLE, self._on_idle)

    def _lingered_enough(self) -> None:
        self._lingering = None
        self._lingered = True
        self._dispatch()

    async def _send(self, batch: list[Waiting]) -> None:
        try:
            try:
                fresh, receipts = await self._ask(batch)
            finally:  # the Update is answered: the next batch may go while this one is written
                self._in_flight -= 1
                # Those answered may well be back soon, beside those who came meanwhile.
                self._expected = min(len(batch) + len(self._waiting), MAX_SUBMISSIONS)
                self._dispatch()
            if fresh:
                outcomes = await self._taken([submission for submission, _ in fresh], receipts)
                for (_, taken), outcome in zip(fresh, outcomes, strict=True):
                    if not taken.done():
                        taken.set_result(outcome)
        except asyncio.CancelledError:
            for _, taken in batch:
                taken.cancel()
            raise
        except Exception as error:  # the answer to all that are not answered yet
            for _, taken in batch:
                if not taken.done():
                    taken.set_exception(error)

    async def _ask(self, batch: list[Waiting]) -> tuple[list[Waiting], list[ApplicationReceipt]]:
        """Applicants who applied before have their application back at once, even once the
        call closed (a retried request); the others (returned) go to the workflow, and its
        receipts are returned with them. A request that gave up meanwhile gets nothing, and
        its application stands."""
        submissions = [submission for submission, _ in batch]
        earlier = await intake.applied_before(self._sessions, self._mission.id, submissions)
        fresh: list[Waiting] = []
        for waiting, row in zip(batch, earlier, strict=True):
            if row is None:
                fresh.append(waiting)
            elif not waiting[1].done():
                waiting[1].set_result(Taken(row=row, created=False))
        if not fresh:
            return [], []
        submissions = [submission for submission, _ in fresh]
        return fresh, await submit_applications(self._client, self._mission.id, submissions)

    async def _taken(
        self, submissions: Sequence[ApplicationSubmission], receipts: list[ApplicationReceipt]
    ) -> list[Taken]:
        """Write what the workflow accepted, so the applicant's private link works from the
        answer on."""
        accepted = []
        for submission, receipt in zip(submissions, receipts, strict=True):
            assert receipt.at is not None  # every submission is accepted `at` an instant
            accepted.append((submission, receipt.at))
        try:
            # `applied_before` found none of these a moment ago: nothing to read again.
            written = await intake.write_applications(
                self._sessions, self._mission, accepted, known=()
            )
        except IntegrityError:  # lost every race: the workflow's admitter writes them shortly
            raise Unavailable(
                "The application was accepted; its record is being written."
            ) from None
        return [_own(one, submission) for one, submission in zip(written, submissions, strict=True)]


def _own(written: intake.Written, submission: ApplicationSubmission) -> Taken:
    """`created` only for the submission's own row: the same applicant, through another request a
    moment earlier, is that application."""
    return Taken(row=written.row, created=written.row.id == submission.application_id)
