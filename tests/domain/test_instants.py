"""Reading instants in their zone, and showing them back the way coordinators say them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from missionflow.domain.instants import check_zone, describe, is_zone, local, parse_instant, to_utc

NOW = datetime(2024, 6, 3, 8, 0, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.mark.parametrize(
    ("instant", "zone", "end_of_day", "expected"),
    [
        # The EU–US call: "by midnight CET on 22 March 2017".
        (utc(2017, 3, 22, 23, 0), "Europe/Brussels", True, "22 Mar 2017 24:00 CET (23:00 UTC)"),
        # The same instant without end_of_day is the next local day; UTC's day is named.
        (
            utc(2017, 3, 22, 23, 0),
            "Europe/Brussels",
            False,
            "23 Mar 2017 00:00 CET (22 Mar 23:00 UTC)",
        ),
        # Summer time: the day the clocks change, midnight at its end is 22:00 UTC.
        (utc(2017, 3, 26, 22, 0), "Europe/Brussels", True, "26 Mar 2017 24:00 CEST (22:00 UTC)"),
        # end_of_day only changes a local midnight.
        (utc(2017, 3, 22, 22, 0), "Europe/Brussels", True, "22 Mar 2017 23:00 CET (22:00 UTC)"),
        # The Philadelphia visit, in Eastern Daylight Time.
        (utc(2017, 5, 17, 13, 0), "America/New_York", False, "17 May 2017 09:00 EDT (13:00 UTC)"),
        # Midnight in New York in winter is 05:00 UTC the next day.
        (
            utc(2017, 1, 11, 5, 0),
            "America/New_York",
            True,
            "10 Jan 2017 24:00 EST (11 Jan 05:00 UTC)",
        ),
        # Osaka: 08:00 JST is still the day before in UTC.
        (utc(2016, 10, 17, 23, 0), "Asia/Tokyo", False, "18 Oct 2016 08:00 JST (17 Oct 23:00 UTC)"),
        (utc(2016, 10, 18, 0, 30), "Asia/Tokyo", False, "18 Oct 2016 09:30 JST (00:30 UTC)"),
        # Shown in UTC itself: no repetition.
        (utc(2017, 5, 15, 13, 0), "UTC", False, "15 May 2017 13:00 UTC"),
        (utc(2017, 3, 23, 0, 0), "UTC", True, "22 Mar 2017 24:00 UTC"),
        # Single-digit days are not zero-padded.
        (utc(2017, 5, 5, 21, 0), "America/New_York", False, "5 May 2017 17:00 EDT (21:00 UTC)"),
    ],
)
def test_describe(instant: datetime, zone: str, end_of_day: bool, expected: str) -> None:
    assert describe(instant, zone, end_of_day=end_of_day) == expected


@pytest.mark.parametrize(
    ("text", "zone", "expected"),
    [
        # 24:00 is the end of the day, in the zone it is written in.
        ("2017-03-22T24:00", "Europe/Brussels", utc(2017, 3, 22, 23, 0)),
        ("2017-03-22T24:00:00", "Europe/Brussels", utc(2017, 3, 22, 23, 0)),
        ("2017-03-22T24:00:00.000", "Europe/Brussels", utc(2017, 3, 22, 23, 0)),
        ("2017-03-26T24:00", "Europe/Brussels", utc(2017, 3, 26, 22, 0)),  # now in summer time
        ("2017-12-31T24:00", "Europe/Brussels", utc(2017, 12, 31, 23, 0)),  # across the year
        ("2016-02-28T24:00", "Asia/Tokyo", utc(2016, 2, 28, 15, 0)),
        ("2016-07-08T24:00", "Europe/Brussels", utc(2016, 7, 8, 22, 0)),
        ("2017-03-22T24:00+01:00", None, utc(2017, 3, 22, 23, 0)),
        ("2017-03-22T24:00Z", "Asia/Tokyo", utc(2017, 3, 23, 0, 0)),
        # Wall time in the zone.
        ("2017-05-17T09:00", "America/New_York", utc(2017, 5, 17, 13, 0)),
        ("2017-01-17T09:00", "America/New_York", utc(2017, 1, 17, 14, 0)),
        ("2016-10-18T09:30", "Asia/Tokyo", utc(2016, 10, 18, 0, 30)),
        ("  2017-02-15T09:00  ", "Europe/Brussels", utc(2017, 2, 15, 8, 0)),
        # An explicit offset or Z wins over the zone.
        ("2017-03-22T23:00Z", "Asia/Tokyo", utc(2017, 3, 22, 23, 0)),
        ("2017-03-22T23:00:00+00:00", None, utc(2017, 3, 22, 23, 0)),
        ("2017-03-22T18:00-05:00", "Europe/Brussels", utc(2017, 3, 22, 23, 0)),
        ("2017-03-23T08:00+09:00", "America/New_York", utc(2017, 3, 22, 23, 0)),
        # An ambiguous wall time (the clocks go back) takes its first occurrence.
        ("2016-10-30T02:30", "Europe/Brussels", utc(2016, 10, 30, 0, 30)),  # 02:30 CEST
        ("2017-11-05T01:30", "America/New_York", utc(2017, 11, 5, 5, 30)),  # 01:30 EDT
    ],
)
def test_parse_instant(text: str, zone: str | None, expected: datetime) -> None:
    value = parse_instant(text, zone)
    assert value == expected
    assert value.utcoffset().total_seconds() == 0


@pytest.mark.parametrize(
    ("text", "zone", "now", "expected"),
    [
        ("+PT2M", "Europe/Brussels", NOW, utc(2024, 6, 3, 8, 2)),
        ("+PT5M30S", "America/New_York", NOW, utc(2024, 6, 3, 8, 5, 30)),
        ("+PT30S", None, NOW, utc(2024, 6, 3, 8, 0, 30)),
        (" +PT1H ", "Asia/Tokyo", NOW, utc(2024, 6, 3, 9, 0)),
        # A calendar day keeps the wall time in the zone, across the change to summer time.
        ("+P1D", "Europe/Brussels", utc(2017, 3, 25, 12, 0), utc(2017, 3, 26, 11, 0)),
        ("+P1D", "UTC", utc(2017, 3, 25, 12, 0), utc(2017, 3, 26, 12, 0)),
    ],
)
def test_parse_relative_instant(
    text: str, zone: str | None, now: datetime, expected: datetime
) -> None:
    assert parse_instant(text, zone, now=now) == expected


@pytest.mark.parametrize(
    ("text", "zone", "now", "message"),
    [
        ("+PT2M", "Europe/Brussels", None, "relative to the start of the mission"),
        ("+2 minutes", "Europe/Brussels", NOW, "is not an ISO 8601 duration"),
        ("2017-03-26T02:30", "Europe/Brussels", None, "does not exist in Europe/Brussels"),
        ("2017-03-12T02:30", "America/New_York", None, "does not exist in America/New_York"),
        ("2017-03-22", "Europe/Brussels", None, "has no time of day"),
        ("2017-03-22T25:00", "Europe/Brussels", None, "is not an ISO 8601 instant"),
        ("2017-03-22T24:30", "Europe/Brussels", None, "is not an ISO 8601 instant"),
        ("next Tuesday", "Europe/Brussels", None, "is not an ISO 8601 instant"),
        ("2017-03-22T12:00", None, None, "has no offset and its time zone is not valid"),
    ],
)
def test_parse_instant_refuses(
    text: str, zone: str | None, now: datetime | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_instant(text, zone, now=now)


def test_24_00_with_seconds_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_instant("2017-03-22T24:00:30", "Europe/Brussels")


def test_space_separated_instant() -> None:
    assert parse_instant("2017-03-22 23:59:59", "Europe/Brussels") == utc(2017, 3, 22, 22, 59, 59)


def test_zones() -> None:
    assert check_zone("Europe/Brussels") == "Europe/Brussels"
    assert is_zone("America/New_York")
    assert not is_zone("Europe/Brusels")
    assert not is_zone(None)
    with pytest.raises(ValueError, match="unknown time zone 'CET/Brussels'"):
        check_zone("CET/Brussels")


def test_to_utc_and_local() -> None:
    assert to_utc(datetime.fromisoformat("2017-05-17T09:00-04:00")) == utc(2017, 5, 17, 13, 0)
    with pytest.raises(ValueError, match="needs an offset"):
        to_utc(datetime(2017, 5, 17, 9, 0))
    assert local(utc(2017, 5, 17, 13, 0), "America/New_York").hour == 9
