"""The report page and its PDF: the PDF's first page is rendered to an image (pdftoppm) and read
(pdftotext), as a coordinator opening it would see it: the title and a chart."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from test_report_figures import SECRET, VisitFacts, data

from missionflow.domain.reporting import figures as report
from missionflow.runtime import report_render

HOSTILE = "<script>alert(1)</script>"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} not found: run scripts/ensure-system-packages (poppler-utils)")
    return found


@pytest.fixture(scope="module")
def figures() -> dict[str, Any]:
    visits = [
        VisitFacts("x", HOSTILE, "Host & Co", "UTC", data().produced_at, capacity=3),
    ]
    return report.figures(data(visits=visits, organiser=f"Platform {HOSTILE}"))


@pytest.fixture(scope="module")
def page(figures: dict[str, Any]) -> str:
    return report_render.html(figures)


def test_the_page_stands_alone_with_inline_charts(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 5
    assert report_render.CHART_COLOUR in page
    assert "<script" not in page
    assert set(re.findall(r"https?://[^\"' ]+", page)) <= {  # namespaces only: nothing to fetch
        "http://www.w3.org/1999/xlink",
        "http://www.w3.org/2000/svg",
    }
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page  # in the header and in a chart
    assert "Superb matchmaking." in page
    assert SECRET not in page and "hated" not in page


def test_every_decision_is_shown(page: str) -> None:
    """The waitlisted, not selected and not eligible add up, with the selected, to the decided."""
    row = re.search(r"Waitlisted / not selected / not eligible[^<]*</td><td[^>]*>([^<]+)<", page)
    assert row is not None and row.group(1).split(" / ") == ["1", "1", "1"]


def test_the_pdf_first_page_shows_the_title_and_a_chart(page: str, tmp_path: Path) -> None:
    pdf = report_render.pdf(page)
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)

    text = subprocess.run(
        [_tool("pdftotext"), "-f", "1", "-l", "1", "-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "High-level EU Cluster Mission to the USA" in " ".join(text.split())
    assert "Applications and selection" in text

    subprocess.run(
        [
            _tool("pdftoppm"),
            "-png",
            "-r",
            "50",
            "-f",
            "1",
            "-l",
            "1",
            str(path),
            str(tmp_path / "p"),
        ],
        check=True,
    )
    (png,) = tmp_path.glob("p*.png")
    with Image.open(png) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        raw = rgb.tobytes()
    pixels = list(zip(raw[0::3], raw[1::3], raw[2::3], strict=True))
    assert (width, height) == pytest.approx((413, 585), abs=2)  # A4 at 50 dpi
    target = tuple(int(report_render.CHART_COLOUR[i : i + 2], 16) for i in (1, 3, 5))
    bars = [
        n
        for n, pixel in enumerate(pixels)
        if sum(abs(a - b) for a, b in zip(pixel, target, strict=True)) < 30
    ]
    # The funnel's bars: several thousand pixels of the chart colour, below the title.
    assert len(bars) > 0.02 * width * height
    assert min(bars) // width > 0.15 * height

    pages = subprocess.run(
        [_tool("pdftotext"), str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Superb matchmaking." in pages
    assert SECRET not in pages


def test_the_schedule_shows_its_bounds(page: str) -> None:
    """Meetings against the upper bound, breaks against the lower bound with the gap, idle
    slots, the break difference against the allowed one."""
    table = page.split('<table id="schedule">')[1].split("</table>")[0]
    cells = re.findall(r'<td class="n">([^<]+)</td>', table)
    assert cells == ["7 of 7, proven optimal", "5 of at least 3: gap 2", "9", "2 (2)"]
    assert "The schedule (version 2)" in page


def test_a_mission_without_data_renders_too() -> None:
    empty = report.figures(
        data(applications=[], meetings=[], visits=[], registrations=[], feedback=[], follow_ups=[])
    )
    page = report_render.html(empty)
    assert "No data yet" in page and "The mission had no visits." in page
    assert "The schedule (version" in page  # the sample's schedule is still given
    unscheduled = report_render.html({**empty, "schedule": None})
    assert "The schedule (version" not in unscheduled
    old = {k: v for k, v in empty.items() if k != "schedule"}  # figures kept before it existed
    assert "The schedule (version" not in report_render.html(old)
    assert report_render.pdf(page).startswith(b"%PDF-")
