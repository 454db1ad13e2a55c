"""The post-event report as one long CSV, a figure a line, for a spreadsheet to filter."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

CSV_COLUMNS = ("table", "key", "label", "measure", "value", "of", "basis")


def csv_document(report: dict[str, Any]) -> str:
    """The report's tables as one long CSV: one figure a line, so a spreadsheet filters by
    `table` (applications_by_country, meetings, visit, feedback_scores, testimonial, …), then
    `key` (a country code, a visit id, an aspect) and `measure` (count, rate, mean, …). A rate
    fills `of` with its denominator and `basis` with what it is a share of."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in _csv_rows(report):
        writer.writerow(row)
    return out.getvalue()


def _csv_rows(report: dict[str, Any]) -> Iterable[tuple[Any, ...]]:
    def figure(table: str, key: str, label: str, measure: str, value: Any) -> tuple[Any, ...]:
        if isinstance(value, dict) and "basis" in value:
            return (table, key, label, measure, value["count"], value["of"], value["basis"])
        return (table, key, label, measure, "" if value is None else value, "", "")

    applications = report["applications"]
    yield figure("applications", "", "", "received", applications["received"])
    yield figure("applications", "", "", "withdrawn", applications["withdrawn"])
    yield figure("applications", "", "", "complete", applications["complete"])
    for table in ("by_country", "by_sector", "by_organisation_type"):
        for row in applications[table]:
            yield figure(f"applications_{table}", row["key"], row["label"], "count", row)
    for table in ("selection", "meetings"):
        for measure, value in report[table].items():
            yield figure(table, "", "", measure, value)
    for measure, value in (report.get("schedule") or {}).items():
        yield figure("schedule", "", "", measure, value)
    arrivals = report.get("arrivals")  # absent from reports before check-in
    if arrivals:
        for measure in ("expected", "arrived", "not_arrived", "unexpected", "arrival_rate"):
            yield figure("arrivals", "", "", measure, arrivals[measure])
        for side, counts in arrivals["by_side"].items():
            for measure, value in counts.items():
                yield figure("arrivals", side, "", measure, value)
        for measure, value in arrivals["meetings"].items():
            yield figure("attendance_on_the_day", "", "", measure, value)
    for member in report["delegation"]["members"]:
        for measure in ("country", "organisation_type", "sector"):
            yield figure("delegation", member["organisation"], "", measure, member[measure])
    visits = report["visits"]
    for measure in ("planned", "held", "registered", "attended", "attendance_rate"):
        yield figure("visits", "", "", measure, visits[measure])
    yield figure("visits", "", "", "delegates_on_a_visit", visits["delegates_on_a_visit"])
    for visit in visits["by_visit"]:
        for measure in ("starts_at", "capacity", "cancelled", "registered", "waitlisted"):
            yield figure("visit", visit["id"], visit["city"], measure, visit[measure])
        for measure in ("attended", "no_show", "attendance_rate"):
            yield figure("visit", visit["id"], visit["city"], measure, visit[measure])
    feedback = report["feedback"]
    for measure, value in feedback.items():
        if measure != "scores":
            yield figure("feedback", "", "", measure, value)
    for aspect, score in feedback["scores"].items():
        yield figure("feedback_scores", aspect, "", "mean", score["mean"])
        yield figure("feedback_scores", aspect, "", "answers", score["answers"])
        for points, n in score["distribution"].items():
            yield figure("feedback_scores", aspect, "", f"rated_{points}", n)
    for testimonial in report["testimonials"]:
        by, country = testimonial["by"], testimonial["country"]
        yield figure("testimonial", by, country, "text", testimonial["text"])
    follow_up = report["follow_up"]
    for survey in follow_up["surveys"]:
        for measure, value in survey.items():
            if measure != "survey":
                yield figure("follow_up_survey", str(survey["survey"]), "", measure, value)
    for measure, value in follow_up["latest"].items():
        yield figure("follow_up_latest", "", "", measure, value)
    for stage in report.get("meeting_ratings", []):  # absent from reports before them
        key = str(stage["stage"])
        for measure in ("ratings", "meetings_rated", "by_one_side", "by_both_sides"):
            yield figure("meeting_ratings", key, "", measure, stage[measure])
        for outcome in stage["outcomes"]:
            yield figure(
                f"meeting_outcomes_{key}",
                outcome["key"],
                outcome["label"],
                "count",
                outcome["count"],
            )
