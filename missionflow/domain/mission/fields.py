"""The building blocks every section of the mission file is made of, and its field errors.

A rule broken across fields is raised with `field_error` and located by `field_errors` at the
field it names, so an API client sees each problem where it is written.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)
from pydantic_core import PydanticCustomError

from missionflow.domain.instants import check_zone, to_utc

Slug = Annotated[str, Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")]
Zone = Annotated[str, AfterValidator(check_zone)]


class Unreadable(str):
    """A written instant that could not be read; validation reports `reason` at its field."""

    __slots__ = ("reason",)

    def __new__(cls, value: str, reason: str) -> Unreadable:
        instance = super().__new__(cls, value)
        instance.reason = reason
        return instance


def _readable(value: Any) -> Any:
    if isinstance(value, Unreadable):
        raise ValueError(value.reason)
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_readable), AfterValidator(to_utc)]
Text = Annotated[str, Field(min_length=1, max_length=500)]


class Strict(BaseModel):
    """Unknown keys are refused: a misspelt `dealine` must not silently drop the deadline."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def field_error(field: str | tuple[str, ...], message: str) -> PydanticCustomError:
    """A rule broken across fields; `field_errors` moves it onto the field it names.

    `field` is a dotted path, or a tuple when a part is free text (a sector, a choice) that may
    itself contain a dot.
    """
    return PydanticCustomError("mission_file", "{message}", {"field": field, "message": message})


def field_errors(error: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors, each located at the field it is about, ready for a 422 body."""
    errors = []
    for item in error.errors(include_url=False, include_context=True):
        location = tuple(item["loc"])
        context = item.pop("ctx", None) or {}
        if item["type"] == "mission_file":
            field = context["field"]
            location += (
                tuple(field)
                if isinstance(field, tuple)
                else tuple(int(part) if part.isdigit() else part for part in field.split("."))
            )
        elif "error" in context:
            item["msg"] = item["msg"].removeprefix("Value error, ")
        item["loc"] = location
        item.pop("input", None)
        errors.append(item)
    return errors
