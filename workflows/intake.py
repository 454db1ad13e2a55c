"""The admitter: accepted applications written and confirmed in batches, beside the Updates.

An application's Update is answered as soon as the validator has said the call is open: the
handler writes nothing and waits for nothing, since a write inside the Update held the workflow
task open and the server takes only a few Updates per workflow at once. The sender writes the row
on the answer (`missionflow.runtime.intake`); the admitter lets what was accepted gather for a
second, then writes it again with one activity (nothing for rows the senders wrote, the row for
any sender that failed to) and queues the confirmations.
"""

from __future__ import annotations

import asyncio
import collections
from contextlib import suppress
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.applications import ApplicationActivities
    from missionflow.domain.call import deadline
    from missionflow.domain.call.applications import ApplicationStatus, missing_items
    from missionflow.domain.call.messages import (
        ApplicationBatch,
        ApplicationReceipt,
        ApplicationRecord,
        ApplicationSubmission,
    )
    from missionflow.domain.mission.messages import MissionInput

from workflows.base import RETRY, MissionCore

GATHERING = timedelta(seconds=1)
"""How long the admitter lets accepted submissions gather before writing them: long enough for
their senders to have written the rows (the admitter then only confirms them), short enough for
the confirmation to follow the answer closely."""

MAX_BATCH = 100
"""Submissions written by one activity at most: the cap bounds the activity's payload."""

BATCH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=3,
)
"""A batch is tried a few times; then each of its applications is written alone with `RETRY`,
so one that can never be written (or a long outage) holds up only itself."""


class Intake(MissionCore):
    def __init__(self, input: MissionInput) -> None:
        super().__init__(input)
        self._admitting: list[ApplicationRecord] = []  # accepted, not yet admitted
        # The run's accepted submissions are numbered from 1 in order; `_admitting` holds those
        # from `_admitting_from` on, and `_writing` counts the writes under way (batches, and
        # single applications split off a failed one) by the number of their first submission.
        self._admitting_from = 1
        self._writing: collections.Counter[int] = collections.Counter()
        self._alone: set[asyncio.Task[None]] = set()  # writes split off a failed batch

    def _accepted(
        self, record: ApplicationRecord, submission: ApplicationSubmission
    ) -> ApplicationReceipt:
        """Count the submission, leave it with the admitter and answer at once, `at` the
        acceptance."""
        self._admitting.append(record)
        self._state = deadline.count_application(self._state, received=1)
        missing = missing_items(
            self._mission, submission.form.answers, has_slide=submission.slide_id is not None
        )
        return ApplicationReceipt(
            application_id=submission.application_id,
            status=ApplicationStatus.RECEIVED,
            changed=True,
            complete=not missing,
            missing=missing,
            at=record.at,
        )

    def _admitted_all(self) -> bool:
        """Whether every submission accepted so far is admitted (none waits, none is written)."""
        return not self._admitting and not self._writing

    def _admitted_through(self, number: int) -> bool:
        """Whether the accepted submissions numbered up to `number` are all admitted."""
        if self._admitting and self._admitting_from <= number:
            return False
        return all(first > number for first in self._writing)

    async def _admitted_so_far(self) -> None:
        """Wait until the applications accepted before now are admitted: an amendment or a
        withdrawal may follow its submission closer than the admitter, and what tells applicants
        must reach every one accepted. Not those accepted meanwhile: under a steady stream of
        applicants a moment when nothing at all waits never came, and the call's announcement
        waited for the run's last Update."""
        last = self._admitting_from + len(self._admitting) - 1
        await workflow.wait_condition(lambda: self._admitted_through(last))

    async def _admit(self) -> None:
        """Once submissions were accepted, let more gather, then write them all with one
        activity, batch after batch. A batch that fails `BATCH_RETRY`'s attempts is split, and
        each of its submissions written alone, retried until it succeeds, beside the admitter,
        which goes on: one that cannot be written delays only its own confirmation."""
        while True:
            await workflow.wait_condition(lambda: bool(self._admitting))
            await self._gather()
            while self._admitting:
                batch, self._admitting = self._admitting[:MAX_BATCH], self._admitting[MAX_BATCH:]
                first = self._admitting_from
                self._admitting_from += len(batch)
                self._writing[first] += 1
                try:
                    await self._admit_batch(batch, BATCH_RETRY)
                except ActivityError:
                    for number, record in enumerate(batch, start=first):
                        self._writing[number] += 1
                        alone = asyncio.create_task(self._admit_alone(record, number))
                        self._alone.add(alone)  # referenced until done
                        alone.add_done_callback(self._alone.discard)
                finally:
                    self._written(first)
                if 0 < len(self._admitting) < MAX_BATCH:
                    await self._gather()

    async def _gather(self) -> None:
        """Let accepted submissions gather, unless the run hands over: then nothing more comes,
        and every applicant who comes meanwhile waits for the next run."""
        with suppress(TimeoutError):
            await workflow.wait_condition(
                lambda: self._continuing,
                timeout=GATHERING,
                timeout_summary="gather the applications accepted meanwhile",
            )

    async def _admit_alone(self, record: ApplicationRecord, number: int) -> None:
        try:
            await self._admit_batch([record], RETRY)
        except ActivityError as error:  # not retryable: a bug, for the logs and the UI
            workflow.logger.error("an accepted application cannot be admitted: %s", error)
        finally:
            self._written(number)

    def _written(self, first: int) -> None:
        self._writing[first] -= 1
        if not self._writing[first]:
            del self._writing[first]

    async def _admit_batch(self, batch: list[ApplicationRecord], retry_policy: RetryPolicy) -> None:
        admissions = await workflow.execute_activity_method(
            ApplicationActivities.admit_applications,
            ApplicationBatch(mission_id=self._mission.id, records=batch),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=retry_policy,
            summary=f"Admit {len(batch)} application(s) and queue their confirmations",
        )
        # Counted when accepted; an applicant who had applied before is taken back.
        self._state = deadline.count_application(
            self._state, received=admissions.admitted - len(batch)
        )
        self._mail_queued += 1
