"""The mission file's `privacy` section: a versioned consent text in the mission's languages
and a retention period, each refused at its own field when wrong."""

from __future__ import annotations

from typing import Any

import pytest
from mission_file_support import example, mutated, refusal

from missionflow.domain.durations import IsoDuration
from missionflow.domain.mission.file import load_mission
from missionflow.domain.mission.privacy_section import DEFAULT_CONSENT_VERSION


def test_a_file_without_privacy_uses_the_built_in_consent_and_keeps_data_until_erased() -> None:
    mission = example("eu-us-2017.yaml")
    assert mission.privacy.consent is None
    assert mission.privacy.consent_version == DEFAULT_CONSENT_VERSION == "1"
    assert mission.privacy.retain_for is None


def test_a_versioned_consent_in_several_languages_and_a_retention_period() -> None:
    data = mutated(
        {
            "languages": ["en", "fr"],
            "privacy": {
                "consent": {
                    "version": "2026-01",
                    "text": {"en": "I agree to the processing.", "fr": "J'accepte le traitement."},
                },
                "retain_for": "P2Y",
            },
        }
    )
    mission = load_mission(data)
    assert mission.privacy.consent_version == "2026-01"
    assert mission.privacy.consent is not None
    assert mission.privacy.consent.text.in_language("fr") == "J'accepte le traitement."
    assert mission.privacy.retain_for == IsoDuration(months=24)
    # Stored and carried through Temporal as written.
    again = load_mission(mission.model_dump(mode="json"))
    assert again.privacy == mission.privacy
    assert mission.model_dump(mode="json")["privacy"]["retain_for"] == "P2Y"


@pytest.mark.parametrize(
    ("privacy", "field", "message"),
    [
        ({"retain_for": "PT0S"}, ("privacy", "retain_for"), "longer than zero"),
        ({"retain_for": "two years"}, ("privacy", "retain_for"), "not an ISO 8601 duration"),
        ({"retain_for": "-P1Y"}, ("privacy", "retain_for"), "not an ISO 8601 duration"),
        ({"consent": {"text": "I agree."}}, ("privacy", "consent", "version"), "required"),
        (
            {"consent": {"version": "two words", "text": "I agree."}},
            ("privacy", "consent", "version"),
            "pattern",
        ),
        ({"consent": {"version": "2"}}, ("privacy", "consent", "text"), "required"),
        (
            {"consent": {"version": "2", "text": {"de": "Ich stimme zu."}}},
            ("privacy", "consent", "text"),
            "not one of this mission's languages",
        ),
        ({"retention": "P2Y"}, ("privacy", "retention"), "Extra inputs"),
    ],
)
def test_a_bad_privacy_section_is_refused_at_its_field(
    privacy: dict[str, Any], field: tuple[str, ...], message: str
) -> None:
    messages = refusal(mutated({"privacy": privacy}))
    assert field in messages, messages
    assert message in messages[field]
