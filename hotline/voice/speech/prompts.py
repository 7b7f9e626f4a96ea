"""The text the speech engine reads for a prompt, and the prompts `hotline prompts render` renders.

The engine reads `[<lang>.engine]` of the prompt catalogue where it has the prompt's key, else the
display text. It holds what a reader would not write but a speech engine needs: the ezafe kasra
in Farsi (صفِ انتظار), which espeak-ng speaks only when it is marked.
"""
from __future__ import annotations

import string
from typing import Any

from hotline.catalogue import Catalogue
from hotline.config.prompts import TERM_TABLES, WORD_LISTS, prompt_fields

ENGINE_TABLE = "engine"
# Prompts never spoken whole: SMS texts, and fragments that fill another prompt's {when}/{window}.
NOT_SPOKEN_ALONE = ("sms_", "opens_", "window_")
# Fields that hold a caller's personal data (the digits of their phone number): never rendered
# inside a sentence, whose text would then sit in an audio URL, its access logs and the cache.
PERSONAL_FIELDS = frozenset({"digits"})


def engine_template(catalogue: Catalogue, lang: str, key: str) -> str:
    """The template the engine reads for `key` in `lang`: its [<lang>.engine] text, or the display text."""
    table = catalogue.prompts[lang]
    return table.get(ENGINE_TABLE, {}).get(key) or table[key]


def engine_text(catalogue: Catalogue, lang: str, key: str, values: dict[str, Any]) -> str:
    """The text the engine reads for prompt `key` in `lang` with its fields filled by `values`."""
    return engine_template(catalogue, lang, key).format(**values)


def engine_fragments(catalogue: Catalogue, lang: str, key: str, values: dict[str, Any]) -> list[str]:
    """The texts the engine reads, in order, for prompt `key` in `lang` with `values`: the whole
    sentence (engine_text), unless a personal field (PERSONAL_FIELDS) has a value. Then the
    sentence is cut around it and each of its space-separated parts (a digit) is a text of its
    own: "ending in {digits}." with digits="4 5 6" -> ["ending in", "4", "5", "6", "."]."""
    if not PERSONAL_FIELDS & {name for name, value in values.items() if value not in ("", None)}:
        return [engine_text(catalogue, lang, key, values)]
    fragments, sentence = [], ""
    for literal, name, spec, conversion in string.Formatter().parse(engine_template(catalogue, lang, key)):
        sentence += literal
        if name is None:
            continue
        if name in PERSONAL_FIELDS:
            fragments += [sentence.strip()] + str(values[name]).split()
            sentence = ""
        else:
            template = "{0" + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            sentence += template.format(values[name])
    # A fragment of punctuation alone ("." after the digits) says nothing: dropped.
    return [text for text in fragments + [sentence.strip()] if any(char.isalnum() for char in text)]


def engine_text_problems(prompts: dict[str, dict[str, Any]]) -> list[str]:
    """Engine texts ([<lang>.engine] of `prompts`, catalogue.prompts) that name no prompt of the
    language or whose {fields} differ from their display text's; [] when all are sound."""
    problems = []
    for lang, table in prompts.items():
        for key, text in (table.get(ENGINE_TABLE) or {}).items():
            display = table.get(key)
            if not isinstance(display, str) or not isinstance(text, str):
                problems.append(f"{lang}.{ENGINE_TABLE}.{key}: no such prompt")
            elif prompt_fields(text) != prompt_fields(display):
                problems.append(f"{lang}.{ENGINE_TABLE}.{key}: fields differ from {lang}.{key}")
    return problems


def fixed_prompts(catalogue: Catalogue, lang: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Every prompt of `lang` whose spoken text is known before a call: recording name -> (key,
    field values). The field-free prompts, the language menu's option for `lang` and each topic
    option of the topic menu (the names their recordings have, see store)."""
    table = catalogue.prompts[lang]
    skipped = set(TERM_TABLES) | set(WORD_LISTS) | {ENGINE_TABLE}
    prompts = {key: (key, {}) for key, text in table.items()
               if key not in skipped and isinstance(text, str) and not prompt_fields(text)
               and not key.startswith(NOT_SPOKEN_ALONE)}
    language = catalogue.language(lang)
    if language:
        prompts["language_option"] = ("language_option", {
            "language": catalogue.term(lang, "languages", lang), "digit": language.digit})
    for topic in catalogue.topics:
        prompts[f"topic_option-{topic.code}"] = ("topic_option", {
            "topic": catalogue.term(lang, "topics", topic.code), "digit": topic.digit})
    return prompts
