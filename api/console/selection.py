"""The console's selection page: the proposed delegation with its scores and breakdown, overrides
with a reason, approval, seats and the waitlist."""

from __future__ import annotations

from fastapi import APIRouter

from api.console.access import PREFIX

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)
