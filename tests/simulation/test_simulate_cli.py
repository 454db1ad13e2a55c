"""`missionflow simulate` end to end at a small size: the whole eu-us-2017 mission with 20
synthetic applicants, through the command itself, checked against what it wrote."""

from __future__ import annotations

import json
from collections import Counter
from email import message_from_bytes, policy
from pathlib import Path

from typer.testing import CliRunner

from missionflow.cli import app

EXAMPLES = Path(__file__).parents[2] / "examples"

EVERY_MISSION_SENDS = {
    "call_announcement",
    "application_received",
    "deadline_reminder",
    "call_closed",
    "selection_review",
    "selected",
    "delegation_final",
    "meeting_request",
    "agenda",
    "itinerary",
    "visit_reminder",
    "feedback_request",
    "report_ready",
    "follow_up_survey",
}


def test_simulate_writes_the_report_and_every_email(tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        ["simulate", str(EXAMPLES / "eu-us-2017.yaml"), "--applicants", "20", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert "wall time" in result.stdout and summary["mission"]["id"] in result.stdout

    applications = summary["applications"]
    assert applications["received"] + applications["refused_late"] == 20
    assert applications["refused_late"] == 1  # 5% of 20 apply after the deadline
    assert sum(applications["by_country"].values()) == applications["received"]
    assert summary["seats"]["confirmed"] >= 1
    assert summary["matchmaking"]["scheduled"] >= 1
    assert summary["matchmaking"]["checked_in"] >= 1, "participants are checked in on the day"
    assert summary["feedback"]["delegates"] >= 1
    assert summary["follow_up"], "every survey is answered by someone"
    assert summary["meeting_ratings"]["stage_1"], "meetings are rated after the event"
    assert_request_steps(summary)

    for name in ("report.html", "report.pdf", "report.csv", "report.json", "article.md"):
        assert (out / name).stat().st_size > 0, name
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    figures = json.loads((out / "report.json").read_text())
    # The report counts the applications by country from the same rows the summary read.
    by_country = {row["key"]: row["count"] for row in figures["applications"]["by_country"]}
    assert by_country == applications["by_country"]
    assert figures["final"] is True
    assert_report_matches_rows(figures, summary)
    # Emails as the SMTP sink received them, against the outbox rows and the meetings' statuses.
    assert summary["emails"]["by_template"]["matchmaking_nudge"] == summary["matchmaking"]["nudges"]
    # Both sides are told a request expired, but for the invitee of a quiet request.
    told = 2 * figures["meetings"]["expired"] - summary["preferences"]["quiet_expired"]
    assert summary["emails"]["by_template"]["meeting_expired"] == told

    emails = sorted((out / "emails").iterdir())
    assert len(emails) == summary["emails"]["captured"]
    templates = Counter(path.name.split("-")[1] for path in emails)
    assert set(templates) >= EVERY_MISSION_SENDS, templates
    assert dict(templates) == summary["emails"]["by_template"]
    received = [p for p in emails if "-application_received-" in p.name]
    assert len(received) == applications["received"]
    first = message_from_bytes(received[0].read_bytes(), policy=policy.default)
    assert first["X-Missionflow-Mission"] == summary["mission"]["id"]


def test_the_same_seed_simulates_the_same_mission(tmp_path: Path) -> None:
    """Everything a run reads back and draws for (offers, requests, answers, attendance) comes
    back in id order and the ids come from the seed: two runs agree on every figure."""
    summaries = []
    for run in ("first", "second"):
        out = tmp_path / run
        arguments = ["simulate", str(EXAMPLES / "eu-us-2017.yaml"), "--applicants", "12"]
        result = CliRunner().invoke(app, [*arguments, "--seed", "7", "--out", str(out)])
        assert result.exit_code == 0, result.output
        summary = json.loads((out / "summary.json").read_text())
        summaries.append({k: v for k, v in summary.items() if k not in ("wall_seconds", "output")})
    assert summaries[0] == summaries[1]
    assert summaries[0]["emails"]["captured"] > 0


def test_as_written_simulates_the_file_without_the_added_steps(tmp_path: Path) -> None:
    """The 2017 mission as its file says: no preference lists, requests never expire, nobody
    is nudged; the requests left unanswered stay pending, as before these steps existed."""
    out = tmp_path / "out"
    arguments = ["simulate", str(EXAMPLES / "eu-us-2017.yaml"), "--applicants", "12"]
    result = CliRunner().invoke(app, [*arguments, "--as-written", "--out", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["mission"]["added"] == {} and "as written" in result.stdout
    assert set(summary["preferences"].values()) == {0}
    assert summary["matchmaking"]["expired"] == summary["matchmaking"]["nudges"] == 0
    assert summary["matchmaking"]["unanswered"] >= 1
    assert not {"matchmaking_nudge", "meeting_expired"} & set(summary["emails"]["by_template"])


def assert_request_steps(summary: dict) -> None:
    """The eu-us-2017 file has no preference lists, request expiry or nudges: the run gives it
    all three, and what the simulated people did is what the rows hold."""
    assert set(summary["mission"]["added"]) == {
        "preferences_deadline",
        "request_expiry",
        "nudge_every",
    }
    lists, meetings = summary["preferences"], summary["matchmaking"]
    marked = lists["must_meet"] + lists["would_like"] + lists["no_thanks"]
    assert marked == lists["marks_sent"] > 0, "every mark the people made is one row"
    assert lists["no_thanks"] >= 1
    assert lists["mutual_meetings"] == lists["mutual_wishes"] >= 1, "one meeting per mutual wish"
    assert lists["one_sided_requests"] >= 1
    assert lists["no_thanks_placed"] == 0, "a pair with a no thanks is never placed"
    assert lists["quiet_expired"] >= 1, "the simulated people never answer a quiet request"
    assert meetings["expired"] >= 1, "requests left unanswered expire"
    assert meetings["nudges"] >= 1


def assert_report_matches_rows(figures: dict, summary: dict) -> None:
    """The report's figures against the simulation's own count of the rows the mission wrote
    (`simulate.Simulation.summary` reads the tables without
    `missionflow.domain.reporting.figures`)."""
    selection, seats = summary["selection"], summary["seats"]
    for decision in ("selected", "waitlisted", "not_selected", "not_eligible"):
        assert figures["selection"][decision] == selection[decision], decision
    assert figures["selection"]["decided"] == sum(selection.values())
    assert figures["delegation"]["size"] == seats["confirmed"]
    meetings = summary["matchmaking"]
    assert figures["meetings"]["hosts"] == meetings["hosts"]
    for figure, row in [
        ("requested", "requests"),
        ("accepted", "accepted"),
        ("declined", "declined"),
        ("pending", "unanswered"),
        ("scheduled", "scheduled"),
        ("held", "held"),
        ("no_show", "no_show"),
        ("expired", "expired"),
    ]:
        assert figures["meetings"][figure] == meetings[row], figure
    assert figures["arrivals"]["arrived"] == meetings["checked_in"]
    assert figures["visits"]["registered"] == summary["visits"]["places"]
    assert figures["visits"]["attended"] == summary["visits"]["attended"]
    feedback = summary["feedback"]
    assert figures["feedback"]["delegates"]["count"] == feedback["delegates"]
    assert figures["feedback"]["hosts"]["count"] == feedback["hosts"]
    assert figures["feedback"]["responses"] == feedback["delegates"] + feedback["hosts"]
    surveys = {
        f"survey_{s['survey']}": s["responses"]["count"] for s in figures["follow_up"]["surveys"]
    }
    assert surveys == summary["follow_up"]
    rated = {  # each stage's outcome counts, those given at least once
        f"stage_{s['stage']}": {o["key"]: o["count"] for o in s["outcomes"] if o["count"]}
        for s in figures["meeting_ratings"]
        if s["ratings"]
    }
    assert rated == summary["meeting_ratings"]
