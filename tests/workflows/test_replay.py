"""Recorded mission histories still replay: a change to the workflow that would break missions
already running fails here. Record new ones with MISSIONFLOW_RECORD_HISTORIES=1 pytest."""

from __future__ import annotations

import pytest
from support import HISTORIES
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from missionflow.stack.worker import SANDBOX, WORKFLOWS

RECORDED = sorted(HISTORIES.glob("*.json"))


def test_histories_are_recorded() -> None:
    """v1-: missions started before the call sent emails (the `call-communications` patch).
    v2-: applications written one local activity each (before the `batched-intake` patch)."""
    names = {path.stem for path in RECORDED}
    for version in ("v1-", ""):
        assert {
            f"{version}walk-completed",
            f"{version}cancelled-during-visits",
            f"{version}continued-as-new-first-run",
        } <= names
    assert {"v2-call-extended-and-closed", "call-extended-and-closed"} <= names
    assert {"batched-applications", "batched-applications-split"} <= names
    assert {"quiet-handover-first-run", "quiet-handover-last-run"} <= names
    assert "admitted-in-gathered-batches" in names  # the `gather-each-batch` patch
    assert "handover-cuts-gathering" in names  # the patch of that name
    assert "told-after-those-accepted-before" in names  # the `admitted-so-far` patch


@pytest.mark.parametrize("path", RECORDED, ids=[p.stem for p in RECORDED])
async def test_history_replays(path) -> None:
    history = WorkflowHistory.from_json("recorded", path.read_text())
    replayer = Replayer(
        workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=SANDBOX
    )
    result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
    assert result.replay_failure is None, result.replay_failure
