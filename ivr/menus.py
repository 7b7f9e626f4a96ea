"""The spoken menus: the language menu (each option in its own language) and the topic menu.

Twilio's <Gather> recognises speech in one language, its `language` attribute (BCP-47), with
`hints` to bias it: a comma-separated list of at most 500 phrases of at most 100 characters each
(Twilio's TwiML <Gather> reference and its warning 13330). No attribute makes one <Gather> listen
in several languages, and a caller's language is what the first menu asks, so:

- The first language menu is one <Gather> (keys, or speech in the default language's locale) whose
  hints name every language as that locale's recognizer would write it: its own names for them,
  and each language's own name where it is written in the same script ("Türkçe" for en-GB;
  "русский", "українська" for a Cyrillic default). Matching then finds "Russki" or "Arabi" too.
- After speech it could not place, the menu is asked again with each option in a <Gather> of its
  own that listens in that option's language (options sharing a locale share one): a caller who
  says "русский" while or just after the Russian option is heard by the ru-RU recognizer. Keys
  work throughout, as in the first menu. What it costs: LOCALE_GAP seconds of silence after each
  option but the last (which waits menu_timeout, as every menu does), i.e. 2 s x 6 = 12 s more
  than the plain retry with the seven shipped languages, only for callers whose first spoken
  answer was not understood; `bench/menu_silence.py` prints the figures for the configuration.
"""
from __future__ import annotations

import unicodedata

from twilio.twiml.voice_response import Gather, VoiceResponse

from hotline import runtime
from hotline.telephony import external_url
from hotline.voice.speaking import speak
from ivr import choices

# Seconds a per-locale option waits for a key or the start of speech before the next option.
LOCALE_GAP = 2
# Twilio's limits on hints (TwiML <Gather> reference; warning 13330 "Invalid hints value").
MAX_HINTS = 500
MAX_HINT_CHARS = 100


def _script(text: str) -> str:
    """The Unicode script of a text's first letter ("LATIN", "CYRILLIC", "ARABIC"); "" for none."""
    letter = next((c for c in text if c.isalpha()), "")
    return unicodedata.name(letter, "").split(" ")[0] if letter else ""


def hints_attribute(phrases: list[str]) -> str:
    """`phrases` as a <Gather> hints value: commas (the separator) dropped from each, empty and
    repeated phrases and those over 100 characters left out, at most 500 kept, in order."""
    kept: list[str] = []
    for phrase in phrases:
        phrase = " ".join(phrase.replace(",", " ").split())
        if phrase and len(phrase) <= MAX_HINT_CHARS and phrase not in kept:
            kept.append(phrase)
    return ", ".join(kept[:MAX_HINTS])


def language_hints(listening_in: str) -> list[str]:
    """What a recognizer listening in language `listening_in` may hear in the language menu: every
    language's name as `listening_in` says it, every other name of a language (language_names)
    written in its script, and its number words for the menu's keys."""
    catalogue = runtime.catalogue()
    script = _script(catalogue.term(listening_in, "languages", listening_in))
    hints = [catalogue.term(listening_in, "languages", lang.code) for lang in catalogue.languages]
    for lang in catalogue.languages:
        hints += [name for name in choices.language_names(catalogue, lang.code) if _script(name) == script]
    numbers = catalogue.words(listening_in, "numbers")
    return hints + [numbers[int(lang.digit)] for lang in catalogue.languages if lang.digit.isdigit()]


def _gather(endpoint: str, attempt: int, speech_language: str, hints: list[str],
            timeout: int | None = None, report_silence: bool = True, **query: str) -> Gather:
    catalogue = runtime.catalogue()
    return Gather(
        input="dtmf speech", num_digits=1, timeout=timeout or catalogue.menu_timeout, speech_timeout="auto",
        action=external_url(endpoint, attempt=attempt, **query), method="POST",
        action_on_empty_result=report_silence, language=speech_language, hints=hints_attribute(hints),
    )


def _speak_option(gather: Gather, lang: str) -> None:
    catalogue = runtime.catalogue()
    speak(gather, lang, "language_option", recording="language_option", digit=catalogue.language(lang).digit,
          language=lambda spoken: catalogue.term(spoken, "languages", lang))


def _locale_groups() -> list[tuple[str, str, list[str]]]:
    """The language menu's options in order, consecutive ones that listen in the same speech locale
    together: (locale, the language whose words and rules read what it hears, option codes). A
    language configured without a speech locale is listened for in the default language's."""
    catalogue = runtime.catalogue()
    default = catalogue.language(catalogue.default_language)
    groups: list[tuple[str, str, list[str]]] = []
    for lang in catalogue.languages:
        locale, heard = (lang.speech, lang.code) if lang.speech else (default.speech, default.code)
        if groups and groups[-1][0] == locale:
            groups[-1][2].append(lang.code)
        else:
            groups.append((locale, heard, [lang.code]))
    return groups


def language_menu(resp: VoiceResponse, attempt: int, each_locale: bool = False) -> None:
    """The language menu, one option per language in its own language, keys or speech.

    `each_locale` (after speech the menu could not place): each option listens in its own
    language's locale, and its <Gather> action says which (`heard=<language code>`).
    """
    catalogue = runtime.catalogue()
    default = catalogue.language(catalogue.default_language)
    all_codes = [lang.code for lang in catalogue.languages]
    groups = _locale_groups() if each_locale else [(default.speech, default.code, all_codes)]
    for number, (locale, heard, codes) in enumerate(groups, start=1):
        last = number == len(groups)
        query = {"heard": heard} if each_locale else {}
        gather = _gather("ivr.language", attempt, locale, language_hints(heard),
                         timeout=None if last else LOCALE_GAP, report_silence=last, **query)
        resp.append(gather)
        for code in codes:
            _speak_option(gather, code)


def topic_menu(resp: VoiceResponse, lang: str, attempt: int) -> None:
    catalogue = runtime.catalogue()
    hints = [catalogue.term(lang, "topics", topic.code) for topic in catalogue.topics]
    gather = _gather("ivr.topic", attempt, catalogue.language(lang).speech, hints)
    resp.append(gather)
    speak(gather, lang, "topic_intro")
    for topic in catalogue.topics:
        speak(gather, lang, "topic_option", recording=f"topic_option-{topic.code}", digit=topic.digit,
              topic=lambda spoken, code=topic.code: catalogue.term(spoken, "topics", code))
