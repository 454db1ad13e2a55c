"""The report is drawn and printed in a separate process, one per missionflow process.

matplotlib and WeasyPrint are pure Python for the most part: run in a thread, they hold the GIL
for the seconds a report takes, and the worker's event loop, which also answers workflow tasks
and runs every other activity, gets the rest. In a process of their own they run beside the
worker on another core, and their imports (matplotlib, Pango) stay out of the API and the worker.

The process is spawned on first use, not forked: a fork of a process running Temporal's core
threads would inherit their locks. A process that died (killed, out of memory) breaks the pool;
the next call starts a new one.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from missionflow.runtime import report_render

T = TypeVar("T")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


async def _run(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in the printing process; once more in a new one if it died."""
    loop = asyncio.get_running_loop()
    pool = _executor()
    try:
        return await loop.run_in_executor(pool, function, *args)
    except BrokenProcessPool:
        _discard(pool)
    return await loop.run_in_executor(_executor(), function, *args)


def warm() -> None:
    """Start the printing process and its imports now, in the background, when a report is
    known to be coming soon (`simulate`): the first one then does not wait for them."""
    _executor().submit(report_render.load)


async def render(figures: dict[str, Any], *, pdf: bool) -> tuple[str, bytes | None]:
    """The report page of `figures`, and its PDF when `pdf` (see `report_render.render`)."""
    return await _run(report_render.render, figures, pdf)


async def print_pdf(page: str) -> bytes:
    """A report page printed to A4 (see `report_render.pdf`)."""
    return await _run(report_render.pdf, page)
