"""Speaking to each person in their language: catalogues, the Jinja hook-up, dates and numbers.

The words of every page and email are English in the templates and translated through gettext
catalogues under `locales/<language>/LC_MESSAGES/messages.po` (see docs/translations.md). A
catalogue is read from its compiled `.mo` when `make translations` has built one at least as new
as the `.po`, and otherwise compiled from the `.po` in memory: a fresh clone, a wheel or a test
run never shows English because a build step was skipped.

A template learns its language from the `language` variable of the context it is rendered with,
so one environment serves every language at once (the worker renders a French and a German
confirmation in the same batch).
"""

from __future__ import annotations

import functools
import gettext as gettext_module
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.units import format_unit
from jinja2 import Environment, pass_context

from missionflow.domain.call.applications import SLIDE_MISSING, answer_missing
from missionflow.domain.durations import IsoDuration
from missionflow.domain.instants import describe
from missionflow.domain.matchmaking.agenda import Break, break_spans
from missionflow.domain.mission.event_sections import Visit
from missionflow.domain.mission.file import MissionFile
from missionflow.domain.mission.languages import localized
from missionflow.domain.selection.scoring import country_name
from missionflow.domain.visits import itinerary

LOCALES_DIR = Path(__file__).parent / "locales"
SOURCE_LANGUAGE = "en"
"""The language the templates are written in; its catalogue is empty on purpose."""
SHIPPED = ("en", "fr", "de")
"""The languages whose catalogues ship; any other falls back to English words."""


def N_(message: str) -> str:
    """Mark a module-level message for extraction; it is translated where it is shown."""
    return message


@functools.cache
def translations(language: str) -> gettext_module.NullTranslations:
    """The catalogue of `language` (its base language's, for `fr_CA`), or none: English."""
    for code in (language, language.split("_")[0]):
        po = LOCALES_DIR / code / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            continue
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            with mo.open("rb") as compiled:
                return gettext_module.GNUTranslations(compiled)
        with po.open("rb") as source:
            catalog = read_po(source, locale=code)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        return gettext_module.GNUTranslations(buffer)
    return gettext_module.NullTranslations()


def translate(language: str | None, message: str, **variables: Any) -> str:
    """`message` (marked with `N_` where it is written) in `language`, with `%(name)s`
    placeholders filled from `variables`."""
    text = translations(language or SOURCE_LANGUAGE).gettext(message)
    return text % variables if variables else text


def choose(
    languages: Iterable[str], *, asked: str | None = None, accept_language: str | None = None
) -> str:
    """The language to speak to someone in, from those the mission speaks (the first is the
    default): the one they asked for (`?lang=`, a select), else their browser's first choice
    the mission speaks, else the default."""
    offered = list(languages)
    if asked in offered:
        return asked
    for wanted in _accepted(accept_language or ""):
        for language in offered:
            if language.casefold() == wanted or language.split("_")[0].casefold() == wanted:
                return language
    return offered[0]


def _accepted(header: str) -> list[str]:
    """The languages of an `Accept-Language` header, most wanted first, then their bases."""
    weighted = []
    for index, part in enumerate(header.split(",")):
        code, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        if code and code != "*" and weight > 0:
            weighted.append((-weight, index, code.replace("-", "_").casefold()))
    codes = [code for _, _, code in sorted(weighted)]
    return codes + [code.split("_")[0] for code in codes if "_" in code]


def language_name(language: str) -> str:
    """A language named in itself, as a language switch shows it: `Français`, `Deutsch`."""
    try:
        name = Locale.parse(language).get_display_name(language) or language
    except (ValueError, UnknownLocaleError):
        return language
    return name[:1].upper() + name[1:]


def when(instant: datetime, zone: str, language: str | None, *, end_of_day: bool = False) -> str:
    """An instant as the reader's calendar shows it in their language, zone named, UTC beside.

    English keeps the form every message has always used (`22 Mar 2017 24:00 CET (23:00 UTC)`);
    other languages write the date their way: `22 mars 2017 24:00 CET (23:00 UTC)`,
    `22. März 2017 24:00 CET (23:00 UTC)`.
    """
    if not language or language.split("_")[0] == SOURCE_LANGUAGE:
        return describe(instant, zone, end_of_day=end_of_day)

    def written(value: datetime, with_year: bool) -> str:
        if with_year:
            return format_date(value, "long", locale=language)
        return format_skeleton("MMMd", value, locale=language)

    return describe(instant, zone, end_of_day=end_of_day, day=written)


def country(code: str, language: str | None) -> str:
    """A country named in the reader's language (`Germany`, `Allemagne`, `Deutschland`): the
    ISO 3166 name in English, Babel's elsewhere; the code itself when it is not one."""
    if not language or language.split("_")[0] == SOURCE_LANGUAGE:
        return country_name(code)
    try:
        names = Locale.parse(language).territories
    except (ValueError, UnknownLocaleError):
        return country_name(code)
    return names.get(code.upper()) or country_name(code)


def day(value: datetime, language: str | None, with_year: bool = True) -> str:
    """A day, short, the reader's way: `15 May 2017`, `15 mai 2017`, `15. Mai 2017`; without
    the year `15 May`, `15 mai`, `15. Mai`."""
    if not language or language.split("_")[0] == SOURCE_LANGUAGE:
        return f"{value.day} {value:%b} {value.year}" if with_year else f"{value.day} {value:%b}"
    return format_skeleton("yMMMd" if with_year else "MMMd", value, locale=language)


_NO_BREAKS = N_("No breaks between your meetings")
_ONE_BREAK = N_("1 break: %(spans)s")
_BREAKS = N_("%(count)s breaks: %(spans)s")


def breaks_said(found: Sequence[Break], zone: str, language: str | None) -> str:
    """A participant's breaks in a line, in their language (see `agenda.breaks_text`)."""
    if not found:
        return translate(language, _NO_BREAKS)
    spans = ", ".join(break_spans(found, zone, day=lambda value, year: day(value, language, year)))
    if len(found) == 1:
        return translate(language, _ONE_BREAK, spans=spans)
    return translate(language, _BREAKS, count=len(found), spans=spans)


def visit_span(visit: Visit, language: str | None) -> str:
    """When a visit is, its city's zone named: `Tue 16 May 2017, 09:00–17:00 EDT`,
    `mar. 16 mai 2017, 09:00–17:00 EDT`, `Di., 16. Mai 2017, 09:00–17:00 EDT`."""
    if not language or language.split("_")[0] == SOURCE_LANGUAGE:
        return itinerary.span(visit)
    return itinerary.span(
        visit,
        day=lambda value: format_skeleton("yMMMEd", value, locale=language),
        at=lambda instant, zone: when(instant, zone, language),
    )


def duration(span: IsoDuration, language: str | None) -> str:
    """How long, in words, the reader's way: `7 days`, `7 jours`, `7 Tage`, `2 jours et 1 heure`."""
    if not language or language.split("_")[0] == SOURCE_LANGUAGE:
        return span.in_words()
    years, months = divmod(span.months, 12)
    hours, rest = divmod(span.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [
        format_unit(n, f"duration-{unit}", length="long", locale=language)
        for n, unit in (
            (years, "year"),
            (months, "month"),
            (span.days, "day"),
            (hours, "hour"),
            (minutes, "minute"),
            (seconds, "second"),
        )
        if n
    ]
    return format_list(parts, locale=language) if parts else translate(language, _NO_TIME)


_NO_TIME = N_("no time")


def number(value: float | int, language: str | None, decimals: int | None = None) -> str:
    """A number written the reader's way: `1,234.5`, `1 234,5`, `1.234,5`; with `decimals`,
    always that many (a score: `12.50`, `12,50`)."""
    pattern = None
    if decimals is not None:
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=language or SOURCE_LANGUAGE)


def install(environment: Environment) -> None:
    """Give `environment` gettext (`_`, `{% trans %}`), `when`, `number`, `local` and
    `translated` (a message marked with `N_` in code, passed in a variable), all speaking the
    `language` of the context each template is rendered with."""
    environment.add_extension("jinja2.ext.i18n")
    # Whitespace inside {% trans %} is the template's layout, not the message's.
    environment.policies["ext.i18n.trimmed"] = True

    @pass_context
    def _gettext(context: Any, message: str) -> str:
        return translations(context.get("language") or SOURCE_LANGUAGE).gettext(message)

    @pass_context
    def _ngettext(context: Any, singular: str, plural: str, count: int) -> str:
        catalogue = translations(context.get("language") or SOURCE_LANGUAGE)
        return catalogue.ngettext(singular, plural, count)

    @pass_context
    def _when(context: Any, instant: datetime, zone: str, end_of_day: bool = False) -> str:
        return when(instant, zone, context.get("language"), end_of_day=end_of_day)

    @pass_context
    def _number(context: Any, value: float | int, decimals: int | None = None) -> str:
        return number(value, context.get("language"), decimals)

    @pass_context
    def _local(context: Any, text: Any) -> Any:
        return localized(text, context.get("language"))

    @pass_context
    def _translated(context: Any, message: str) -> str:
        # A plain str, not the Markup `_()` gives: a message passed in is escaped like any value.
        return translations(context.get("language") or SOURCE_LANGUAGE).gettext(message)

    environment.install_gettext_callables(  # type: ignore[attr-defined]
        _gettext, _ngettext, newstyle=True
    )
    environment.filters.update(when=_when, number=_number, local=_local, translated=_translated)


_SLIDE = N_("the one-slide presentation (PDF or PPTX)")
_ANSWER = N_("an answer to “%(question)s”")


def missing_in(items: Iterable[str], mission: MissionFile, language: str | None) -> list[str]:
    """What an application still lacks (stored in English words, see `missing_items`) in
    `language`, each question in the words the applicant read it in."""
    questions = {answer_missing(q.text): q.text for q in mission.call.questionnaire}
    said = []
    for item in items:
        if item == SLIDE_MISSING:
            said.append(translate(language, _SLIDE))
        elif item in questions:
            question = localized(questions[item], language)
            said.append(translate(language, _ANSWER, question=question))
        else:
            said.append(item)
    return said
