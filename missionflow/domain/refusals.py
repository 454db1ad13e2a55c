"""How a mission refuses a request, shared by the workflow (which refuses) and the API (which
answers it): a refused Update carries one of these as its ApplicationError type, the field it
is about as its first detail, and, when a reader may see it in their own language, what it says
(`saying`) as its second.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

CONFLICT = "MissionConflict"
"""The request is fine but the mission is past the point where it applies: HTTP 409."""

INVALID = "MissionInvalid"
"""The request itself is wrong (a deadline in the past): HTTP 422 at the named field."""

BUSY = "MissionBusy"
"""The mission cannot take the request this instant (it is continuing as new): retry shortly."""

NOT_FOUND = "MissionNotFound"
"""The request names something the mission does not have: HTTP 404."""


def saying(message: str, **variables: object) -> dict[str, Any]:
    """A refusal's words for a reader in another language: the message as written for
    translation (`%(name)s` placeholders) and its variables. Instants travel as ISO text and are
    named in `instants`, so the page writes them in the reader's language and the mission's
    zone."""
    return {
        "message": message,
        "variables": {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in variables.items()
        },
        "instants": sorted(
            name for name, value in variables.items() if isinstance(value, datetime)
        ),
    }
