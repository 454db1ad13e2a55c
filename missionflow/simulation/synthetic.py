"""Synthetic people for `missionflow simulate`: applicants, hosts and their answers, from a seed.

Pure functions of a `random.Random`, so one seed gives the same mission every time (a rehearsal
can be compared run to run) and nothing here touches Temporal or the database. Names, addresses
and domains are fictional (`example.org`, `example.com`: RFC 2606).
"""

from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from iso3166 import countries

from missionflow.domain.mission.call_section import Question, QuestionType
from missionflow.domain.mission.file import MissionFile

# Cluster organisations per EU country, roughly as the European Cluster Collaboration Platform
# lists them: a call draws many from Germany, France, Spain and Italy and few from Malta.
EU_COUNTRIES: dict[str, tuple[int, tuple[str, ...]]] = {
    "DE": (18, ("Berlin", "Munich", "Dresden", "Stuttgart", "Hamburg", "Aachen")),
    "FR": (14, ("Lyon", "Toulouse", "Grenoble", "Paris", "Nantes", "Strasbourg")),
    "ES": (12, ("Barcelona", "Madrid", "Bilbao", "Valencia", "Seville")),
    "IT": (11, ("Milan", "Turin", "Bologna", "Naples", "Florence")),
    "NL": (6, ("Eindhoven", "Delft", "Groningen", "Utrecht")),
    "BE": (5, ("Leuven", "Ghent", "Liège", "Brussels")),
    "PL": (5, ("Kraków", "Wrocław", "Gdańsk", "Poznań")),
    "AT": (4, ("Vienna", "Graz", "Linz")),
    "SE": (4, ("Stockholm", "Gothenburg", "Lund")),
    "DK": (3, ("Copenhagen", "Aarhus", "Odense")),
    "FI": (3, ("Helsinki", "Tampere", "Oulu")),
    "PT": (3, ("Porto", "Lisbon", "Braga")),
    "CZ": (3, ("Brno", "Prague", "Ostrava")),
    "IE": (2, ("Dublin", "Cork", "Galway")),
    "HU": (2, ("Budapest", "Szeged")),
    "RO": (2, ("Cluj-Napoca", "Bucharest", "Timișoara")),
    "GR": (2, ("Thessaloniki", "Athens", "Patras")),
    "SI": (1, ("Ljubljana", "Maribor")),
    "SK": (1, ("Bratislava", "Košice")),
    "LT": (1, ("Vilnius", "Kaunas")),
    "LV": (1, ("Riga",)),
    "EE": (1, ("Tallinn", "Tartu")),
    "HR": (1, ("Zagreb", "Split")),
    "BG": (1, ("Sofia", "Plovdiv")),
    "LU": (1, ("Luxembourg",)),
    "CY": (1, ("Nicosia",)),
    "MT": (1, ("Valletta",)),
}

ORGANISATION_TYPES = {
    "cluster_organisation": 70,
    "university_or_research": 13,
    "sme": 11,
    "other": 6,
}

FIRST_NAMES = (
    "Anna",
    "Lukas",
    "Sofia",
    "Marco",
    "Léa",
    "Jan",
    "Elena",
    "Pieter",
    "Ingrid",
    "Tomás",
    "Julia",
    "Mateusz",
    "Clara",
    "Nikos",
    "Eva",
    "Johan",
    "Marta",
    "Luca",
    "Camille",
    "Andrei",
    "Katrin",
    "Diego",
    "Aino",
    "Paolo",
    "Zofia",
    "Henrik",
    "Inês",
    "Filip",
    "Laura",
    "Ömer",
    "Grace",
    "Daniel",
    "Maya",
    "Samuel",
    "Olivia",
    "Ethan",
    "Priya",
    "Lucas",
    "Hannah",
    "Noah",
)
LAST_NAMES = (
    "Müller",
    "Dubois",
    "García",
    "Rossi",
    "de Vries",
    "Janssens",
    "Kowalski",
    "Gruber",
    "Lindqvist",
    "Jensen",
    "Virtanen",
    "Silva",
    "Novák",
    "Murphy",
    "Nagy",
    "Popescu",
    "Papadopoulos",
    "Novak",
    "Horváth",
    "Kazlauskas",
    "Bērziņš",
    "Tamm",
    "Kovač",
    "Petrov",
    "Weber",
    "Moreau",
    "Romano",
    "Costa",
    "Svensson",
    "Walker",
    "Chen",
    "Patel",
    "Johnson",
    "Rivera",
    "Nguyen",
    "Brooks",
)

# A word for the kind of work a sector does, to name organisations after what they do.
SECTOR_WORDS = {
    "nano": "Nano",
    "material": "Materials",
    "bio": "Life Sciences",
    "medic": "Medtech",
    "manufactur": "Manufacturing",
    "energy": "Energy",
    "electronic": "Microsystems",
    "cosmetic": "Consumer Innovation",
    "food": "Food",
}
CLUSTER_FORMS = ("Cluster", "Innovation Cluster", "Network", "Alliance", "Competence Centre")
OTHER_FORMS = {
    "university_or_research": ("Research Institute", "University Lab", "Technology Centre"),
    "sme": ("Technologies", "Solutions", "Systems"),
    "other": ("Development Agency", "Chamber Innovation Desk", "Foundation"),
}
HOST_FORMS = ("Inc.", "LLC", "Labs", "Corporation", "Partners", "Institute")

OBJECTIVES = (
    "Meet {destination} partners in {sector} for joint R&D projects and pilot customers.",
    "Open distribution channels in {destination} for our members' {sector} products.",
    "Learn how {destination} clusters fund shared facilities and bring the model home.",
    "Find research partners for a Horizon Europe consortium in {sector}.",
    "Prepare a soft-landing programme in {destination} for our SMEs.",
)
OFFERS = (
    "Access to {count} member companies and our shared pilot lines.",
    "A soft-landing desk in {city} for {destination} companies entering the EU market.",
    "Joint proposals with our research partners and testing facilities.",
    "Introductions to European OEMs looking for {sector} suppliers.",
)
TESTIMONIALS = (
    "The B2B meetings were perfectly prepared: we met {n} partners we would not have found alone.",
    "Visiting {city} showed our members what a mature ecosystem looks like. We are going back.",
    "Excellent organisation from the call to the last visit; the agendas were spot on.",
    "We signed a letter of intent within a week of the mission. Worth every hour.",
    "A dense week, very well run. The matchmaking alone justified the trip.",
    "Our SMEs came home with concrete leads and a much clearer picture of the market.",
)
HOST_TESTIMONIALS = (
    "Well-prepared European delegates with concrete proposals; two follow-up calls already.",
    "A very efficient way to meet European clusters in a single afternoon.",
)


@dataclass(frozen=True)
class Applicant:
    """One synthetic expression of interest, and what its applicant will do later."""

    form: dict[str, Any]
    with_slide: bool
    incomplete: bool


def slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def person(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


def sector_word(sector: str) -> str:
    lowered = sector.casefold()
    return next((word for key, word in SECTOR_WORDS.items() if key in lowered), "Technology")


def applicants(
    mission: MissionFile, rng: random.Random, count: int, *, incomplete_share: float
) -> list[Applicant]:
    """`count` applicants from across the EU, each a distinct organisation and contact, in the
    call's sectors; about `incomplete_share` of them leave out a required answer or the slide."""
    codes = list(EU_COUNTRIES)
    weights = [EU_COUNTRIES[code][0] for code in codes]
    types, type_weights = list(ORGANISATION_TYPES), list(ORGANISATION_TYPES.values())
    sectors = mission.call.sectors
    result: list[Applicant] = []
    for number in range(1, count + 1):
        country = rng.choices(codes, weights)[0]
        city = rng.choice(EU_COUNTRIES[country][1])
        kind = rng.choices(types, type_weights)[0]
        chosen = rng.sample(sectors, k=min(len(sectors), rng.choice((1, 1, 2, 2, 3))))
        forms = CLUSTER_FORMS if kind == "cluster_organisation" else OTHER_FORMS[kind]
        # The number keeps names distinct: the call takes one application per organisation.
        name = f"{city} {sector_word(chosen[0])} {rng.choice(forms)} {number}"
        contact = person(rng)
        domain = f"{slug(name)}.example.org"
        answers = {
            question.id: _answer(question, rng, mission=mission, sector=chosen[0], city=city)
            for question in mission.call.questionnaire
            if question.required or rng.random() < 0.4
        }
        with_slide = True
        incomplete = rng.random() < incomplete_share
        required = [q.id for q in mission.call.questionnaire if q.required]
        if incomplete and (not mission.call.require_slide or (required and rng.random() < 0.6)):
            if required:
                answers.pop(rng.choice(required))
            else:
                incomplete = False  # nothing this call requires can be left out
        elif incomplete:
            with_slide = False
        form = {
            "organisation": name,
            "organisation_type": kind,
            "country": country,
            "city": city,
            "website": f"https://www.{domain}/",
            "contact_name": contact,
            "contact_email": f"{slug(contact).replace('-', '.')}@{domain}",
            "sectors": chosen,
            "answers": answers,
            "consent": True,
        }
        result.append(Applicant(form=form, with_slide=with_slide, incomplete=incomplete))
    return result


def _answer(
    question: Question, rng: random.Random, *, mission: MissionFile, sector: str, city: str
) -> Any:
    text = question.text.casefold()
    match question.type:
        case QuestionType.INTEGER if "%" in text or "share" in text:
            return rng.randint(40, 98)
        case QuestionType.INTEGER if "year" in text:
            return rng.randint(1, 25)
        case QuestionType.INTEGER:
            return int(rng.lognormvariate(4.2, 0.7))
        case QuestionType.BOOLEAN:
            return rng.random() < 0.35
        case QuestionType.CHOICE:
            choices = question.choices or []
            # Earlier choices are the stronger ones in a call's wording: fewer hold them.
            return rng.choices(choices, weights=range(1, len(choices) + 1))[0]
    templates = OBJECTIVES if "objective" in text else OFFERS
    return rng.choice(templates).format(
        destination=mission.destination,
        sector=sector.lower(),
        city=city,
        count=rng.randint(20, 250),
    )


def destination_country(mission: MissionFile) -> str:
    """The ISO code of the mission's destination, where its hosts come from."""
    name = mission.destination.casefold()
    for country in countries:
        if country.name.casefold() == name or country.apolitical_name.casefold() == name:
            return country.alpha2
    for country in countries:
        if country.name.casefold().startswith(name):
            return country.alpha2
    raise ValueError(f"no country is named {mission.destination!r}; hosts need one")


def hosts(
    mission: MissionFile, rng: random.Random, count: int, *, sessions: int
) -> list[dict[str, Any]]:
    """`count` host organisations of the destination, in its visited cities, as the hosts API
    takes them; about one in eight is away for one session."""
    country = destination_country(mission)
    cities = [visit.city for visit in mission.visits] or [mission.destination]
    result = []
    for number in range(1, count + 1):
        sector = rng.choice(mission.call.sectors)
        city = rng.choice(cities)
        name = f"{city} {sector_word(sector)} {rng.choice(HOST_FORMS)} {number}"
        contact = person(rng)
        host: dict[str, Any] = {
            "name": name,
            "country": country,
            "sector": sector,
            "description": f"{sector} company based in {city}.",
            "contact_name": contact,
            "contact_email": f"{slug(contact).replace('-', '.')}@{slug(name)}.example.com",
        }
        if sessions > 1 and rng.random() < 0.125:
            host["unavailable"] = [f"session-{rng.randint(1, sessions)}"]
        result.append(host)
    return result


def testimonial(rng: random.Random, *, host: bool, city: str) -> str:
    return rng.choice(HOST_TESTIMONIALS if host else TESTIMONIALS).format(
        n=rng.randint(3, 9), city=city
    )
