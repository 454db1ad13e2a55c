"""The console's matchmaking page: hosts (CSV upload with errors at row and column), requests, the
slot × table grid, unscheduled meetings with their reasons, attendance on the day."""

from __future__ import annotations

from fastapi import APIRouter

from api.console.access import PREFIX

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)
