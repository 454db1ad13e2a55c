"""A thousand applicants into one mission on the real dev server: every one recorded and
confirmed exactly once, across runs continued as new."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

from sqlmodel import func, select
from support import eventually, rehearsal
from temporalio.testing import WorkflowEnvironment

from api.intake_gate import IntakeGates
from api.missions import start_mission
from missionflow.domain.call.applications import ApplicationForm
from missionflow.domain.call.messages import ApplicationSubmission
from missionflow.domain.mission.file import load_mission
from missionflow.runtime.models import Application, OutboxMessage
from workflows.mission import MissionWorkflow

APPLICANTS = 1000
CONCURRENCY = 10
UPDATES_PER_RUN = 50
"""Applications arrive a few per Update (see `api.intake_gate`): 1,000 of them take
some hundreds of Updates, several runs' worth."""


async def test_a_thousand_applicants_across_continued_runs(
    dev_env: WorkflowEnvironment, worker_for, session_factory, task_queue, mailbox
) -> None:
    document = rehearsal(matchmaking=None, visits=[])
    document["call"]["deadline"] = "+PT50M"
    document["selection"].update(decision_due="+PT51M", delegation_lock="+PT52M")
    document["reporting"]["report_due"] = "+PT55M"
    document["call"]["invitees"] = []
    now = datetime.now(UTC)
    mission = load_mission(document, now=now, live=True)
    sector = mission.call.sectors[0]
    intake = IntakeGates(session_factory)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(APPLICANTS):
        queue.put_nowait(number)

    async def applicant() -> None:
        while not queue.empty():
            number = queue.get_nowait()
            form = ApplicationForm.model_validate(
                {
                    "organisation": f"Cluster {number}",
                    "organisation_type": "sme",
                    "country": "FR",
                    "city": "Lyon",
                    "contact_name": f"Contact {number}",
                    "contact_email": f"contact{number}@example.org",
                    "sectors": [sector],
                    "consent": True,
                }
            )
            taken = await intake.take(
                dev_env.client,
                mission,
                ApplicationSubmission(application_id=uuid.uuid4(), form=form),
            )
            assert taken.created

    async with worker_for(dev_env):
        handle = await start_mission(
            dev_env.client,
            session_factory,
            mission,
            task_queue=task_queue,
            now=now,
            max_updates_per_run=UPDATES_PER_RUN,
        )
        first_run = (await handle.describe()).run_id
        await asyncio.gather(*(applicant() for _ in range(CONCURRENCY)))
        latest = dev_env.client.get_workflow_handle_for(MissionWorkflow.run, mission.workflow_id)
        status = await latest.query(MissionWorkflow.status)
        assert status.applications == APPLICANTS
        assert UPDATES_PER_RUN < status.updates_handled < APPLICANTS  # they came together
        assert (await latest.describe()).run_id != first_run
        await eventually(lambda: _all_confirmed(mailbox), within=120)
        await latest.terminate("test over")

    async with session_factory() as session:
        rows = await session.scalar(select(func.count()).select_from(Application))
        queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
        sent = await session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent")
        )
    assert rows == queued == sent == APPLICANTS
    message_ids = [m["Message-ID"] for m in mailbox.sent("application_received")]
    assert len(message_ids) == len(set(message_ids)) == APPLICANTS


async def _all_confirmed(mailbox) -> None:
    assert len(mailbox.sent("application_received")) >= APPLICANTS
