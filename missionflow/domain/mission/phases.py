"""The phases of a mission, in the order DESIGN.md gives them."""

from enum import StrEnum


class Phase(StrEnum):
    CALL_OPEN = "call_open"
    SELECTION = "selection"
    CONFIRMATION = "confirmation"
    MATCHMAKING = "matchmaking"
    VISITS = "visits"
    REPORTING = "reporting"
    FOLLOW_UP = "follow_up"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in (Phase.COMPLETED, Phase.CANCELLED)

    @property
    def title(self) -> str:
        """The phase as a coordinator names it in a sentence's first words."""
        return _TITLES[self]


_TITLES = {
    Phase.CALL_OPEN: "Call open",
    Phase.SELECTION: "Selection",
    Phase.CONFIRMATION: "Confirmation",
    Phase.MATCHMAKING: "Matchmaking",
    Phase.VISITS: "Visits",
    Phase.REPORTING: "Reporting",
    Phase.FOLLOW_UP: "Follow-up",
    Phase.COMPLETED: "Completed",
    Phase.CANCELLED: "Cancelled",
}
