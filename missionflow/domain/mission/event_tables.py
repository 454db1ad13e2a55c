"""The matchmaking event's tables and its video link: `tables` as a number (tables 1..n, as
before 1.1) or as named tables and rooms, and the link template of remote meetings.

A table is numbered by its place in the list (the first is table 1): the scheduler and the
database keep numbers, the agendas show the name and location. With a number of tables, table
ids are "1".."n", so a host may ask for a fixed table either way.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, TypeAdapter, ValidationError

from missionflow.domain.mission.fields import Slug, Strict, Text, field_error

PLACEHOLDERS = ("mission", "meeting")
"""What a video link template may hold: the mission's id and the meeting's id (a UUID)."""

_COUNT = TypeAdapter(Annotated[int, Field(ge=1)])


class Table(Strict):
    id: Slug
    name: Text
    location: Text | None = Field(default=None, description="e.g. a hall or a floor")


def _tables(value: Any) -> Any:
    """A number as before, or a list of named tables, each problem at its item and field
    (never at a branch of the union)."""
    if not isinstance(value, list):
        try:
            return _COUNT.validate_python(value)
        except ValidationError as error:
            raise ValueError(error.errors()[0]["msg"]) from None
    if not value:
        raise ValueError("name at least one table, or give their number")
    tables: list[Table] = []
    for index, item in enumerate(value):
        try:
            tables.append(Table.model_validate(item))
        except ValidationError as error:
            first = error.errors()[0]
            where = ".".join(str(part) for part in (index, *first["loc"]))
            raise field_error(where, first["msg"].removeprefix("Value error, ")) from None
    seen: set[str] = set()
    for index, table in enumerate(tables):
        if table.id in seen:
            raise field_error(f"{index}.id", f"the table id {table.id!r} is used twice")
        seen.add(table.id)
    return tables


Tables = Annotated[
    Annotated[int, Field(ge=1)] | list[Table],
    BeforeValidator(_tables),
    Field(
        description="How many tables (numbered 1..n), or the tables and rooms by name: "
        "[{id, name, location}]."
    ),
]


def _link_template(value: str) -> str:
    if not value.startswith(("https://", "http://")):
        raise ValueError("a video link starts with https:// (or http://)")
    try:
        parts = list(string.Formatter().parse(value))
    except ValueError as error:
        raise ValueError(f"{error}; write a brace as {{{{ or }}}}") from None
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise ValueError(f"unknown placeholder {{{name}}}: a video link may hold {known}")
    return value


VideoLink = Annotated[
    str,
    Field(
        max_length=500,
        description="The link of each remote meeting: {mission} and {meeting} are replaced "
        "by the mission's and the meeting's ids.",
    ),
    AfterValidator(_link_template),
]


@dataclass(frozen=True)
class Place:
    """Where an in-person meeting is, as the agendas say it."""

    number: int
    name: str
    location: str | None


def table_count(tables: int | list[Table]) -> int:
    return tables if isinstance(tables, int) else len(tables)


def table_numbers(tables: int | list[Table]) -> dict[str, int]:
    """Each table's id and its number: "1".."n" for a number of tables."""
    if isinstance(tables, int):
        return {str(n): n for n in range(1, tables + 1)}
    return {table.id: n for n, table in enumerate(tables, start=1)}


def place_of(tables: int | list[Table], number: int) -> Place:
    """Table `number`'s name and location ("Table 3" for a number of tables)."""
    if isinstance(tables, int) or not 1 <= number <= len(tables):
        return Place(number, f"Table {number}", None)
    table = tables[number - 1]
    return Place(number, table.name, table.location)


def video_link(template: str, *, mission: str, meeting: str) -> str:
    """A remote meeting's link (`template` checked at load: only known placeholders)."""
    return template.format(mission=mission, meeting=meeting)
