"""The text the speech engine reads for a prompt, and the prompts `hotline prompts render` renders.

The engine reads `[<lang>.engine]` of the prompt catalogue where it has the prompt's key, else the
display text. It holds what a reader would not write but a speech engine needs: the ezafe kasra
in Farsi (صفِ انتظار), which espeak-ng speaks only when it is marked.
"""
from __future__ import annotations

from typing import Any

from hotline.catalogue import TERM_TABLES, WORD_LISTS, Catalogue, prompt_fields

ENGINE_TABLE = "engine"
# Prompts never spoken whole: SMS texts, and fragments that fill another prompt's {when}/{window}.
NOT_SPOKEN_ALONE = ("sms_", "opens_", "window_")


def engine_template(catalogue: Catalogue, lang: str, key: str) -> str:
    """The template the engine reads for `key` in `lang`: its [<lang>.engine] text, or the display text."""
    table = catalogue.raw["prompts"][lang]
    return table.get(ENGINE_TABLE, {}).get(key) or table[key]


def engine_text(catalogue: Catalogue, lang: str, key: str, values: dict[str, Any]) -> str:
    """The text the engine reads for prompt `key` in `lang` with its fields filled by `values`."""
    return engine_template(catalogue, lang, key).format(**values)


def engine_text_problems(raw: dict) -> list[str]:
    """Engine texts ([<lang>.engine] of the prompts) that name no prompt of the language or whose
    {fields} differ from their display text's; [] when all are sound."""
    problems = []
    for lang, table in raw.get("prompts", {}).items():
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
    table = catalogue.raw["prompts"][lang]
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
