"""`missionflow simulate` with the matchmaking's request expiry and nudges: the eu-us-2017
mission, its requests expiring after ten days (the simulated participants leave one in ten
unanswered) and nudges every four days, checked against what the run wrote."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from missionflow.cli import app

EXAMPLES = Path(__file__).parents[2] / "examples"
FIELDS = "  request_expiry: P10D\n  nudge_every: P4D\n  max_pending_requests: 40\n"


def test_simulated_requests_expire_and_participants_are_nudged(tmp_path: Path) -> None:
    text = (EXAMPLES / "eu-us-2017.yaml").read_text()
    anchor = "  max_meetings_per_participant: 12\n"
    assert text.count(anchor) == 1
    mission = tmp_path / "eu-us-2017-expiring.yaml"
    mission.write_text(text.replace(anchor, anchor + FIELDS))
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app, ["simulate", str(mission), "--applicants", "20", "--seed", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    meetings = json.loads((out / "report.json").read_text())["meetings"]
    expired = meetings["expired"]
    assert expired >= 1, "the requests left unanswered expire"
    assert meetings["pending"] == summary["matchmaking"]["unanswered"] == 0
    statuses = ("accepted", "declined", "pending", "cancelled", "expired")
    assert sum(meetings[s] for s in statuses) == meetings["requested"]
    sent = summary["emails"]["by_template"]
    assert sent["meeting_expired"] == 2 * expired  # both sides, once each
    assert sent["matchmaking_nudge"] >= 1
