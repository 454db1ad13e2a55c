"""Versioned consent on the real dev server: the form shows the mission's consent text in the
applicant's language with its version, and the application keeps the version agreed to."""

from __future__ import annotations

from typing import Any

import httpx
from support import rehearsal

NO_COORDINATOR = {"Authorization": ""}


def _application(email: str, language: str = "en") -> dict[str, Any]:
    return {
        "organisation": f"Cluster {email}",
        "organisation_type": "cluster_organisation",
        "country": "FR",
        "city": "Lyon",
        "contact_name": "Claire Martin",
        "contact_email": email,
        "sectors": ["Advanced materials"],
        "answers": {"member_organisations": 40},
        "consent": True,
        "language": language,
    }


async def _consent_version(api: httpx.AsyncClient, mission_id: str, email: str) -> str | None:
    applied = await api.post(
        f"/missions/{mission_id}/applications", json=_application(email), headers=NO_COORDINATOR
    )
    assert applied.status_code == 201, applied.text
    export = await api.get(
        f"/missions/{mission_id}/personal-data/{applied.json()['application_id']}"
    )
    assert export.status_code == 200, export.text
    return export.json()["application"]["consent_version"]


async def test_the_form_shows_the_missions_consent_and_the_application_keeps_its_version(
    api: httpx.AsyncClient,
) -> None:
    mission = rehearsal(
        languages=["en", "fr"],
        privacy={
            "consent": {
                "version": "2026-01",
                "text": {
                    "en": "I agree that Rehearsal Ltd keeps my data for two years.",
                    "fr": "J'accepte que Rehearsal Ltd conserve mes données deux ans.",
                },
            },
            "retain_for": "P2Y",
        },
    )
    assert (await api.post("/missions", json=mission)).status_code == 201, mission
    page = await api.get(f"/missions/{mission['id']}/apply?lang=fr", headers=NO_COORDINATOR)
    assert page.status_code == 200
    assert "J&#39;accepte que Rehearsal Ltd conserve mes données deux ans." in page.text
    assert "Texte de consentement, version 2026-01." in page.text
    assert "keeps my data" not in page.text
    assert await _consent_version(api, mission["id"], "claire@example.fr") == "2026-01"


async def test_without_a_consent_of_its_own_the_built_in_text_is_version_1(
    api: httpx.AsyncClient,
) -> None:
    mission = rehearsal()
    assert (await api.post("/missions", json=mission)).status_code == 201
    page = await api.get(f"/missions/{mission['id']}/apply", headers=NO_COORDINATOR)
    assert "stores and processes the data in this form" in page.text
    assert "Consent text, version 1." in page.text
    assert await _consent_version(api, mission["id"], "claire@example.fr") == "1"


async def test_a_bad_privacy_section_is_refused_with_field_errors(api: httpx.AsyncClient) -> None:
    mission = rehearsal(privacy={"retain_for": "P0D", "consent": {"text": "I agree."}})
    refused = await api.post("/missions", json=mission)
    assert refused.status_code == 422, refused.text
    located = {tuple(error["loc"]) for error in refused.json()["detail"]}
    assert located == {("body", "privacy", "retain_for"), ("body", "privacy", "consent", "version")}
