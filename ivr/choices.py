"""Turning what a caller pressed or said into a menu choice.

Every answer and every word it is matched against goes through hotline.voice.answers.normalise first
(Unicode case folding with Turkish İ/ı, Arabic-Indic and Persian digits, Arabic letter variants,
typographic apostrophes), so "İki.", "٢", "اتنين" and "п’ять" are understood.
"""
from __future__ import annotations

from functools import lru_cache

from hotline.catalogue import Catalogue
from hotline.voice import answers

# A name shorter than this must be said as a word of its own: "دري" (Dari) is not the end of
# "ادري" (I know).
_SUBSTRING_MIN = 4


def _said(spoken: str, keyword: str) -> bool:
    if len(keyword) >= _SUBSTRING_MIN:
        return keyword in spoken
    return f" {keyword} " in f" {spoken} "


def _keyword_match(spoken: str, keywords: dict[str, list[str]]) -> str | None:
    hits = {code for code, words in keywords.items() if any(w and _said(spoken, w) for w in words)}
    return hits.pop() if len(hits) == 1 else None


# The words derived from a catalogue are kept per catalogue (read-only, one per process): built on
# every answer they cost a few milliseconds of the webhook's time.
@lru_cache(maxsize=32)
def _number_words(catalogue: Catalogue, lang: str) -> dict[str, str]:
    return answers.number_words(catalogue.prompts, lang)


def _digit_from_speech(spoken: str, catalogue: Catalogue, langs: list[str]) -> str | None:
    for lang in langs:
        digit = answers.spoken_digit(spoken, _number_words(catalogue, lang))
        if digit is not None:
            return digit
    return None


def choose(digits: str | None, speech: str | None, options: dict[str, str],
           keywords: dict[str, list[str]], catalogue: Catalogue, speech_langs: list[str]) -> str | None:
    """The option code chosen, or None for no input, a wrong key, or speech we cannot place.

    `digits` is Twilio's Digits (its first key counts), `speech` its SpeechResult, heard in the
    language `speech_langs[0]` (whose normalisation rules apply); `options` maps a key to a code;
    `keywords` maps a code to normalised words that name it (language_keywords, topic_keywords).
    A spoken digit is a numeral or a number word of one of `speech_langs`, in that order.
    """
    if (digits or "").strip():
        key = answers.keyed(digits)
        return options.get(key) if key else None
    spoken = answers.normalise(speech, speech_langs[0] if speech_langs else None)
    if not spoken:
        return None
    by_keyword = _keyword_match(spoken, keywords)
    if by_keyword:
        return by_keyword
    digit = _digit_from_speech(spoken, catalogue, speech_langs)
    return options.get(digit) if digit else None


def _stem(name: str) -> str:
    # Stems, so that "по-русски" or "Russisch"-like inflections still match.
    return name[: max(5, len(name) - 2)]


def language_names(catalogue: Catalogue, code: str) -> list[str]:
    """Every way the catalogue names language `code`: as each language says it ("Russian",
    "руски", "русский"...), then its `answers.names` ("по-русски", "russki"); not normalised."""
    names = [catalogue.term(speaker.code, "languages", code) for speaker in catalogue.languages]
    return names + list(answers.answer_table(catalogue.prompts, code).get("names", []))


@lru_cache(maxsize=8)
def language_keywords(catalogue: Catalogue) -> dict[str, list[str]]:
    """Language code -> the normalised stems of every name of it (language_names). Kept per
    catalogue: do not change the dict returned."""
    keywords: dict[str, list[str]] = {}
    for lang in catalogue.languages:
        names = {answers.normalise(name, lang.code) for name in language_names(catalogue, lang.code)}
        keywords[lang.code] = sorted({_stem(name) for name in names if name})
    return keywords


@lru_cache(maxsize=32)
def topic_keywords(catalogue: Catalogue, lang: str) -> dict[str, list[str]]:
    """Words of each topic's name in `lang` (and in English), long enough to mean something. Kept
    per catalogue: do not change the dict returned."""
    keywords: dict[str, list[str]] = {}
    for topic in catalogue.topics:
        words = set()
        for speaker in {lang, "en"}:
            name = answers.normalise(catalogue.term(speaker, "topics", topic.code), speaker)
            words.update(_stem(w) for w in name.split() if len(w) >= 5)
        keywords[topic.code] = sorted(words)
    return keywords
