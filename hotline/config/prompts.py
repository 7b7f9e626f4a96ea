"""The checks of the prompt catalogue (prompts.toml, with a deployment's [prompts.<lang>] merged
over it): every language has every prompt, the same {fields} in each, and words for every
configured language and topic. catalogue.prompts gives the checked tables out."""
from __future__ import annotations

import string
from typing import Any

from hotline.config import CatalogueError
from hotline.voice import answers
from hotline.voice.prompt_samples import PIECES, sample_problems

# Prompt sub-tables that name each configured language or topic -> the configuration table of
# what they name ("spoken_in": a language as it follows "if you can speak").
TERM_TABLES = {"languages": "languages", "topics": "topics", "spoken_in": "languages"}
# Prompt sub-tables a language may leave out: other words callers use ([<lang>.answers],
# hotline/voice/answers.py), and the text a speech engine reads where it differs from the display text
# ([<lang>.engine], hotline.voice.speech.prompts).
OPTIONAL_TABLES = ("answers", "engine")
# Words only a language that uses them needs (the sample values show whether it does).
OPTIONAL_KEYS = {"hour_words", "day_periods", "digits"}
# Prompt word lists and how many words each must have.
WORD_LISTS = {"numbers": 10, "weekdays": 7}


def _prompt_tables(raw: dict) -> tuple[list[str], dict[str, dict]]:
    """Every language that needs prompts (configured or given prompts), and the tables present."""
    prompts = raw.get("prompts", {})
    langs = sorted(set(raw.get("languages", {})) | set(prompts))
    return langs, {lang: prompts[lang] for lang in langs if isinstance(prompts.get(lang), dict)}


def _terms(table: dict, name: str) -> set[str]:
    terms = table.get(name)
    return set(terms) if isinstance(terms, dict) else set()


def _missing_terms(raw: dict, lang: str, tables: dict[str, dict]) -> list[str]:
    missing = []
    for name, configured in TERM_TABLES.items():
        codes = set(raw.get(configured, {})).union(*(_terms(table, name) for table in tables.values()))
        missing += [f"{lang}.{name}.{code}" for code in sorted(codes - _terms(tables[lang], name))]
    return missing


def missing_prompts(raw: dict) -> list[str]:
    """What the prompt catalogue lacks, as "lang.key" ("lang.topics.code"...); [] when complete.

    Every key any language has, every language needs (but OPTIONAL_KEYS); the term tables need every
    configured language and topic; the word lists need their exact number of words.
    """
    langs, tables = _prompt_tables(raw)
    missing = [f"{lang} (no [prompts.{lang}] table)" for lang in langs if lang not in tables]
    keys = set().union(*tables.values()) - set(TERM_TABLES) - set(OPTIONAL_TABLES) - OPTIONAL_KEYS
    for lang, table in tables.items():
        missing += [f"{lang}.{key}" for key in sorted(keys - set(table))]
        missing += _missing_terms(raw, lang, tables)
        missing += [f"{lang}.{key} ({size} words)" for key, size in WORD_LISTS.items()
                    if key in table and (not isinstance(table[key], list) or len(table[key]) != size)]
    return missing


def prompt_fields(text: str) -> set[str]:
    """The {field} names in a prompt; ValueError if its braces are malformed."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def mismatched_fields(raw: dict) -> list[str]:
    """Prompts whose {fields} differ between languages or whose braces are malformed (the PIECES of a
    spoken value differ by design)."""
    _, tables = _prompt_tables(raw)
    fields: dict[str, dict[str, frozenset[str]]] = {}
    problems = []
    for lang, table in tables.items():
        for key, text in table.items():
            if isinstance(text, str) and key not in PIECES:
                try:
                    fields.setdefault(key, {})[lang] = frozenset(prompt_fields(text))
                except ValueError as error:
                    problems.append(f"{lang}.{key}: {error}")
    for key, by_lang in sorted(fields.items()):
        if len(set(by_lang.values())) > 1:
            shown = "; ".join(f"{lang} {{{', '.join(sorted(names))}}}"
                              for lang, names in sorted(by_lang.items()))
            problems.append(f"{key}: fields differ ({shown})")
    return problems


def check_prompts(raw: dict[str, Any]) -> None:
    """Raise CatalogueError naming every missing or inconsistent prompt, and every prompt that
    cannot be filled with the sample values of hotline.voice.prompt_samples."""
    missing = missing_prompts(raw)
    problems = ([f"missing prompts: {', '.join(missing)}"] if missing else []) + mismatched_fields(raw)
    malformed = answers.table_problems(_prompt_tables(raw)[1])
    problems += [f"malformed answers: {', '.join(malformed)}"] if malformed else []
    if not problems:  # a missing table would only be reported again, less clearly
        problems = sample_problems(raw)
    if problems:
        raise CatalogueError("prompt catalogue incomplete: " + "; ".join(problems))
