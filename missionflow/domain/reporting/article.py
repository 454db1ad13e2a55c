"""The post-event report as a short article in Markdown, ready to publish.

Only testimonials that passed `figures.published` reach it (the figures hold no others), and
people's words are escaped so they never become markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import mean
from typing import Any

from missionflow.domain.reporting.meeting_ratings import EVENT, HOPEFUL


def article(report: dict[str, Any], *, testimonials: int = 2) -> str:
    """A short article in Markdown, ready to publish: a title, a lead paragraph, the key
    figures and up to `testimonials` published testimonials, the best-rated first."""
    mission = report["mission"]
    delegation = report["delegation"]
    meetings = report["meetings"]
    visits = report["visits"]
    lead = (
        f"{_count(delegation['size'], 'organisation')} from "
        f"{_count(delegation['countries'], 'country', 'countries')} took part in the "
        f"{mission['title']}, organised by {mission['organiser']} in {mission['destination']}."
    )
    if meetings["held"]:
        lead += (
            f" They held {_count(meetings['held'], 'B2B meeting')} with "
            f"{_count(meetings['hosts'], 'host organisation')}"
        )
        lead += f" and visited {_list(visits['cities'])}." if visits["cities"] else "."
    elif visits["cities"]:
        lead += f" The delegation visited {_list(visits['cities'])}."
    lines = [
        f"# {_inline(mission['title'])}: the results",
        "",
        _inline(lead),
        "",
        "## Key figures",
        "",
    ]
    lines += [f"- {item}" for item in _key_figures(report)]
    chosen = sorted(
        report["testimonials"],
        key=lambda t: -(t["score"] if t["score"] is not None else 0),
    )[:testimonials]
    if chosen:
        lines += ["", "## In their words", ""]
        for testimonial in chosen:
            quoted = [f"> {_inline(line)}".rstrip() for line in testimonial["text"].splitlines()]
            lines += [
                *quoted,
                ">",
                f"> — {_inline(testimonial['by'])} ({_inline(testimonial['country'])})",
                "",
            ]
        lines.pop()
    return "\n".join(lines) + "\n"


def _key_figures(report: dict[str, Any]) -> list[str]:
    applications = report["applications"]
    selection = report["selection"]
    meetings = report["meetings"]
    visits = report["visits"]
    feedback = report["feedback"]
    items = [
        f"{_count(applications['received'], 'application')} from "
        f"{_count(len(applications['by_country']), 'country', 'countries')}",
        f"{_count(report['delegation']['size'], 'delegate')} "
        f"(selection rate {_percent(selection['selection_rate'])})",
        f"{_count(meetings['requested'], 'meeting')} requested, {meetings['accepted']} accepted, "
        f"{meetings['scheduled']} scheduled, {meetings['held']} held",
    ]
    if visits["held"]:
        items.append(
            f"{_count(visits['held'], 'visit')}, attendance {_percent(visits['attendance_rate'])}"
        )
    overall = [s["mean"] for s in feedback["scores"].values() if s["mean"] is not None]
    if overall:
        items.append(
            f"average satisfaction {mean(overall):.1f} out of 5 "
            f"({_percent(feedback['delegates'])} of delegates answered)"
        )
    for stage in report.get("meeting_ratings", []):  # absent from reports before them
        if stage["stage"] == EVENT and stage["ratings"]:
            hopeful = sum(o["count"] for o in stage["outcomes"] if o["key"] in HOPEFUL)
            items.append(
                f"{hopeful} of {_count(stage['ratings'], 'meeting rating')} after the event: "
                "an agreement, a follow-up meeting or a cooperation in view"
            )
    latest = report["follow_up"]["latest"]
    if report["follow_up"]["respondents"]:
        items.append(
            f"{_count(latest['agreements'], 'agreement')} and "
            f"{_count(latest['distribution_deals'], 'distribution deal')} reported since"
        )
    return items


def _count(n: int, singular: str, plural: str | None = None) -> str:
    return f"{n} {singular if n == 1 else plural or singular + 's'}"


def _percent(value: dict[str, Any]) -> str:
    return "n/a" if value["rate"] is None else f"{value['rate']:.0%}"


def _list(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


_MARKDOWN = str.maketrans({c: f"\\{c}" for c in "\\`*_[]<>#|"})


def _inline(text: str) -> str:
    """People's words as Markdown text, never as markup (a link, a heading, raw HTML)."""
    return text.translate(_MARKDOWN)
