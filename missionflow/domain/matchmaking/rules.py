"""The matchmaking event's rules that need no I/O: its slots, the hosts' form and when they are
unavailable, who may meet whom, and when requests are taken.

Slots are named by their local start in the venue's zone (`2017-05-15T09:20`), and a host may
also say `session-2` for a whole session: that is how coordinators write availability in a
spreadsheet, and it stays readable in the API and in the scheduler's instances.
"""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from missionflow.domain.call.applications import (
    MAX_COLLEAGUES,
    Colleague,
    Country,
    organisation_key,
)
from missionflow.domain.email_address import EmailAddress
from missionflow.domain.instants import describe, local
from missionflow.domain.matchmaking.colleague_cell import ColleagueCellError, parse_colleague_cell
from missionflow.domain.mission.event_sections import Matchmaking
from missionflow.domain.mission.event_tables import table_numbers
from missionflow.domain.mission.fields import Slug, field_errors

MAX_HOSTS = 2000
DELEGATE, HOST = "delegate", "host"
REMINDER_LEAD = timedelta(days=1)


@dataclass(frozen=True)
class SlotTime:
    id: str
    session: int
    start: datetime
    end: datetime


def slots_of(event: Matchmaking) -> list[SlotTime]:
    """Every slot of every session, back to back from the session's start."""
    length = timedelta(minutes=event.slot_minutes)
    slots = []
    for number, session in enumerate(event.sessions, start=1):
        start = session.start
        while start + length <= session.end:
            slot_id = local(start, event.timezone).strftime("%Y-%m-%dT%H:%M")
            slots.append(SlotTime(slot_id, number, start, start + length))
            start += length
    return slots


def unavailable_slots(tokens: list[str], slots: list[SlotTime]) -> tuple[list[str], list[str]]:
    """The slot ids a host's unavailability names, and the tokens that name nothing."""
    by_id = {slot.id: slot for slot in slots}
    chosen: list[str] = []
    unknown: list[str] = []
    for token in (t.strip() for t in tokens if t.strip()):
        if token in by_id:
            chosen.append(token)
        elif token.startswith("session-") and token[8:].isdigit():
            matching = [slot.id for slot in slots if slot.session == int(token[8:])]
            chosen += matching
            if not matching:
                unknown.append(token)
        else:
            unknown.append(token)
    return sorted(set(chosen)), unknown


class HostForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, Field(min_length=1, max_length=300)]
    country: Country
    sector: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=5000)] | None = None
    contact_name: Annotated[str, Field(min_length=1, max_length=200)]
    contact_email: EmailAddress
    unavailable: list[str] = Field(
        default_factory=list,
        description="Slots (`2017-05-15T09:20`, local time at the venue) or whole sessions "
        "(`session-2`) the host cannot meet in.",
    )
    table: Slug | None = Field(
        default=None,
        description="The id of the table (matchmaking.tables) it meets at in every slot; with a "
        "number of tables, 1 to that number.",
    )
    remote: bool = Field(
        default=False,
        description="Meets by video: its meetings take no table and carry the event's link.",
    )
    colleagues: list[Colleague] = Field(
        default_factory=list,
        max_length=MAX_COLLEAGUES,
        description="Who comes too, added or updated by email; the others stay (a CSV cell: "
        "`Name <email> (role); …`).",
    )


class HostFileError(ValueError):
    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(f"{len(errors)} problem(s) in the hosts")
        self.errors = errors


def parse_hosts(rows: list[dict[str, Any]], event: Matchmaking) -> list[HostForm]:
    """Validate hosts given as JSON objects or CSV rows against the event's slots and tables;
    every problem located at its row and field.

    Raises:
        HostFileError: with field-level errors; nothing is taken when one row is wrong.
    """
    slots = slots_of(event)
    problems: list[dict[str, Any]] = []
    hosts: dict[str, HostForm] = {}
    if not rows:
        problems.append({"loc": ("body",), "msg": "No hosts were given.", "type": "hosts"})
    if len(rows) > MAX_HOSTS:
        problems.append(
            {"loc": ("body",), "msg": f"At most {MAX_HOSTS} hosts per request.", "type": "hosts"}
        )
    for index, row in enumerate(rows[:MAX_HOSTS]):
        try:
            host = HostForm.model_validate(row)
        except ValidationError as error:
            problems += [
                {**item, "loc": ("body", index, *item["loc"])} for item in field_errors(error)
            ]
            continue
        host.unavailable, unknown = unavailable_slots(host.unavailable, slots)
        if unknown:
            problems.append(
                {
                    "loc": ("body", index, "unavailable"),
                    "msg": f"No slot or session named {', '.join(unknown)}; slots are named by "
                    f"their local start (e.g. {slots[0].id}) and sessions session-1 to "
                    f"session-{slots[-1].session}.",
                    "type": "hosts",
                }
            )
        problems += [
            {"loc": ("body", index, field), "msg": message, "type": "hosts"}
            for field, message in _place_problems(host, event)
        ]
        hosts[organisation_key(host.name)] = host  # the last row of a name wins
    if problems:
        raise HostFileError(problems)
    return list(hosts.values())


def _place_problems(host: HostForm, event: Matchmaking) -> list[tuple[str, str]]:
    """A fixed table the event does not have, a remote host without the event's video link,
    or both at once."""
    found = []
    known = table_numbers(event.tables)
    if host.table is not None and host.table not in known:
        shown = ", ".join(list(known)[:10]) + (", ..." if len(known) > 10 else "")
        found.append(("table", f"No table {host.table}; the tables are {shown}."))
    if host.remote and host.table is not None:
        found.append(("remote", "A remote host meets by video and has no table."))
    if host.remote and event.video_link is None:
        found.append(
            ("remote", "Remote meetings need a video link: set matchmaking.video_link first.")
        )
    return found


def csv_rows(data: bytes) -> list[dict[str, Any]]:
    """CSV rows as the JSON objects `parse_hosts` reads; `unavailable` separated by `;`, and
    `colleagues` as `Name <email> (role); …` (colleague_cell).

    Raises:
        HostFileError: the file is not UTF-8, or colleagues' entries of the wrong shape, each
            at ("body", row index, "colleagues", entry index).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise HostFileError(
            [{"loc": ("body",), "msg": "The file is not UTF-8 text.", "type": "hosts"}]
        ) from None
    reader = csv.DictReader(io.StringIO(text))
    rows: list[dict[str, Any]] = []
    problems: list[dict[str, Any]] = []
    for row in reader:
        values = {k.strip(): (v or "").strip() for k, v in row.items() if k and (v or "").strip()}
        if "unavailable" in values:
            values["unavailable"] = [t for t in values["unavailable"].split(";") if t.strip()]
        if "colleagues" in values:
            try:
                values["colleagues"] = parse_colleague_cell(values["colleagues"])
            except ColleagueCellError as error:
                problems += [
                    {"loc": ("body", len(rows), "colleagues", n), "msg": msg, "type": "hosts"}
                    for n, msg in error.problems
                ]
        if values:
            rows.append(values)
    if problems:
        raise HostFileError(problems)
    return rows


def pair_key(one: uuid.UUID, other: uuid.UUID) -> str:
    """One key per pair, whoever asked: requests between the same two are one meeting."""
    return "|".join(sorted((one.hex, other.hex)))


def request_refusal(event: Matchmaking, now: datetime) -> str | None:
    """Why a meeting request cannot be made now (to the second, shown in the venue's zone)."""
    if now < event.requests_open_at:
        return f"Meeting requests open on {describe(event.requests_open_at, event.timezone)}."
    if now >= event.requests_deadline:
        return f"Meeting requests closed on {describe(event.requests_deadline, event.timezone)}."
    return None


def answer_refusal(event: Matchmaking, now: datetime) -> str | None:
    """Answers and cancellations are taken until the event ends; after the request deadline
    they change the published agendas."""
    if now < event.requests_open_at:
        return f"Meeting requests open on {describe(event.requests_open_at, event.timezone)}."
    if now >= event.ends_at:
        return f"The matchmaking event ended on {describe(event.ends_at, event.timezone)}."
    return None


def reminder_at(event: Matchmaking) -> datetime:
    """A day before requests close, or half-way through a window shorter than two days."""
    window = event.requests_deadline - event.requests_open_at
    return event.requests_deadline - min(REMINDER_LEAD, window / 2)
