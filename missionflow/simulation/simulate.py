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
import sys
import tempfile
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import func
from sqlmodel import select
from temporalio.client import WorkflowHandle
from temporalio.converter import DataConverter

from api import missions
from api.updates import Refused
from missionflow.domain.mission.file import MissionFile, load_mission
from missionflow.domain.mission.messages import MissionOutcome
from missionflow.domain.mission.replay import years_ahead, years_later
from missionflow.domain.mission.yaml_syntax import parse_yaml
from missionflow.runtime.meeting_ratings import MeetingRating
from missionflow.runtime.models import (
    Application,
    Feedback,
    FollowUpAnswer,
    Host,
    Meeting,
    VisitRegistration,
)
from missionflow.simulation.event import Delegation
from missionflow.simulation.output import Progress, newest_report, write_output
from missionflow.simulation.request_steps import step_counts, with_request_steps
from missionflow.simulation.stack import TASK_QUEUE, SimulationError, stack

DEFAULT_SEED = 2017


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
    as_written: bool = False,
) -> dict[str, Any]:
    """Simulate the mission in FILE and write its report and emails to `out`; the summary.
    Progress goes to `stream`, by default the `sys.stderr` of the moment (not of the import).
    Unless `as_written`, a matchmaking event without preference lists, request expiry or nudges
    gets all three (`request_steps.with_request_steps`).

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
            mission, added = (mission, {}) if as_written else with_request_steps(mission)
            simulation = Simulation(running, mission, seed, Progress(stream or sys.stderr))
            try:
                async with asyncio.timeout(wall_limit):
                    outcome = await simulation.drive(applicants, now)
            except Refused as refused:
                raise SimulationError(
                    f"the mission refused a simulated request: {refused}"
                ) from None
            except TimeoutError:
                raise SimulationError(
                    f"the mission did not complete within {wall_limit:.0f} s: "
                    + await _stuck(simulation.handle, running.env.client.data_converter)
                ) from None
            if outcome.phase != "completed":
                raise SimulationError(f"the mission ended {outcome.phase}")
            summary = await simulation.summary(seed=seed, years=years, requested=applicants)
            summary["mission"]["added"] = added
            summary["wall_seconds"] = round(time.monotonic() - began, 2)
            folder = out or Path(f"simulation-{mission.id}")
            summary["output"] = await write_output(folder, running, mission.id, summary)
    return summary


async def _stuck(handle: WorkflowHandle[Any, Any] | None, converter: DataConverter) -> str:
    """What the mission waits on; a failure's message is sealed in Temporal, so it is opened
    with the client's converter first."""
    if handle is None:
        return "it was never started."
    description = await handle.describe()
    pending = description.raw_description.pending_activities
    if not pending:
        return "no activity was pending."
    lines = []
    for activity in pending:
        line = f"activity {activity.activity_type.name} on attempt {activity.attempt}"
        if activity.HasField("last_failure"):
            line += f" ({await converter.decode_failure(activity.last_failure)})"
        lines.append(line)
    return "; ".join(lines)


class Simulation(Delegation):
    """The people of one mission: what they do, when, and what the mission answered."""

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
            ratings = (
                await db.exec(
                    select(MeetingRating.stage, MeetingRating.outcome, func.count())
                    .where(MeetingRating.mission_id == mission_id)
                    .group_by(MeetingRating.stage, MeetingRating.outcome)
                )
            ).all()
            report = await newest_report(db, mission_id)
            steps = await step_counts(db, mission_id)
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
                "expired": steps["expired"],
                "nudges": steps["nudges"],
                "checked_in": steps["checked_in"],
            },
            "preferences": {
                **steps["preferences"],
                # What the simulated people did, to hold the rows against:
                "marks_sent": self.tally["preferences_marked"],
                "mutual_wishes": self.tally["preferences_mutual_wishes"],
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
            "meeting_ratings": {
                f"stage_{stage}": {o: n for s, o, n in sorted(ratings) if s == stage}
                for stage in sorted({s for s, _, _ in ratings})
            },
            "report_version": report.version if report is not None else None,
        }
