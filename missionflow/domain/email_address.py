"""The email address type of every model: pydantic's `EmailStr` check, remembered.

An application's form is checked by the API, then again each time Temporal hands it over as a
payload: twice per Update (the SDK reads an Update's input once for the validator and once for
the handler) and once more as the input of the activity that writes it. email_validator's parse
was 7% of the worker's CPU at 10,000 applicants. The check is a pure function of the text, so
its answers are kept, and the worker's workflows and activities share them (this module is
passed through the workflow sandbox with the rest of `missionflow`).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from pydantic.networks import validate_email

REMEMBERED = 20_000
"""Addresses whose answer is kept: a call's applicants and invitees, well under a megabyte."""


@lru_cache(maxsize=REMEMBERED)
def _normalised(value: str) -> str:
    """The address as `EmailStr` gives it back; raises its error (not remembered) if invalid."""
    return validate_email(value)[1]


EmailAddress = Annotated[
    str,
    AfterValidator(_normalised),
    WithJsonSchema({"type": "string", "format": "email"}),
]
