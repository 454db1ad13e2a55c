"""ISO 8601 durations: parsing, canonical text, and calendar-aware shifting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import isodate
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from missionflow.domain.durations import Duration, IsoDuration


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "parsed", "canonical"),
    [
        ("P7D", IsoDuration(days=7), "P7D"),
        ("P2D", IsoDuration(days=2), "P2D"),
        ("PT30S", IsoDuration(seconds=30), "PT30S"),
        ("PT12H", IsoDuration(seconds=12 * 3600), "PT12H"),
        ("P3M", IsoDuration(months=3), "P3M"),
        ("P1Y", IsoDuration(months=12), "P1Y"),
        ("P1W", IsoDuration(days=7), "P7D"),
        ("PT60S", IsoDuration(seconds=60), "PT1M"),
        ("PT90S", IsoDuration(seconds=90), "PT1M30S"),
        ("PT24H", IsoDuration(seconds=86400), "PT24H"),
        ("P14M", IsoDuration(months=14), "P1Y2M"),
        ("P1Y2M10DT2H30M", IsoDuration(months=14, days=10, seconds=9000), "P1Y2M10DT2H30M"),
        ("P1DT1S", IsoDuration(days=1, seconds=1), "P1DT1S"),
        ("pt5m30s", IsoDuration(seconds=330), "PT5M30S"),
        (" P7D ", IsoDuration(days=7), "P7D"),
        ("P0D", IsoDuration(), "PT0S"),
        ("PT0S", IsoDuration(), "PT0S"),
    ],
)
def test_parse_and_str(text: str, parsed: IsoDuration, canonical: str) -> None:
    value = IsoDuration.parse(text)
    assert value == parsed
    assert str(value) == canonical
    assert IsoDuration.parse(str(value)) == value  # the canonical text reads back the same


@pytest.mark.parametrize(
    "text",
    [
        "",
        "P",
        "PT",
        "7D",
        "P7",
        "P1.5D",
        "PT0.5S",
        "-P1D",
        "P-1D",
        "P1DT",
        "PT1H2",
        "P1S",
        "P1M1Y",
        "PT1D",
        "P1H",
        "1 day",
        "P 7D",
        "P7DT12",
    ],
)
def test_invalid(text: str) -> None:
    with pytest.raises(ValueError, match="is not an ISO 8601 duration"):
        IsoDuration.parse(text)


@pytest.mark.parametrize("value", [None, 7, 7.5, ["P7D"]])
def test_invalid_type(value: object) -> None:
    with pytest.raises(ValueError, match="is not an ISO 8601 duration"):
        IsoDuration.parse(value)  # type: ignore[arg-type]


def test_is_zero() -> None:
    assert IsoDuration.parse("PT0S").is_zero
    assert IsoDuration.parse("P0Y0M0DT0H").is_zero
    assert not IsoDuration.parse("PT1S").is_zero
    assert not IsoDuration.parse("P1M").is_zero


@pytest.mark.parametrize(
    ("duration", "instant", "zone", "sign", "expected"),
    [
        # A day is a calendar day in the zone. The deadline 2017-03-26T24:00 Brussels (CEST) is
        # 22:00 UTC; one day before is 2017-03-25T24:00 local, still CET, i.e. 23:00 UTC: 23 hours.
        ("P1D", utc(2017, 3, 26, 22, 0), "Europe/Brussels", -1, utc(2017, 3, 25, 23, 0)),
        ("P7D", utc(2017, 3, 26, 22, 0), "Europe/Brussels", -1, utc(2017, 3, 19, 23, 0)),
        # The EU–US reminders before 2017-03-22T24:00 CET.
        ("P7D", utc(2017, 3, 22, 23, 0), "Europe/Brussels", -1, utc(2017, 3, 15, 23, 0)),
        ("P1D", utc(2017, 3, 22, 23, 0), "Europe/Brussels", -1, utc(2017, 3, 21, 23, 0)),
        # Across the autumn change a calendar day lasts 25 hours.
        ("P1D", utc(2016, 10, 30, 23, 0), "Europe/Brussels", -1, utc(2016, 10, 29, 22, 0)),
        ("P1D", utc(2017, 3, 25, 12, 0), "Europe/Brussels", 1, utc(2017, 3, 26, 11, 0)),
        # In UTC and in a zone without DST a day is 24 hours.
        ("P1D", utc(2017, 3, 26, 22, 0), "UTC", -1, utc(2017, 3, 25, 22, 0)),
        ("P1D", utc(2017, 3, 26, 22, 0), "Asia/Tokyo", -1, utc(2017, 3, 25, 22, 0)),
        # Months clamp to the end of the month.
        ("P1M", utc(2017, 1, 31, 11, 0), "Europe/Brussels", 1, utc(2017, 2, 28, 11, 0)),
        ("P1M", utc(2016, 1, 31, 11, 0), "Europe/Brussels", 1, utc(2016, 2, 29, 11, 0)),
        ("P1M", utc(2017, 3, 31, 10, 0), "Europe/Brussels", 1, utc(2017, 4, 30, 10, 0)),
        ("P1M", utc(2017, 3, 31, 10, 0), "Europe/Brussels", -1, utc(2017, 2, 28, 11, 0)),
        ("P1Y", utc(2016, 2, 29, 11, 0), "Europe/Brussels", 1, utc(2017, 2, 28, 11, 0)),
        ("P12M", utc(2016, 12, 15, 11, 0), "Europe/Brussels", 1, utc(2017, 12, 15, 11, 0)),
        # The EU–US follow-up surveys after the report (2017-05-22T12:00 CEST).
        ("P3M", utc(2017, 5, 22, 10, 0), "Europe/Brussels", 1, utc(2017, 8, 22, 10, 0)),
        ("P6M", utc(2017, 5, 22, 10, 0), "Europe/Brussels", 1, utc(2017, 11, 22, 11, 0)),
        # Hours, minutes and seconds are elapsed time.
        ("PT30S", utc(2024, 6, 3, 8, 0), "Europe/Berlin", 1, utc(2024, 6, 3, 8, 0, 30)),
        ("PT12H", utc(2017, 3, 22, 23, 0), "Europe/Brussels", -1, utc(2017, 3, 22, 11, 0)),
        ("P1DT12H", utc(2017, 3, 22, 23, 0), "Europe/Brussels", -1, utc(2017, 3, 21, 11, 0)),
    ],
)
def test_shift(duration: str, instant: datetime, zone: str, sign: int, expected: datetime) -> None:
    shifted = IsoDuration.parse(duration).shift(instant, zone, sign=sign)
    assert shifted == expected
    assert shifted.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("duration", "instant", "sign", "expected"),
    [
        ("PT24H", utc(2017, 3, 25, 12, 0), 1, utc(2017, 3, 26, 12, 0)),
        ("PT1H", utc(2017, 3, 26, 1, 30), -1, utc(2017, 3, 26, 0, 30)),
        ("PT10M", utc(2017, 10, 29, 0, 55), 1, utc(2017, 10, 29, 1, 5)),
    ],
)
def test_shift_exact_part_is_elapsed_time_across_dst(
    duration: str, instant: datetime, sign: int, expected: datetime
) -> None:
    assert IsoDuration.parse(duration).shift(instant, "Europe/Brussels", sign=sign) == expected


def test_pydantic_field() -> None:
    adapter = TypeAdapter(Duration)
    assert adapter.validate_python("P7D") == IsoDuration(days=7)
    assert adapter.validate_python(IsoDuration(months=3)) == IsoDuration(months=3)
    assert adapter.validate_json('"PT30S"') == IsoDuration(seconds=30)
    assert adapter.dump_python(IsoDuration(days=7), mode="json") == "P7D"
    assert adapter.dump_json(IsoDuration(seconds=90)) == b'"PT1M30S"'
    assert adapter.json_schema()["format"] == "duration"
    with pytest.raises(ValidationError, match="expected an ISO 8601 duration string"):
        adapter.validate_python(7)
    with pytest.raises(ValidationError, match="is not an ISO 8601 duration"):
        adapter.validate_python("7 days")


_PART = st.none() | st.integers(min_value=0, max_value=400)


@given(
    date_parts=st.tuples(_PART, _PART, _PART, _PART),
    time_parts=st.tuples(_PART, _PART, _PART),
)
def test_parse_reads_what_isodate_reads(
    date_parts: tuple[int | None, ...], time_parts: tuple[int | None, ...]
) -> None:
    """Whatever duration `parse` takes, isodate reads the same months and the same elapsed days
    and seconds, and so does its canonical text (isodate cannot keep P1D apart from PT24H:
    hence `IsoDuration`)."""
    date_text = "".join(
        f"{n}{unit}" for n, unit in zip(date_parts, "YMWD", strict=True) if n is not None
    )
    time_text = "".join(
        f"{n}{unit}" for n, unit in zip(time_parts, "HMS", strict=True) if n is not None
    )
    text = "P" + date_text + (f"T{time_text}" if time_text else "")
    if text == "P":
        text = "PT0S"

    ours = IsoDuration.parse(text)

    for written in (text, str(ours)):
        theirs = isodate.parse_duration(written)
        years, months = getattr(theirs, "years", 0), getattr(theirs, "months", 0)
        elapsed = theirs.tdelta if isinstance(theirs, isodate.Duration) else theirs
        assert years * 12 + months == ours.months
        assert elapsed == timedelta(days=ours.days, seconds=ours.seconds)
