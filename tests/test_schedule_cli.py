"""`missionflow schedule INSTANCE.json [-o SCHEDULE.json]`: the schedule on stdout or in a file,
a summary on stderr, and exit status 2 with the reasons for anything it refuses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from missionflow.cli import app
from missionflow.domain.matchmaking.checks import validate
from missionflow.domain.matchmaking.instance import Instance
from missionflow.domain.matchmaking.result import Schedule

EXAMPLE = Path(__file__).parents[1] / "examples" / "matchmaking.json"
runner = CliRunner()


def written(tmp_path: Path, document: Any) -> Path:
    path = tmp_path / "instance.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


def test_the_schedule_goes_to_stdout_and_a_summary_to_stderr() -> None:
    result = runner.invoke(app, ["schedule", str(EXAMPLE)])
    assert result.exit_code == 0, result.output
    produced = Schedule.model_validate_json(result.stdout)
    assert validate(Instance.model_validate_json(EXAMPLE.read_text()), produced) == []
    assert result.stderr.startswith(
        "scheduled 5 of 6 meetings (100.0% of the upper bound 5), 1 unscheduled; "
        "0 breaks (lower bound 0, proven optimal), break difference 0 (at most 2); exact, in "
    )
    assert result.stderr.count("\n") == 1


def test_the_schedule_goes_to_the_output_file(tmp_path: Path) -> None:
    target = tmp_path / "schedule.json"
    result = runner.invoke(app, ["schedule", str(EXAMPLE), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    produced = json.loads(target.read_text())
    assert set(produced) == {"assignments", "unscheduled", "stats"}
    assert set(produced["stats"]) == {
        "requested",
        "scheduled",
        "upper_bound",
        "value",
        "value_bound",
        "breaks",
        "breaks_bound",
        "idle_slots",
        "break_difference",
        "max_break_difference",
        "break_difference_bound",
        "method",
        "solve_seconds",
    }
    assert {"meeting": "m1", "slot": "d1-0950", "table": 1} in produced["assignments"]


def test_invalid_json_is_refused(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schedule", str(written(tmp_path, '{"slots": ['))])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "instance.json: Invalid JSON" in result.stderr


def test_a_document_of_the_wrong_shape_is_refused(tmp_path: Path) -> None:
    document = json.loads(EXAMPLE.read_text())
    document["fixed"] = [{"meeting": "m1"}]
    document["participants"][0]["unavailble"] = []
    document["slots"][0]["start"] = "2016-10-18T09:30"  # no offset
    del document["tables"]
    result = runner.invoke(app, ["schedule", str(written(tmp_path, document))])
    assert result.exit_code == 2
    for reason in (
        "tables: Field required",
        "participants.0.unavailble: Extra inputs are not permitted",
        "fixed.0.slot: Field required",
        "slots.0.start: Input should have timezone info",
    ):
        assert reason in result.stderr


def test_an_instance_that_breaks_its_rules_is_refused_with_every_reason(tmp_path: Path) -> None:
    document = json.loads(EXAMPLE.read_text())
    document["meetings"] += [
        {"id": "m1", "a": "kobe-foods", "b": "nobody", "priority": 2},
        {"id": "m8", "a": "kobe-foods", "b": "kobe-foods", "priority": 2},
    ]
    result = runner.invoke(app, ["schedule", str(written(tmp_path, document))])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "missionflow: the instance is refused:",
        "  the meeting id 'm1' is used 2 times",
        "  meeting 'm1' names participant 'nobody', who does not exist",
        "  meeting 'm8' is between 'kobe-foods' and themselves",
    ]


def test_a_missing_file_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schedule", str(tmp_path / "nothing.json")])
    assert result.exit_code == 2


def test_the_installed_command(tmp_path: Path) -> None:
    """Through the real entry point, as coordinators run it."""
    target = tmp_path / "schedule.json"
    done = subprocess.run(
        [sys.executable, "-m", "missionflow", "schedule", str(EXAMPLE), "-o", str(target)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert Schedule.model_validate_json(target.read_text()).stats.scheduled == 5
    assert "scheduled 5 of 6 meetings" in done.stderr
