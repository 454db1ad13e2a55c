"""The application form's colleague rows: `colleagues.<row>.name|email|role`, three of them, no
script to add more (the JSON API takes up to 20). An error Pydantic locates at the n-th
colleague sent is shown at the row it was typed in: rows left empty are not sent, so the n-th
colleague is the n-th filled row."""

from __future__ import annotations

from api.applying import COLLEAGUE_FIELDS
from missionflow.runtime.i18n import N_, translate

ROWS = 3
_LABELS = {"name": N_("Name"), "email": N_("Email"), "role": N_("Role")}
_COLLEAGUE = N_("Colleague %(number)s: %(field)s")


def field_key(location: list[str], filled: list[int]) -> str | None:
    """The form field (`colleagues.<row>.<field>`) an error located past "body" is about, or
    None when it is not about one colleague's field."""
    if location[:1] != ["colleagues"] or len(location) < 3:
        return None
    index, part = location[1], location[2]
    if not index.isdigit() or int(index) >= len(filled) or part not in COLLEAGUE_FIELDS:
        return None
    return f"colleagues.{filled[int(index)]}.{part}"


def label(key: str, language: str) -> str:
    """`Colleague 2: Email`, for the error summary."""
    _, row, part = key.split(".")
    return translate(
        language, _COLLEAGUE, number=int(row) + 1, field=translate(language, _LABELS[part])
    )
