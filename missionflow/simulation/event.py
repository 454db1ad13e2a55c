"""The people of a simulated mission from the delegation lock on: matchmaking, visits,
feedback and follow-up."""

from __future__ import annotations

import math
import uuid
from collections.abc import Sequence
from datetime import timedelta

from sqlmodel import col, select

from api import missions
from api.check_ins import record_arrival
from api.routes.preferences import send_mark
from missionflow.domain.matchmaking.check_in import CheckInInput
from missionflow.domain.matchmaking.messages import (
    AttendanceInput,
    HostBatch,
    MeetingAnswerInput,
    MeetingRequestInput,
)
from missionflow.domain.matchmaking.preferences import NO_THANKS, PreferenceMarkInput
from missionflow.domain.matchmaking.rules import parse_hosts
from missionflow.domain.mission import lifecycle
from missionflow.domain.reporting.meeting_ratings import (
    EVENT_OUTCOMES,
    FOLLOW_UP_OUTCOMES,
    EventRating,
    FollowUpRating,
    rateable,
)
from missionflow.domain.reporting.messages import FeedbackInput, FollowUpInput
from missionflow.domain.visits.messages import VisitAttendanceInput
from missionflow.runtime.models import (
    Application,
    Host,
    Meeting,
    VisitRegistration,
)
from missionflow.simulation import synthetic
from missionflow.simulation.people import Applicants
from missionflow.simulation.request_steps import mutual_pairs, preference_marks


class Delegation(Applicants):
    """The delegation and the hosts from the delegation lock on: meeting requests and answers,
    visits, feedback and follow-up surveys."""

    _who: dict[uuid.UUID, str]
    """Each participant's name in `seeded_order`, set as hosts are loaded."""

    # The phases after the delegation locks

    async def matchmaking(self) -> None:
        """Hosts are loaded when the delegation locks; when requests open both sides ask for
        meetings and, with preference lists, mark others on them; once the lists have become
        meetings and requests, both sides answer what they were asked, some never (those
        requests expire, when the file says they do); the schedule is placed at the request
        deadline; people are checked in on the day and attendance is taken after the event."""
        event = self.mission.matchmaking
        assert event is not None
        delegates = [d.application_id for d in await self.decisions() if d.seat == "confirmed"]
        hosts = synthetic.hosts(
            self.mission,
            self.rng,
            max(5, math.ceil(len(delegates) * 1.5)),
            sessions=len(event.sessions),
        )
        forms = parse_hosts(hosts, event)
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
        self._who = {**{d: str(d) for d in delegates}, **{h.id: h.name_key for h in loaded}}
        requests = self.meeting_requests(delegates, loaded, sectors)
        marks: list[PreferenceMarkInput] = []
        if event.preferences_deadline is not None:
            asked = {frozenset((r.requester_id, r.invitee_id)) for r in requests}
            marks = preference_marks(self.rng, delegates, loaded, sectors, asked)
        self.progress.start("matchmaking", len(requests) * 2 + len(marks))
        await self.sleep_until(event.requests_open_at + timedelta(hours=2))
        await self.each(requests, self.request_meeting)
        await self.each(marks, self.mark_preference)
        self.tally["preferences_mutual_wishes"] = len(mutual_pairs(marks))
        unwelcome = {(m.participant_id, m.other_id) for m in marks if m.mark == NO_THANKS}
        answering = event.requests_open_at + (event.requests_deadline - event.requests_open_at) / 3
        if event.preferences_deadline is not None:
            answering = max(answering, event.preferences_deadline + timedelta(hours=2))
        await self.sleep_until(answering)
        async with self.sessions() as db:
            pending = (
                await db.exec(
                    select(Meeting).where(
                        Meeting.mission_id == self.mission.id, Meeting.status == "pending"
                    )
                )
            ).all()
        answers = []
        for meeting in self.seeded_order(pending):
            choice = self.rng.random()
            if choice < 0.1 or (meeting.invitee_id, meeting.requester_id) in unwelcome:
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
        await self.sleep_until(event.sessions[0].start)
        arrivals = [
            CheckInInput(participant_id=pid, by="Registration desk")
            for pid in [*delegates, *(h.id for h in loaded)]
            if self.rng.random() < 0.93
        ]
        await self.each(arrivals, self.check_in)
        await self.sleep_until(event.ends_at + timedelta(minutes=30))
        async with self.sessions() as db:
            placed = (
                await db.exec(
                    select(Meeting).where(
                        Meeting.mission_id == self.mission.id, col(Meeting.slot_id).is_not(None)
                    )
                )
            ).all()
        attendance = [
            AttendanceInput(
                meeting_id=m.id, attendance="no_show" if self.rng.random() < 0.06 else "held"
            )
            for m in self.seeded_order(placed)
        ]
        await self.each(attendance, self.record_attendance)
        self.progress.finish(
            f"{len(loaded)} hosts, {len(requests)} requests, {len(marks)} preference marks, "
            f"{len(placed)} meetings placed, "
            f"{self.tally['meetings_held']} held"
        )

    def seeded_order(self, meetings: Sequence[Meeting]) -> list[Meeting]:
        """Meetings by who meets (delegates by their seeded ids, hosts by name): an order the
        seed fixes, so each meets the same draws run after run. Not by id, time or who asked:
        hosts and the meetings the preference lists make get ids of their own (uuid4), which
        decide ties in the scheduler (so a meeting's slot may change run to run, not whether
        it is placed while places are left) and which side of a mutual wish asks."""
        return sorted(
            meetings,
            key=lambda m: sorted(
                self._who.get(side, "") for side in (m.requester_id, m.invitee_id)
            ),
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

    async def mark_preference(self, mark: PreferenceMarkInput) -> None:
        """A mark on one's list, sent as the list's page and its JSON route send it."""
        receipt = await send_mark(
            self.client, self.mission.id, mark.participant_id, mark.other_id, mark.mark
        )
        self.tally["preferences_marked"] += receipt.changed
        self.progress.advance()

    async def answer_meeting(self, answer: MeetingAnswerInput) -> None:
        await missions.answer_meeting(self.client, self.mission.id, answer)
        self.tally[f"meetings_{answer.action}ed"] += 1
        self.progress.advance()

    async def check_in(self, arrival: CheckInInput) -> None:
        """Scanned at the desk on the day (most people come)."""
        await record_arrival(self.client, self.mission.id, arrival)
        self.tally["checked_in"] += 1

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
        met = await self.meetings_had()
        answers = [
            self.feedback_of(d, "delegate", city, met.get(d, []))
            for d in delegates
            if self.rng.random() < 0.8
        ] + [
            self.feedback_of(h, "host", city, met.get(h, []))
            for h in hosts
            if self.rng.random() < 0.55
        ]
        self.progress.start("reporting", len(answers))
        opened, closes = mission.event_ends_at, mission.feedback_closes_at
        await self.sleep_until(opened + (closes - opened) / 4)
        await self.each(answers, self.give_feedback)
        await self.sleep_until(mission.reporting.report_due + timedelta(minutes=5))
        self.progress.finish(f"{self.tally['feedback']} answers")

    async def meetings_had(self) -> dict[uuid.UUID, list[uuid.UUID]]:
        """Each participant's meetings they may rate (placed, not a no-show)."""
        async with self.sessions() as db:
            meetings = (
                await db.exec(select(Meeting).where(Meeting.mission_id == self.mission.id))
            ).all()
        had: dict[uuid.UUID, list[uuid.UUID]] = {}
        for m in self.seeded_order(meetings):
            if rateable(m.status, m.starts_at, m.attendance):
                for side in (m.requester_id, m.invitee_id):
                    had.setdefault(side, []).append(m.id)
        return had

    def feedback_of(
        self, who: uuid.UUID, kind: str, city: str, meetings: list[uuid.UUID]
    ) -> FeedbackInput:
        """An answer, with an outcome for most of the meetings the respondent had."""
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
            meeting_ratings=[
                EventRating(
                    meeting_id=m,
                    outcome=self.rng.choices(list(EVENT_OUTCOMES), (2, 5, 6, 4, 1))[0],
                )
                for m in meetings
                if self.rng.random() < 0.8
            ],
        )

    async def give_feedback(self, answer: FeedbackInput) -> None:
        await missions.give_feedback(self.client, self.mission.id, answer)
        self.tally["feedback"] += 1
        self.progress.advance()

    async def follow_up(self) -> None:
        """Each survey is answered by about two delegates in three, within days of it."""
        surveys = lifecycle.follow_ups(self.mission)
        delegates = [d.application_id for d in await self.decisions() if d.seat == "confirmed"]
        met = await self.meetings_had() if self.mission.matchmaking is not None else {}
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
                    meeting_ratings=[  # what became of them, as this survey sees it
                        FollowUpRating(
                            meeting_id=m,
                            outcome=self.rng.choices(list(FOLLOW_UP_OUTCOMES), (1, 2, 3, 5))[0],
                        )
                        for m in met.get(d, [])
                        if self.rng.random() < 0.6
                    ],
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
