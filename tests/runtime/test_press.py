"""The printing process: the report is drawn away from the worker's event loop, and a printing
process that died is replaced rather than failing every report after it."""

from __future__ import annotations

import os
import signal

from test_report_figures import data

from missionflow.domain.reporting import figures as report
from missionflow.runtime import press, report_render


async def test_the_report_is_drawn_and_printed_in_another_process() -> None:
    assert await press._run(os.getpid) != os.getpid()
    figures = report.figures(data())
    page, pdf = await press.render(figures, pdf=True)
    assert page == report_render.html(figures)
    assert page.count("<svg") == 5
    assert pdf is not None and pdf.startswith(b"%PDF-")
    assert await press.render(figures, pdf=False) == (page, None)


async def test_a_printing_process_that_died_is_replaced() -> None:
    first = await press._run(os.getpid)
    os.kill(first, signal.SIGKILL)
    second = await press._run(os.getpid)
    assert second not in (first, os.getpid())
    assert (await press.print_pdf("<p>After the crash.</p>")).startswith(b"%PDF-")
