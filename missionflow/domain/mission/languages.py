"""The languages a mission speaks, and texts written in several of them.

A mission file lists its `languages` (the first is the default) and may write a title, a
question, a choice or a visit's texts as a map, `{en: ..., fr: ...}`. A plain string still means
the default language, so a file written before missions had languages reads as before.

A localized text is kept as a `Localized`: a `str` holding the default language's text, with the
other languages beside it. Everything that only knows one language (the scorer matching a choice,
the coordinators' lists, the report) keeps reading a plain string and gets the default one; what
speaks to a person asks for theirs with `Localized.in_language` or `localized`. The default text
stays the value a choice is stored and scored by, whatever language the applicant read it in.
"""

from __future__ import annotations

from typing import Annotated, Any

from babel import Locale, UnknownLocaleError
from pydantic import (
    AfterValidator,
    Field,
    PlainSerializer,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

DEFAULT_LANGUAGES = ("en",)
"""What a mission file without `languages` speaks."""


def check_language(code: str) -> str:
    """A language code Babel knows (`en`, `fr`, `de`, `pt_BR`), in its canonical spelling."""
    try:
        return str(Locale.parse(code.replace("-", "_")))
    except (ValueError, UnknownLocaleError):
        raise ValueError(
            f"{code!r} is not a known language code: use an ISO 639 code such as en, fr or de"
        ) from None


Language = Annotated[str, Field(min_length=2, max_length=20), AfterValidator(check_language)]


class Localized(str):
    """A text in the mission's default language that also knows its translations.

    `translations` maps each language code it is written in (the default included, for a map)
    to the text; a plain string written in the file has none.
    """

    __slots__ = ("translations",)
    translations: dict[str, str]

    def __new__(cls, default: str, translations: dict[str, str] | None = None) -> Localized:
        instance = super().__new__(cls, default)
        instance.translations = dict(translations or {})
        return instance

    def in_language(self, language: str | None) -> str:
        """The text in `language`, else in the default language."""
        if language is not None and (text := self.translations.get(language)):
            return text
        return str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Localized, (str(self), self.translations))


def localized(text: Any, language: str | None) -> Any:
    """`text` in `language` when it is a `Localized`; anything else as it is."""
    return text.in_language(language) if isinstance(text, Localized) else text


def _read_map(value: dict[Any, Any], max_length: int) -> Localized:
    """A `{language: text}` map, kept whole until `settle` sees the file's languages."""
    if not value:
        raise ValueError("a text map needs at least one language")
    texts: dict[str, str] = {}
    for key, text in value.items():
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {key} text must be a non-empty string")
        if len(text.strip()) > max_length:
            raise ValueError(f"the {key} text may be at most {max_length} characters")
        texts[check_language(str(key))] = text.strip()
    # The first entry stands in until the file's default language is known.
    return Localized(next(iter(texts.values())), texts)


def _written(value: str) -> Any:
    """As the file wrote it: a plain string stays one, so unlocalized missions are stored and
    carried through Temporal exactly as before."""
    if isinstance(value, Localized) and value.translations:
        return dict(value.translations)
    return str(value)


def text_field(max_length: int, *, min_length: int = 1) -> Any:
    """A text of at most `max_length` characters in each language, or a map of them."""

    def _validate(value: Any, handler: ValidatorFunctionWrapHandler) -> Localized:
        if isinstance(value, Localized) and value.translations:
            return _read_map(value.translations, max_length)
        if isinstance(value, dict):
            return _read_map(value, max_length)
        # A plain string goes through str's own rules (stripping, lengths) as before.
        return Localized(handler(value))

    return Annotated[
        str,
        Field(min_length=min_length, max_length=max_length),
        WrapValidator(_validate),
        PlainSerializer(_written, return_type=Any),
    ]


def settle(text: Localized, languages: list[str]) -> tuple[Localized, str | None]:
    """`text` with the file's default language as its own value, or what is wrong with it.

    Returns the settled text and None, or the text unchanged and a message for the field.
    """
    if not text.translations:
        return text, None
    default = languages[0]
    unknown = [code for code in text.translations if code not in languages]
    if unknown:
        return text, (
            f"{unknown[0]} is not one of this mission's languages ({', '.join(languages)})"
        )
    if default not in text.translations:
        return text, f"the text in the default language ({default}) is missing"
    return Localized(text.translations[default], text.translations), None
