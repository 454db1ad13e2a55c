"""The console's visits page: the cluster visits' registrations and attendance."""

from __future__ import annotations

from fastapi import APIRouter

from api.console.access import PREFIX

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)
