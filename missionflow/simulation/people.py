"""The people of a simulated mission until the delegation locks: applicants apply in daily groups,
the coordinator selects, and the selected answer their seats."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import TypeVar

from sqlmodel import col, select
from temporalio.client import Client, WorkflowHandle

from api import missions
from api.intake_gate import IntakeGates
from api.updates import Refused
from missionflow.domain.call.applications import ApplicationForm
from missionflow.domain.call.messages import ApplicationSubmission
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.messages import MissionOutcome
from missionflow.domain.refusals import CONFLICT
from missionflow.domain.selection.messages import SeatAnswer, SelectionRequest
from missionflow.domain.visits.messages import VisitRegistrationInput
from missionflow.runtime.db import transaction
from missionflow.runtime.models import (
    SelectionDecision,
    Slide,
)
from missionflow.simulation import synthetic
from missionflow.simulation.output import Progress
from missionflow.simulation.stack import Stack
from workflows.mission import MissionWorkflow

T = TypeVar("T")

IN_FLIGHT = 8
"""Concurrent Updates: under the server's cap of 10 in flight per workflow, so none waits."""

CALL_WAVE_DAYS = 3
"""Applications sent within these days of each other go in together: a few clock jumps for the
whole call, each one costing the server as much as many Updates."""

LATE_SHARE = 0.05
INCOMPLETE_SHARE = 0.12
DECLINE_SHARE = 0.1
SILENT_SHARE = 0.05
"""Seat offers left unanswered: they expire, and the waitlist moves up."""

SLIDE = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 960 540]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
"""A blank one-page slide: the call checks that a slide is there and is a PDF, not its art."""


class Applicants:
    """The applicants of one mission: what they do until the delegation locks, when, and what the
    mission answered; `Delegation` plays them on from there."""

    def __init__(self, running: Stack, mission: MissionFile, seed: int, progress: Progress) -> None:
        self.env = running.env
        self.client: Client = running.env.client
        self.sessions = running.sessions
        self.intake = IntakeGates(running.sessions)
        self.mission = mission
        self.rng = random.Random(seed)
        # Ids from a stream of their own: the same seed gives the same ids, so everything read
        # back in id order meets the same random draws, run after run.
        self._ids = random.Random(f"ids:{seed}")
        self.progress = progress
        self.handle: WorkflowHandle[MissionWorkflow, MissionOutcome] | None = None
        self.tally: Counter[str] = Counter()

    # The phases until the delegation locks

    async def call(self, count: int, now: datetime) -> None:
        """Applications spread over the call, more of them as the deadline nears; a few come
        after it and are refused."""
        mission = self.mission
        opens = max(mission.call.opens_at or now, now)
        deadline = mission.call.deadline
        people = synthetic.applicants(mission, self.rng, count, incomplete_share=INCOMPLETE_SHARE)
        late = round(count * LATE_SHARE)
        window = deadline - opens - timedelta(minutes=10)
        waves: dict[int, list[tuple[datetime, synthetic.Applicant]]] = {}
        for person in people[: count - late]:
            at = opens + window * self.rng.betavariate(2.2, 1.2)
            waves.setdefault((at - opens).days // CALL_WAVE_DAYS, []).append((at, person))
        self.progress.start("call_open", count)
        for _, group in sorted(waves.items()):
            await self.sleep_until(max(at for at, _ in group))
            await self.apply([person for _, person in group])
        await self.sleep_until(deadline + timedelta(hours=self.rng.randint(1, 30)))
        await self.apply(people[count - late :])
        self.progress.finish(
            f"{self.tally['received']} received ({self.tally['incomplete']} incomplete), "
            f"{self.tally['refused_late']} refused after the deadline"
        )

    async def apply(self, people: Sequence[synthetic.Applicant]) -> None:
        slides = await self.stage_slides(sum(p.with_slide for p in people))

        async def one(person: synthetic.Applicant) -> None:
            submission = ApplicationSubmission(
                application_id=self.new_id(),
                form=ApplicationForm.model_validate(person.form),
                slide_id=slides.pop() if person.with_slide else None,
            )
            try:
                taken = await self.intake.take(self.client, self.mission, submission)
            except Refused as refused:
                if refused.kind != CONFLICT:
                    raise
                self.tally["refused_late"] += 1
                await self.unstage(submission.slide_id)
            else:
                self.tally["received"] += taken.created
                self.tally["incomplete"] += taken.created and not taken.row.complete
            self.progress.advance()

        await self.each(people, one)

    async def stage_slides(self, count: int) -> list[uuid.UUID]:
        """Slides are stored before the Update, as the API does: too large for its payload."""
        now = await self.env.get_current_time()
        rows = [
            Slide(
                mission_id=self.mission.id,
                filename="one-slide presentation.pdf",
                content_type="application/pdf",
                size=len(SLIDE),
                sha256="0" * 64,
                content=SLIDE,
                uploaded_at=now,
            )
            for _ in range(count)
        ]
        async with transaction(self.sessions) as db:
            db.add_all(rows)
        return [row.id for row in rows]

    async def unstage(self, slide_id: uuid.UUID | None) -> None:
        """A refused application leaves nothing behind, its slide included."""
        if slide_id is None:
            return
        async with transaction(self.sessions) as db:
            slide = await db.get(Slide, slide_id)
            if slide is not None:
                await db.delete(slide)

    async def selection(self) -> None:
        """The proposal is made at the deadline; the coordinators approve it a few days later
        unless the mission file approves by itself."""
        rules = self.mission.selection
        self.progress.start("selection", 1)
        if rules.auto_approve:
            await self.sleep_until(rules.decision_due + timedelta(minutes=5))
            note = "approved automatically at the decision"
        else:
            deadline = self.mission.call.deadline
            await self.sleep_until(deadline + (rules.decision_due - deadline) * 0.6)
            view = await missions.review_selection(
                self.client,
                self.mission.id,
                SelectionRequest(approve=True, by=self.mission.coordinators[0].email),
            )
            note = (
                f"approved by the coordinators: {view.selected} selected, "
                f"{view.waitlisted} waitlisted"
            )
        self.progress.finish(note)

    async def confirmation(self) -> None:
        """Everyone with an open offer decides within a day: most confirm, some decline, a few
        stay silent until the offer expires. Seats they leave go down the waitlist, whose
        promoted applicants decide the same way. Confirmed delegates register for visits."""
        lock = await self.lock_instant()
        decided: set[uuid.UUID] = set()
        self.progress.start("confirmation", self.mission.selection.capacity)
        await self.sleep_until(await self.env.get_current_time() + timedelta(hours=20))
        while (now := await self.env.get_current_time()) < lock:
            offers = [
                d
                for d in await self.decisions()
                if d.seat == "offered" and d.application_id not in decided
            ]
            answers = []
            for offer in offers:
                decided.add(offer.application_id)
                choice = self.rng.random()
                if choice < SILENT_SHARE:
                    self.tally["seats_silent"] += 1
                else:
                    answers.append(
                        SeatAnswer(
                            application_id=offer.application_id,
                            accept=choice >= SILENT_SHARE + DECLINE_SHARE,
                        )
                    )
            await self.each(answers, self.answer_seat)
            await self.register_visits([a.application_id for a in answers if a.accept])
            # The next move is the promoted applicants' (after a decline, at once; after an
            # expiry, once the silent offers run out): a round then, not one every day.
            silent = [
                d.respond_by
                for d in await self.decisions()
                if d.seat == "offered" and d.application_id in decided and d.respond_by
            ]
            if any(not a.accept for a in answers):
                following = now + timedelta(days=1)
            elif silent:
                following = min(silent) + timedelta(hours=1)
            else:
                break
            await self.sleep_until(min(following, lock))
        await self.sleep_until(lock + timedelta(minutes=5))
        self.progress.finish(
            f"{self.tally['seats_confirmed']} confirmed, {self.tally['seats_declined']} "
            f"declined, {self.tally['seats_silent']} let their offer expire"
        )

    async def answer_seat(self, answer: SeatAnswer) -> None:
        try:
            await missions.answer_seat(self.client, self.mission.id, answer)
        except Refused:
            self.tally["seat_answers_refused"] += 1  # the offer ran out as they answered
            return
        self.tally["seats_confirmed" if answer.accept else "seats_declined"] += 1
        if answer.accept:
            self.progress.advance()

    async def register_visits(self, delegates: Iterable[uuid.UUID]) -> None:
        requests = [
            VisitRegistrationInput(visit_id=visit.id, application_id=delegate)
            for delegate in delegates
            for visit in self.mission.visits
            if self.rng.random() < 0.9
        ]

        async def one(request: VisitRegistrationInput) -> None:
            receipt = await missions.register_visit(self.client, self.mission.id, request)
            self.tally[f"visit_{receipt.status}"] += 1

        await self.each(requests, one)

    # Helpers

    async def sleep_until(self, instant: datetime) -> None:
        remaining = instant - await self.env.get_current_time()
        if remaining > timedelta(0):
            await self.env.sleep(remaining)

    async def each(self, items: Sequence[T], act: Callable[[T], Awaitable[None]]) -> None:
        """Everyone in `items` acts at once, as many Updates in flight as the server takes."""
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def gated(item: T) -> None:
            async with gate:
                await act(item)

        await asyncio.gather(*(gated(item) for item in items))

    def new_id(self) -> uuid.UUID:
        return uuid.UUID(int=self._ids.getrandbits(128), version=4)

    async def decisions(self) -> Sequence[SelectionDecision]:
        async with self.sessions() as db:
            return (
                await db.exec(
                    select(SelectionDecision)
                    .where(SelectionDecision.mission_id == self.mission.id)
                    .order_by(col(SelectionDecision.application_id))
                )
            ).all()

    async def lock_instant(self) -> datetime:
        assert self.handle is not None
        status = await self.handle.query(MissionWorkflow.status)
        lock = next((i.utc for i in status.instants if i.name == "delegation_lock"), None)
        return lock or self.mission.selection.delegation_lock
