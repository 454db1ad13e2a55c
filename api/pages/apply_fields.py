"""The application form's fields as a person sees them: the countries and organisation types
offered, where each field's error is shown, and what each field is called."""

from __future__ import annotations

import unicodedata

from iso3166 import countries_by_alpha2

from api.pages import colleague_rows as colleague_fields
from missionflow.domain.call.applications import OrganisationType
from missionflow.domain.mission.call_section import QuestionType
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.languages import localized
from missionflow.runtime.i18n import N_, translate


def _sort_key(name: str) -> str:
    return unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()


COUNTRIES = sorted(
    ((code, country.apolitical_name) for code, country in countries_by_alpha2.items()),
    key=lambda item: _sort_key(item[1]),
)
ORGANISATION_TYPES = [(kind.value, kind.label) for kind in OrganisationType]

# Where a field's error is shown (and where the error summary links to).
ANCHORS = {
    "organisation": "organisation",
    "organisation_type": f"organisation_type-{OrganisationType.CLUSTER.value}",
    "country": "country",
    "city": "city",
    "website": "website",
    "contact_name": "contact_name",
    "contact_email": "contact_email",
    "sectors": "sector-0",
    "slide": "slide",
    "consent": "consent",
}
LABELS = {
    "organisation": N_("Organisation name"),
    "organisation_type": N_("Type of organisation"),
    "country": N_("Country"),
    "city": N_("City"),
    "website": N_("Website"),
    "contact_name": N_("Contact person"),
    "contact_email": N_("Email"),
    "sectors": N_("Sectors"),
    "slide": N_("One-slide presentation"),
    "consent": N_("Consent"),
}
# The organisation types' labels (`OrganisationType.label`), translated where they are shown.
_TYPE_LABELS = (
    N_("Cluster organisation"),
    N_("SME"),
    N_("University or research body"),
    N_("Other"),
)


def anchor(mission: MissionFile, key: str) -> str:
    """The id of the input where the field's error is shown (and the error summary links to)."""
    if key.startswith("colleagues."):
        return key  # the input's id
    if key.startswith("answers."):
        question = next(q for q in mission.call.questionnaire if f"answers.{q.id}" == key)
        suffix = "-true" if question.type is QuestionType.BOOLEAN else ""
        return f"q-{question.id}{suffix}"
    return ANCHORS[key]


def label(mission: MissionFile, key: str, language: str) -> str:
    """The field's name as the form shows it, in `language`."""
    if key.startswith("colleagues."):
        return colleague_fields.label(key, language)
    if key.startswith("answers."):
        text = next(q.text for q in mission.call.questionnaire if f"answers.{q.id}" == key)
        return localized(text, language)
    return translate(language, LABELS[key])
