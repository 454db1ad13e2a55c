"""A share as every figure of the report states it: what was counted, out of what, and what it
is a share of; `rate` is None when there is nothing to divide by."""

from __future__ import annotations

from typing import Any


def rate(count: int, of: int, basis: str) -> dict[str, Any]:
    return {
        "count": count,
        "of": of,
        "rate": round(count / of, 4) if of else None,
        "basis": basis,
    }
