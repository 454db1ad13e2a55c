"""The hosts CSV's `colleagues` cell, read without I/O: `Name <email> (role); …`."""

from __future__ import annotations

import pytest

from missionflow.domain.matchmaking.colleague_cell import ColleagueCellError, parse_colleague_cell
from missionflow.domain.matchmaking.rules import HostFileError, csv_rows


def test_entries_are_read_in_order_with_their_optional_role() -> None:
    cell = (
        " Hal Hoster <hal@example.org> (CTO);Ida <ida@example.org> ; ; "
        "Jo Ng<jo@example.org>(Head of R&D);"
    )
    assert parse_colleague_cell(cell) == [
        {"name": "Hal Hoster", "email": "hal@example.org", "role": "CTO"},
        {"name": "Ida", "email": "ida@example.org"},
        {"name": "Jo Ng", "email": "jo@example.org", "role": "Head of R&D"},
    ]
    assert parse_colleague_cell("") == [] and parse_colleague_cell(" ; ") == []


@pytest.mark.parametrize(
    "entry",
    [
        "Ida ida@example.org",  # no <>
        "Ida <ida@example.org> CTO",  # a role outside parentheses
        "Ida <ida@example.org> (CTO",  # parenthesis not closed
        "Ida <ida@example.org",  # bracket not closed
        "Ida <a@example.org> <b@example.org>",  # two addresses
    ],
)
def test_an_entry_of_the_wrong_shape_is_refused_naming_it(entry: str) -> None:
    with pytest.raises(ColleagueCellError) as refused:
        parse_colleague_cell(f"Hal <hal@example.org>; {entry}")
    ((number, message),) = refused.value.problems
    assert number == 1 and repr(entry) in message and "Name <email> (role)" in message


def test_every_wrong_entry_is_refused_and_a_nameless_one_says_so() -> None:
    with pytest.raises(ColleagueCellError) as refused:
        parse_colleague_cell("<hal@example.org>; Ida <ida@example.org>; Jo")
    assert [(n, m) for n, m in refused.value.problems] == [
        (0, "Colleague '<hal@example.org>' has no name before the <email>."),
        (2, "Colleague 'Jo' is not written as Name <email> (role), the role optional, "
            "entries separated by ;."),
    ]  # fmt: skip


def test_the_csv_reads_the_cell_and_locates_a_wrong_entry_at_its_row() -> None:
    header = b"name,country,sector,contact_name,contact_email,colleagues\n"
    good = b'Nanofab,US,Materials,Hope,hope@example.org,"Hal <hal@example.org> (CTO)"\n'
    assert csv_rows(header + good)[0]["colleagues"] == [
        {"name": "Hal", "email": "hal@example.org", "role": "CTO"}
    ]
    bad = b"Energy,US,Energy,Paul,paul@example.org,Ida; Jo <jo@example.org>\n"
    with pytest.raises(HostFileError) as refused:
        csv_rows(header + good + b"\n" + bad)
    ((problem),) = refused.value.errors
    assert problem["loc"] == ("body", 1, "colleagues", 0) and "'Ida'" in problem["msg"]
