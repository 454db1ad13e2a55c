"""The console's outbox page: every message with its status, attempts and last error; a preview as
the recipient sees it; resending a failed one through the workflow."""

from __future__ import annotations

from fastapi import APIRouter

from api.console.access import PREFIX

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)
