"""A hosts CSV's `colleagues` cell: `Hal Hoster <hal@example.org> (CTO); Ida <ida@example.org>`.

A spreadsheet has one cell per host, so its colleagues are written the way a mail client writes
addresses: entries separated by `;`, each a name, the email in `<>`, and an optional role in
parentheses. The entries become the JSON shape (`name`, `email`, `role`) the `Colleague` model
then checks, so a CSV and a JSON load refuse the same addresses and lengths; what this reads
refuses is only an entry whose shape is wrong, naming the entry so the coordinator finds it.
"""

from __future__ import annotations

import re

ENTRY = re.compile(r"(?P<name>[^<>()]*?)\s*<(?P<email>[^<>]*)>\s*(?:\((?P<role>[^()]*)\))?")
SHAPE = "Name <email> (role), the role optional, entries separated by ;"


class ColleagueCellError(ValueError):
    """The cell's entries of the wrong shape: (the entry's number from 0, the message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(message for _, message in problems))
        self.problems = problems


def parse_colleague_cell(cell: str) -> list[dict[str, str]]:
    """The colleagues of a `colleagues` cell, in its order; empty entries (a trailing `;`) are
    skipped. An entry without a name is refused here, not left to the model, because its
    message can then say which entry it is.

    Raises:
        ColleagueCellError: every entry of the wrong shape, each with a message naming it.
    """
    colleagues: list[dict[str, str]] = []
    problems: list[tuple[int, str]] = []
    entries = [entry.strip() for entry in cell.split(";")]
    for number, entry in enumerate(entry for entry in entries if entry):
        match = ENTRY.fullmatch(entry)
        if match is None:
            problems.append((number, f"Colleague {entry!r} is not written as {SHAPE}."))
            continue
        if not match["name"]:
            problems.append((number, f"Colleague {entry!r} has no name before the <email>."))
            continue
        colleague = {"name": match["name"], "email": match["email"].strip()}
        if role := (match["role"] or "").strip():
            colleague["role"] = role
        colleagues.append(colleague)
    if problems:
        raise ColleagueCellError(problems)
    return colleagues
