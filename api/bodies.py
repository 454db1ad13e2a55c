"""Request bodies the routes read by hand: their media type, their declared size, JSON."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError


def media_type(request: Request) -> str:
    """The Content-Type without its parameters, in lower case ("" when there is none)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def declared_over(request: Request, limit: int) -> bool:
    """Whether the Content-Length header announces more than `limit` bytes."""
    declared = request.headers.get("content-length")
    return bool(declared and declared.isdigit() and int(declared) > limit)


def json_document(body: bytes) -> Any:
    """The JSON document, or a 422 located at the body."""
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": f"The body is not valid JSON: {error}", "type": "json"}]
        ) from None
