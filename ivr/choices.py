"""Turning what a caller pressed or said into a menu choice."""
from __future__ import annotations

import re
import unicodedata

from hotline.catalogue import Catalogue


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[^\w\s']", " ", text)


def _digit_from_speech(speech: str, catalogue: Catalogue, langs: list[str]) -> str | None:
    words = speech.split()
    for word in words:
        if word.isdigit() and len(word) == 1:
            return word
    for lang in langs:
        numbers = catalogue.words(lang, "numbers")
        for word in words:
            if word in numbers:
                return str(numbers.index(word))
    return None


def _keyword_match(speech: str, keywords: dict[str, list[str]]) -> str | None:
    hits = {code for code, words in keywords.items() if any(w and w in speech for w in words)}
    return hits.pop() if len(hits) == 1 else None


def choose(digits: str | None, speech: str | None, options: dict[str, str],
           keywords: dict[str, list[str]], catalogue: Catalogue, speech_langs: list[str]) -> str | None:
    """The option code chosen, or None for no input, a wrong key, or speech we cannot place.

    `options` maps a key to a code; `keywords` maps a code to words that name it when spoken.
    """
    digits = (digits or "").strip()
    if digits:
        return options.get(digits[:1])
    if not speech:
        return None
    spoken = _normalise(speech)
    by_keyword = _keyword_match(spoken, keywords)
    if by_keyword:
        return by_keyword
    digit = _digit_from_speech(spoken, catalogue, speech_langs)
    return options.get(digit) if digit else None


def language_keywords(catalogue: Catalogue) -> dict[str, list[str]]:
    """Each language's name as every language says it ("russian", "руски", "русский"...)."""
    names: dict[str, set[str]] = {lang.code: set() for lang in catalogue.languages}
    for speaker in catalogue.languages:
        for lang in catalogue.languages:
            name = _normalise(catalogue.term(speaker.code, "languages", lang.code)).strip()
            # Stems, so that "по-русски" or "Russisch"-like inflections still match.
            names[lang.code].add(name[: max(5, len(name) - 2)])
    return {code: sorted(words) for code, words in names.items()}


def topic_keywords(catalogue: Catalogue, lang: str) -> dict[str, list[str]]:
    """Words of each topic's name in `lang` (and in English), long enough to mean something."""
    keywords: dict[str, list[str]] = {}
    for topic in catalogue.topics:
        words = set()
        for speaker in {lang, "en"}:
            name = _normalise(catalogue.term(speaker, "topics", topic.code))
            words.update(w[: max(5, len(w) - 2)] for w in name.split() if len(w) >= 5)
        keywords[topic.code] = sorted(words)
    return keywords
