"""What the translation tests check of any rendering, email or page: the catalogues read back,
the English phrases each translation replaces, and the lines of a translated rendering the
English one has word for word (see tests/runtime/test_translations.py)."""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser

from babel.messages.pofile import read_po

from missionflow.runtime import i18n

TRANSLATED = ("fr", "de")
WORDS = re.compile(r"[^\W\d_]{2,}")
PLACEHOLDER = re.compile(r"%\(\w+\)s")
TAG = re.compile(r"<[^>]+>")
UNSAID = {"code", "style", "script"}
"""Elements whose text is not words for a reader."""


@functools.cache
def catalogue(language: str) -> dict[str, str]:
    path = i18n.LOCALES_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        return {message.id: message.string for message in read_po(source) if message.id}


def english_phrases(language: str) -> list[str]:
    """The English words of each translated message that its translation does not also use:
    the pieces between placeholders and tags, long enough to be a phrase, not a name."""
    phrases = []
    for english, translated in catalogue(language).items():
        for piece in PLACEHOLDER.split(TAG.sub("|", english)):
            for phrase in piece.split("|"):
                phrase = phrase.strip(" .,:;“”()")
                if len(phrase) >= 12 and phrase not in translated:
                    phrases.append(phrase)
    return phrases


class Parsed(HTMLParser):
    """An HTML body read back: its text, and the `lang` of its root. What is inside `<code>`
    (a header, an address to send to) is a computer's words, the same in every language, and a
    page's `<style>` is not shown at all."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.text: list[str] = []
        self.lang: str | None = None
        self.unsaid = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "html":
            self.lang = dict(attrs).get("lang")
        self.unsaid += tag in UNSAID

    def handle_endtag(self, tag: str) -> None:
        self.unsaid -= tag in UNSAID

    def handle_data(self, data: str) -> None:
        if not self.unsaid:
            self.text.append(data)


def values(data: object) -> list[str]:
    """Every string a context holds: what a message says of the mission, not in its words."""
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [text for value in data.values() for text in values(value)]
    if isinstance(data, list | tuple):
        return [text for value in data for text in values(value)]
    return []


def own_words(context: dict[str, object]) -> list[str]:
    """The context's own values (names, titles, sectors, a mission's questions), line by line
    (a note to the reader is written over several), longest first: the words a rendering says
    as they were given, in no catalogue."""
    lines = {
        line.strip() for v in values(context) for line in v.splitlines() if len(line.strip()) > 3
    }
    return sorted(lines, key=len, reverse=True)


def untranslated(english: str, translated: str, context: dict[str, object]) -> list[str]:
    """Lines of a translated rendering the English one also has, word for word, once the
    context's own values are taken out: words nobody translated."""
    data = own_words(context)
    english_lines = {line.strip() for line in english.splitlines()}
    left = []
    for line in translated.splitlines():
        if line.strip() not in english_lines:
            continue
        rest = line
        for value in data:
            rest = rest.replace(value, " ")
        if len(WORDS.findall(rest)) >= 3:
            left.append(line.strip())
    return left


def html_text(html: str) -> str:
    return "\n".join(part.strip() for part in Parsed(html).text if part.strip())


def left_in_english(
    said: str, english: str, context: dict[str, object], language: str
) -> list[str]:
    """What a rendering in `language` still says in English: lines the English rendering has
    word for word, and any English phrase of a message the catalogue translates (the
    context's own values aside: a mission may ask, in its own words, what a page asks too)."""
    rest = said
    for value in own_words(context):
        rest = rest.replace(value, " ")
    phrases = [phrase for phrase in english_phrases(language) if phrase in rest]
    return untranslated(english, said, context) + phrases
