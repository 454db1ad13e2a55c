"""What a simulation shows and leaves behind: a progress bar per phase, the output folder (the
report in every format, every email, the summary) and the summary in words."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from missionflow.runtime import press
from missionflow.runtime.models import (
    Report,
)
from missionflow.simulation.stack import Captured, SimulationError, Stack


class Progress:
    """One text bar per phase. On a terminal it redraws in place; in a log or a pipe it writes
    each phase's line once, when the phase is done."""

    WIDTH = 28

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._label = ""
        self._done = 0
        self._total = 0
        self._began = time.monotonic()

    def start(self, label: str, total: int) -> None:
        self._label, self._done, self._total = label, 0, max(total, 0)
        self._began = time.monotonic()
        self._draw()

    def advance(self, steps: int = 1) -> None:
        self._done += steps
        self._draw()

    def finish(self, note: str = "") -> None:
        self._done = self._total
        line = f"{self._line()} {time.monotonic() - self._began:5.1f} s" + (
            f"  {note}" if note else ""
        )
        self._stream.write(("\r" if self._live else "") + line + "\n")
        self._stream.flush()

    def _draw(self) -> None:
        if self._live:
            self._stream.write("\r" + self._line())
            self._stream.flush()

    def _line(self) -> str:
        share = self._done / self._total if self._total else 1.0
        filled = round(self.WIDTH * min(share, 1.0))
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        return f"{self._label:<13} [{bar}] {self._done:>5}/{self._total:<5}"


async def newest_report(db: AsyncSession, mission_id: str) -> Report | None:
    return (
        await db.exec(
            select(Report)
            .where(Report.mission_id == mission_id)
            .order_by(col(Report.version).desc())
        )
    ).first()


async def write_output(
    folder: Path, running: Stack, mission_id: str, summary: dict[str, Any]
) -> dict[str, Any]:
    """The newest report in every format, every captured email and the summary, in `folder`."""
    async with running.sessions() as db:
        report = await newest_report(db, mission_id)
    if report is None:
        raise SimulationError("the mission completed without producing a report")
    messages = list(running.sink.messages)
    by_template = Counter(m.template for m in messages)
    summary["emails"] = {
        "captured": len(messages),
        "by_template": dict(sorted(by_template.items())),
    }
    files = {
        "report.html": report.html.encode(),
        "report.pdf": report.pdf or await press.print_pdf(report.html),
        "report.csv": report.csv.encode(),
        "report.json": json.dumps(report.figures, indent=2, ensure_ascii=False).encode(),
        "article.md": report.article.encode(),
    }
    written = {"folder": str(folder), "files": sorted(files), "emails": len(messages)}
    await asyncio.to_thread(_write, folder, files, messages, {**summary, "output": written})
    return written


def _write(
    folder: Path, files: dict[str, bytes], messages: list[Captured], summary: dict[str, Any]
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (folder / name).write_bytes(content)
    emails = folder / "emails"
    if emails.exists():
        shutil.rmtree(emails)  # a previous run's messages would be mistaken for this one's
    emails.mkdir()
    for number, message in enumerate(messages, start=1):
        to = message.recipients[0] if message.recipients else "nobody"
        name = f"{number:04d}-{message.template}-{re.sub(r'[^A-Za-z0-9@._-]+', '_', to)}.eml"
        (emails / name).write_bytes(message.raw)
    text = json.dumps(summary, indent=2, ensure_ascii=False, default=str)
    (folder / "summary.json").write_text(text + "\n", encoding="utf-8")


def describe(summary: dict[str, Any]) -> str:
    """The summary as a coordinator reads it at the end of the run."""
    a, s, seats = summary["applications"], summary["selection"], summary["seats"]
    m, v, f = summary["matchmaking"], summary["visits"], summary["feedback"]
    emails, p, added = summary["emails"], summary["preferences"], summary["mission"]["added"]
    lines = [
        f"{summary['mission']['title']} [{summary['mission']['id']}], seed {summary['seed']}",
        "mission file  "
        + (
            "with "
            + ", ".join(f"{k} {v}" for k, v in added.items())
            + " (not in the file; --as-written leaves them out)"
            if added
            else "as written"
        ),
        f"applications  {a['received']} received ({a['incomplete']} incomplete), "
        f"{a['refused_late']} refused after the deadline, from {len(a['by_country'])} countries",
        f"selection     {s['selected']} selected, {s['waitlisted']} waitlisted",
        f"seats         {seats['confirmed']} confirmed, {seats['declined']} declined, "
        f"{seats['expired']} expired, {seats['offered_from_waitlist']} offered from the waitlist",
        f"matchmaking   {m['hosts']} hosts, {m['requests']} requests, {m['accepted']} accepted, "
        f"{m['expired']} expired unanswered, {m['nudges']} nudges, {m['scheduled']} placed, "
        f"{m['held']} held, {m['no_show']} no-shows, {m['checked_in']} checked in",
        f"preferences   {p['must_meet']} must meet, {p['would_like']} would like, "
        f"{p['no_thanks']} no thanks: {p['mutual_meetings']} mutual meetings, "
        f"{p['one_sided_requests']} requests",
        f"visits        {v['places']} places, {v['waitlisted']} waitlisted, "
        f"{v['attended']} attended, {v['no_show']} no-shows",
        f"feedback      {f['delegates']} delegates, {f['hosts']} hosts, "
        f"{f['testimonials']} testimonials ({f['publishable']} publishable)",
        "follow-up     "
        + (
            ", ".join(f"{k.replace('_', ' ')}: {n}" for k, n in summary["follow_up"].items())
            or "none"
        ),
        "ratings       "
        + (
            ", ".join(
                f"{stage.replace('_', ' ')}: {sum(outcomes.values())}"
                for stage, outcomes in summary.get("meeting_ratings", {}).items()
            )
            or "none"
        ),
        f"emails        {emails['captured']}: "
        + ", ".join(f"{t} {n}" for t, n in emails["by_template"].items()),
        f"report        version {summary['report_version']}, "
        f"written to {summary['output']['folder']}",
        f"wall time     {summary['wall_seconds']:.1f} s",
    ]
    return "\n".join(lines)
