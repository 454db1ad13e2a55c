"""The console's applications page: the applications table (filters, sort, CSV), one application's
answers, slide and history, and a reviewer's scores."""

from __future__ import annotations

from fastapi import APIRouter

from api.console.access import PREFIX

router = APIRouter(prefix=PREFIX, tags=["console"], include_in_schema=False)
