"""The hard rules of a delegation: what `breaches` names when a choice is over its capacity
or a quota, and what it does not.
"""

from __future__ import annotations

from typing import Any

import pytest
from scoring_support import ENERGY, MATERIALS, NANO, candidate, selection

from missionflow.domain.selection.scoring import breaches

BREACHES = [
    pytest.param({}, [("DE", NANO)] * 3, [], id="within-every-rule"),
    pytest.param(
        {"capacity": 2},
        [("DE", NANO)] * 3,
        ["3 are selected, more than the 2 seats of the delegation"],
        id="over-capacity",
    ),
    pytest.param(
        {"max_per_country": 4},
        [("DE", NANO)] * 5 + [("FR", NANO)] * 4,
        ["Germany has 5 selected, more than the 4 allowed per country"],
        id="country-over-its-maximum",
    ),
    pytest.param(
        {"max_per_sector": 1},
        [("DE", NANO), ("FR", ENERGY), ("IT", MATERIALS)],
        [],
        id="sector-quota-counts-primary-sectors-only",
    ),
    pytest.param(
        {"max_per_sector": 1},
        [("DE", NANO), ("FR", NANO), ("IT", MATERIALS)],
        [
            "“Nanotechnologies” has 2 selected with it as primary sector, "
            "more than the 1 allowed per sector"
        ],
        id="sector-over-its-maximum",
    ),
    pytest.param(
        {"capacity": 3, "max_per_country": 1, "max_per_sector": 2},
        [("US", NANO), ("DE", NANO), ("DE", NANO), ("US", ENERGY)],
        [
            "4 are selected, more than the 3 seats of the delegation",
            "Germany has 2 selected, more than the 1 allowed per country",
            "United States of America has 2 selected, more than the 1 allowed per country",
            "“Nanotechnologies” has 3 selected with it as primary sector, "
            "more than the 2 allowed per sector",
        ],
        id="every-breach-at-once",
    ),
    pytest.param(
        {"min_per_country": 2},
        [("DE", NANO)],
        [],
        id="short-of-a-minimum-is-no-breach",
    ),
]


@pytest.mark.parametrize(("rules", "chosen", "expected"), BREACHES)
def test_breaches(
    rules: dict[str, Any], chosen: list[tuple[str, str]], expected: list[str]
) -> None:
    rules = {"capacity": 30} | rules
    candidates = [
        candidate(f"c{index}", country=country, sectors=(sector, NANO))
        for index, (country, sector) in enumerate(chosen)
    ]
    assert breaches(selection(**rules), candidates) == expected
