"""Reading invitee lists as spreadsheets write them, and refusing them row by row."""

from __future__ import annotations

import csv

import pytest
from hypothesis import given
from hypothesis import strategies as st

from missionflow.domain.call.invitees import (
    _ALIASES,
    COLUMNS,
    MAX_ROWS,
    InviteeFileError,
    TooManyInvitees,
    _delimiter,
    parse_invitees,
)


def test_a_spreadsheet_export_with_bom_semicolons_and_other_headers() -> None:
    data = (
        "\ufeffOrganization;E-mail;Contact name;Country\r\n"
        "Cluster Nano Bavaria;jana@example.org;Jana Weber;de\r\n"
        ";;;\r\n"
        "Pôle Matériaux;contact@pole.example.fr;;FR\r\n"
        "Cluster Nano Bavaria;JANA@example.org;Again;DE\r\n"
    ).encode()
    parsed = parse_invitees(data)
    assert [(i.organisation, str(i.email), i.name, i.country) for i in parsed.invitees] == [
        ("Cluster Nano Bavaria", "jana@example.org", "Jana Weber", "DE"),
        ("Pôle Matériaux", "contact@pole.example.fr", None, "FR"),
    ]
    assert parsed.repeated == 1


def test_every_bad_row_is_named_with_its_column() -> None:
    data = (
        b"organisation,email,country\n"
        b"Good Cluster,good@example.org,DE\n"
        b"Bad Email,not-an-email,FR\n"
        b"Bad Country,ok@example.org,XX\n"
        b",nobody@example.org,\n"
        b"Too,many@example.org,DE,cells\n"
    )
    with pytest.raises(InviteeFileError) as refused:
        parse_invitees(data)
    assert {tuple(error["loc"]) for error in refused.value.errors} == {
        ("body", "row 3", "email"),
        ("body", "row 4", "country"),
        ("body", "row 5", "organisation"),
        ("body", "row 6"),
    }
    country = next(e for e in refused.value.errors if e["loc"][1] == "row 4")
    assert "ISO 3166" in country["msg"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"organisation,email\n", "no invitees"),
        (b"organisation,phone\nA,123\n", "'email' is missing"),
        (b"organisation,email,budget\nA,a@example.org,1\n", "Unknown column 'budget'"),
        ("organisation,email\nA,a@example.org\n".encode("utf-16"), "not UTF-8"),
    ],
)
def test_unreadable_files_say_why(data: bytes, message: str) -> None:
    with pytest.raises(InviteeFileError) as refused:
        parse_invitees(data)
    assert any(message in error["msg"] for error in refused.value.errors), refused.value.errors


def test_more_than_the_batch_limit_is_refused() -> None:
    rows = [f"Cluster {n},c{n}@example.org\n" for n in range(MAX_ROWS + 1)]
    assert (
        len(parse_invitees(("organisation,email\n" + "".join(rows[:-1])).encode()).invitees)
        == MAX_ROWS
    )
    with pytest.raises(TooManyInvitees):
        parse_invitees(("organisation,email\n" + "".join(rows)).encode())


_HEADER_NAME = st.builds(
    lambda name, spelling: spelling(name),
    st.sampled_from([*COLUMNS, *_ALIASES]),
    st.sampled_from(
        [str, str.title, str.upper, lambda n: n.replace("_", " "), lambda n: n.replace("_", "-")]
    ),
)
"""A column as spreadsheets head it: a known name or alias, in any case, `_` as space or `-`."""


@given(names=st.lists(_HEADER_NAME, min_size=1, max_size=6), delimiter=st.sampled_from(",;\t"))
def test_the_delimiter_is_the_one_csv_sniffer_finds_in_a_spreadsheets_header(
    names: list[str], delimiter: str
) -> None:
    header = delimiter.join(names)

    found = _delimiter(header)

    if len(names) == 1:  # nothing to find: Sniffer gives up, the reader takes a comma
        with pytest.raises(csv.Error):
            csv.Sniffer().sniff(header, delimiters=",;\t")
        assert found == ","
    else:
        assert found == delimiter == csv.Sniffer().sniff(header, delimiters=",;\t").delimiter
