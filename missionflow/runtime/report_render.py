"""The report as people read it: an HTML page with inline SVG charts, and the PDF of that page.

Charts are drawn by matplotlib's SVG backend through its object API (no pyplot, so no global
figure state shared between threads) and inlined in the page, so the HTML stands alone: no
script, no network, nothing to fetch. WeasyPrint prints the same HTML to A4, so the page and the
PDF can never disagree. Both are CPU-bound and slow to import: `missionflow.runtime.press` runs them
in a process of their own, and they are imported where they are used, so that importing this module
(for its colours, or to hand its functions to that process) costs nothing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

CHART_COLOUR = "#0f766e"
"""The bars' colour (a teal found nowhere else on the page): tests find the charts by it."""
SECOND_COLOUR = "#f59e0b"

_environment = Environment(
    loader=PackageLoader("missionflow.runtime", "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def percent(value: dict[str, Any]) -> str:
    """A rate as the page shows it: `75 % (3 of 4)`, or `n/a (0 of 0)`."""
    share = "n/a" if value["rate"] is None else f"{value['rate']:.0%}"
    return f"{share} ({value['count']} of {value['of']})"


_environment.filters["percent"] = percent


def html(report: dict[str, Any]) -> str:
    """The report page: every figure of `report` (see
    `missionflow.domain.reporting.figures.figures`)."""
    return _environment.get_template("report.html").render(report=report, charts=charts(report))


def pdf(page: str) -> bytes:
    """The report page printed to A4 by WeasyPrint."""
    from weasyprint import HTML

    return HTML(string=page).write_pdf()


def load() -> None:
    """Import what drawing and printing need (two seconds and more), ahead of the first report."""
    import matplotlib.figure  # noqa: F401
    import weasyprint  # noqa: F401


def render(report: dict[str, Any], with_pdf: bool) -> tuple[str, bytes | None]:
    """The page, and its PDF when `with_pdf`: one trip to the printing process for both."""
    page = html(report)
    return page, pdf(page) if with_pdf else None


def charts(report: dict[str, Any]) -> dict[str, Markup]:
    applications = report["applications"]
    selection = report["selection"]
    meetings = report["meetings"]
    scores = report["feedback"]["scores"]
    visits = report["visits"]["by_visit"]
    ratings = {
        f"ratings_{stage['stage']}": _bars(
            f"ratings-{stage['stage']}",
            [outcome["label"] for outcome in stage["outcomes"]],
            [outcome["count"] for outcome in stage["outcomes"]],
        )
        for stage in report.get("meeting_ratings", [])  # absent from reports before them
        if stage["ratings"]
    }
    return ratings | {
        "funnel": _bars(
            "funnel",
            ["Applications", "With a decision", "Selected", "Seats offered", "Delegates"],
            [
                applications["received"],
                selection["decided"],
                selection["selected"],
                selection["seats_offered"],
                report["delegation"]["size"],
            ],
        ),
        "countries": _bars(
            "countries",
            [row["label"] for row in applications["by_country"]],
            [row["count"] for row in applications["by_country"]],
        ),
        "meetings": _bars(
            "meetings",
            ["Requested", "Accepted", "Scheduled", "Held"],
            [meetings[k] for k in ("requested", "accepted", "scheduled", "held")],
        ),
        "scores": _bars(
            "scores",
            [aspect.capitalize() for aspect in scores],
            [s["mean"] or 0 for s in scores.values()],
            limit=5,
        ),
        "visits": _bars(
            "visits",
            [f"{v['city']}: {v['host']}" for v in visits],
            [v["registered"] for v in visits],
            second=[v["attended"] for v in visits],
            legend=("Registered", "Attended"),
        ),
    }


def _bars(
    name: str,
    labels: Sequence[str],
    values: Sequence[float],
    *,
    limit: float | None = None,
    second: Sequence[float] | None = None,
    legend: tuple[str, str] | None = None,
) -> Markup:
    """Horizontal bars, the first label on top, as an `<svg>` element ready to inline."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    rows = max(len(labels), 1)
    figure = Figure(figsize=(6.4, 0.5 + 0.32 * rows * (2 if second else 1)))
    axes = figure.add_subplot()
    if labels:
        positions = list(range(len(labels)))
        height = 0.4 if second else 0.7
        offset = height / 2 if second else 0
        bars = axes.barh([p - offset for p in positions], values, height=height, color=CHART_COLOUR)
        axes.bar_label(bars, fmt="%g", padding=3, fontsize=8)
        if second:
            extra = axes.barh(
                [p + offset for p in positions], second, height=height, color=SECOND_COLOUR
            )
            axes.bar_label(extra, fmt="%g", padding=3, fontsize=8)
            axes.legend(
                legend, fontsize=8, frameon=False, ncol=2, loc="lower right", bbox_to_anchor=(1, 1)
            )
        axes.set_yticks(positions, [_shorten(label) for label in labels], fontsize=8)
        axes.invert_yaxis()
        top = limit or max([*values, *(second or []), 1])
        axes.set_xlim(0, top * (1 if limit else 1.15))
        axes.xaxis.set_major_locator(MaxNLocator(integer=limit is None))
    else:
        axes.text(0.5, 0.5, "No data yet", ha="center", va="center", transform=axes.transAxes)
        axes.set_yticks([])
    axes.tick_params(axis="x", labelsize=8)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    figure.tight_layout(pad=0.4)
    out = io.StringIO()
    # Ids inside an SVG derive from the salt; one per chart keeps them unique on the page.
    with matplotlib.rc_context({"svg.hashsalt": name, "svg.fonttype": "none"}):
        figure.savefig(
            out, format="svg", metadata=dict.fromkeys(("Creator", "Date", "Format", "Type"))
        )
    svg = out.getvalue()
    return Markup(svg[svg.index("<svg") :])  # matplotlib escapes the labels it writes


_SPACES = re.compile(r"\s+")


def _shorten(label: str, width: int = 40) -> str:
    label = _SPACES.sub(" ", label).strip()
    label = label if len(label) <= width else label[: width - 1] + "…"
    return label.replace("$", r"\$")  # a `$` would start matplotlib's mathtext
