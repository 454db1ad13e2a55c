"""Invitee lists as coordinators keep them: a CSV saved from a spreadsheet.

Spreadsheets differ in what they write (a byte-order mark, semicolons in European locales,
"E-mail" or "Organization" as headers), so the reader accepts those and refuses everything else
with the row and column at fault: a coordinator fixes a 3,000-line file from the error list, not
by trial and error.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from missionflow.domain.call.applications import Country, email_key
from missionflow.domain.mission.call_section import Invitee
from missionflow.domain.mission.fields import field_errors

MAX_ROWS = 2000
"""Invitees per request: a batch travels to the mission workflow as one Update, and 2,000 rows
keep it under Temporal's 256 KB payload warning. Larger lists are sent in several files."""

COLUMNS = ("organisation", "email", "name", "country")
REQUIRED = ("organisation", "email")
_ALIASES = {
    "organization": "organisation",
    "organisation_name": "organisation",
    "organization_name": "organisation",
    "company": "organisation",
    "e_mail": "email",
    "email_address": "email",
    "mail": "email",
    "contact_name": "name",
    "contact": "name",
    "country_code": "country",
}


class CsvInvitee(Invitee):
    country: Country | None = None


class InviteeFileError(ValueError):
    """The file cannot be taken; `errors` locate each problem for a 422 body."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the invitee file")
        self.errors = errors


class TooManyInvitees(ValueError):
    pass


@dataclass(frozen=True)
class InviteeList:
    invitees: list[Invitee]
    repeated: int
    """Rows whose email an earlier row of the same file already had; the first one counts."""


def parse_invitees(data: bytes) -> InviteeList:
    """Read a CSV with a header row naming `organisation`, `email` and optionally `name` and
    `country`. Row numbers in errors are the spreadsheet's: the header is row 1.

    Raises:
        InviteeFileError: unreadable text, unknown or missing columns, invalid rows, no rows.
        TooManyInvitees: more than `MAX_ROWS` invitees.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InviteeFileError(
            [_error(("body",), "The file is not UTF-8 text: save it as “CSV UTF-8”.")]
        ) from None
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InviteeFileError(
            [_error(("body",), "The file is empty: the first row names the columns.")]
        )
    reader = csv.reader(io.StringIO(text), delimiter=_delimiter(lines[0]))
    header = [_column(name) for name in next(reader)]
    problems = [
        _error(
            ("body", "header"), f"Unknown column {name!r}: the columns are {', '.join(COLUMNS)}."
        )
        for name in header
        if name not in COLUMNS
    ]
    problems += [
        _error(("body", "header"), f"The column {name!r} is missing.")
        for name in REQUIRED
        if name not in header
    ]
    if problems:
        raise InviteeFileError(problems)
    invitees: dict[str, Invitee] = {}
    repeated = 0
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(header):
            problems.append(
                _error(("body", f"row {number}"), f"{len(cells)} cells for {len(header)} columns.")
            )
            continue
        values = {name: cell for name, cell in zip(header, cells, strict=False) if cell.strip()}
        try:
            invitee = CsvInvitee.model_validate(values)
        except ValidationError as error:
            problems += [
                {**item, "loc": ("body", f"row {number}", *item["loc"])}
                for item in field_errors(error)
            ]
            continue
        key = email_key(str(invitee.email))
        if key in invitees:
            repeated += 1
            continue
        invitees[key] = Invitee.model_validate(invitee.model_dump())
        if len(invitees) > MAX_ROWS:
            raise TooManyInvitees(
                f"At most {MAX_ROWS} invitees per request: send the list in several files."
            )
    if problems:
        raise InviteeFileError(problems)
    if not invitees:
        raise InviteeFileError([_error(("body",), "The file lists no invitees.")])
    return InviteeList(list(invitees.values()), repeated)


# Kept beside csv.Sniffer (2 µs against 112 µs, once a file): Sniffer raises on a one-column
# header, and on 3,000 generated headers misread 80 to this count's 17 (names holding ; or ,).
def _delimiter(header: str) -> str:
    """Comma, or the semicolon or tab a spreadsheet in another locale writes."""
    counts = {delimiter: header.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=lambda delimiter: counts[delimiter]) if any(counts.values()) else ","


def _column(name: str) -> str:
    key = "_".join(name.strip().lower().replace("-", "_").split())
    return _ALIASES.get(key, key)


def _error(location: tuple[str, ...], message: str) -> dict[str, Any]:
    return {"loc": location, "msg": message, "type": "invitee_file"}
