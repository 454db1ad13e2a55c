"""How a mission refuses a request, shared by the workflow (which refuses) and the API (which
answers it): a refused Update carries one of these as its ApplicationError type, and the field it
is about as its first detail.
"""

CONFLICT = "MissionConflict"
"""The request is fine but the mission is past the point where it applies: HTTP 409."""

INVALID = "MissionInvalid"
"""The request itself is wrong (a deadline in the past): HTTP 422 at the named field."""

BUSY = "MissionBusy"
"""The mission cannot take the request this instant (it is continuing as new): retry shortly."""

NOT_FOUND = "MissionNotFound"
"""The request names something the mission does not have: HTTP 404."""
