"""The console's report page: the post-event report with its charts and its downloads."""

from __future__ import annotations

from fastapi import APIRouter

from api.console.access import PREFIX

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)
