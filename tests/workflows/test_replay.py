"""The recorded histories of the 1.0 baseline still replay: a change to the workflow that would
break missions already running fails here. Record them again with
`MISSIONFLOW_RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows` only when a change is meant to
reach no running mission (see the README, "What 1.0 promises").

The replayer has the clients' converter, sealing codec included: histories recorded before
payloads were sealed replay through it unchanged, and any recorded since open with the tests'
key."""

from __future__ import annotations

import pytest
from support import HISTORIES, sealed_converter
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from missionflow.stack.worker import SANDBOX, WORKFLOWS

RECORDED = sorted(HISTORIES.glob("*.json"))


def test_histories_are_recorded() -> None:
    """Every phase, cancellation, continue-as-new and a batch of applications split."""
    assert {path.stem for path in RECORDED} >= {
        "walk-completed",
        "call-extended-and-closed",
        "submitted-together",
        "admitted-applications-split",
        "admitted-in-gathered-batches",
        "handover-cuts-gathering",
        "told-after-those-accepted-before",
        "selection-approved",
        "seats-promoted-and-locked",
        "matchmaking-scheduled-and-changed",
        "visits-registered-changed-reminded",
        "post-event-report-and-follow-up",
        "cancelled-during-visits",
        "continued-as-new-first-run",
        "continued-as-new-second-run-in-selection",
        "quiet-handover-first-run",
        "quiet-handover-last-run",
        "requests-expired-and-nudged",
    }


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_history_replays(path) -> None:
    history = WorkflowHistory.from_json("recorded", path.read_text())
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=sealed_converter(), workflow_runner=SANDBOX
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
