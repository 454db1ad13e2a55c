"""The mission file's `privacy` section: the consent applicants give, and how long their data
is kept.

Consent is versioned: each application records the version of the text its applicant agreed
to, so a text changed for the next mission never rewrites what an earlier applicant accepted.
A file without a consent of its own uses the built-in text, version `DEFAULT_CONSENT_VERSION`
(its words live in the translation catalogues, beside the form that shows them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field

from missionflow.domain.durations import Duration, IsoDuration
from missionflow.domain.mission.fields import Strict
from missionflow.domain.mission.languages import text_field

DEFAULT_CONSENT_VERSION = "1"
"""The version of the built-in consent text; a change of its words needs a new one."""


def _positive(period: IsoDuration) -> IsoDuration:
    if period.is_zero:
        raise ValueError("the retention period must be longer than zero")
    return period


class Consent(Strict):
    version: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
            description="Names this text; change it whenever the text changes (e.g. 2026-01).",
        ),
    ]
    text: text_field(5000)  # type: ignore[valid-type]


class Privacy(Strict):
    consent: Consent | None = Field(
        default=None, description="What applicants agree to; none: the built-in text."
    )
    retain_for: Annotated[Duration, AfterValidator(_positive)] | None = Field(
        default=None,
        description="How long after the mission ends its personal data is kept (ISO 8601, "
        "e.g. P2Y); none: until a coordinator erases it.",
    )

    @property
    def consent_version(self) -> str:
        """The version an application made now agrees to."""
        return self.consent.version if self.consent is not None else DEFAULT_CONSENT_VERSION

    def erase_at(self, ended_at: datetime, zone: str) -> datetime | None:
        """When everyone's personal data is erased: `retain_for` after the mission ended, on
        the calendar of its zone (P2Y ends on the same local day two years later)."""
        return None if self.retain_for is None else self.retain_for.shift(ended_at, zone)
