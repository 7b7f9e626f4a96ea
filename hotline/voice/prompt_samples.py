"""The prompt catalogue filled with sample values: every prompt of every language, each of its fields
given every sample (minutes that hit each CLDR plural category, times from midnight to 23:30, each
weekday...), so a missing plural form, hour word or day period, or a broken template, is found when
the catalogue loads rather than when a caller would have heard it.
"""
from __future__ import annotations

import json
import string
from datetime import date, time, timedelta
from functools import lru_cache
from typing import Callable

from hotline.voice import spoken

# Templates for parts of a value (a time of day), filled by hotline.voice.spoken, not by a call site:
# their fields differ between languages by design.
PIECES = ("time", "time_minutes")
WORD_COUNTS = {"hour_words": 24}
_MONDAY = date(2026, 11, 30)
_TIMES = [time(hour, minute) for hour in range(24) for minute in (0, 30)] + [time(9, 5), time(13, 15)]
_COUNTS = [2, 3, 4, 5, 11, 12, 15, 21, 22, 25, 100, 101, 102]
_KEYS = ["0", "1", "3", "9"]


def _fields(text: str) -> list[str]:
    return [name for _, name, _, _ in string.Formatter().parse(text) if name]


def _one(table: dict, key: str, **fields) -> str:
    return table[key].format(**fields)


def _when(table: dict, times: list[str], weekdays: list[str]) -> list[str]:
    return ([_one(table, "opens_today", time=t) for t in times]
            + [_one(table, "opens_tomorrow", time=t) for t in times[:1]]
            + [_one(table, "opens_on", weekday=day, time=times[0]) for day in weekdays])


def _windows(table: dict, weekdays: list[str]) -> list[str]:
    fixed = [key for key in table if key.startswith("window_") and not key.startswith("window_on_")]
    return ([_one(table, key) for key in sorted(fixed)]
            + [_one(table, key, weekday=day) for key in ("window_on_morning", "window_on_afternoon")
               for day in weekdays])


def samples(lang: str, table: dict, languages: list[str]) -> dict[str, list]:
    """Every field name a prompt may have -> the values to try it with, in `lang`. Raises KeyError,
    IndexError or ValueError when the table cannot word a value (a missing form or word)."""
    counts = sorted(set(_COUNTS) | set(spoken.plural_categories(lang).values()))
    times = [spoken.clock_time(lang, table, at) for at in _TIMES]
    weekdays = [spoken.weekday(table, _MONDAY + timedelta(days=n)) for n in range(7)]
    names = list(table.get("languages", {}).values())
    return {
        "language": names, "other": names, "topic": list(table.get("topics", {}).values()),
        "digit": _KEYS, "confirm": _KEYS, "change": _KEYS, "position": [1, 2, 3, 11, 21, 101],
        "digits": ["4 5 6", "0 8 8 8 1 2 3 4 5 6"],
        "minutes": [spoken.minutes(lang, table, count) for count in counts],
        "time": times, "weekday": weekdays,
        "when": _when(table, times, weekdays), "window": _windows(table, weekdays),
        "languages": [spoken.language_list(lang, table, languages[:n]) for n in (1, 2, 3)],
    }


def _fill(lang: str, key: str, text: str, values: dict[str, list]) -> list[str]:
    names = _fields(text)
    unknown = [name for name in names if name not in values]
    if unknown:
        return [f"{lang}.{key}: no sample values for {{{', '.join(unknown)}}}"]
    problems = []
    for name in names:
        for value in values[name]:
            filled = {other: values[other][0] for other in names} | {name: value}
            try:
                text.format(**filled)
            except (KeyError, IndexError, ValueError) as error:
                problems.append(f"{lang}.{key} with {name}={value!r}: {error!r}")
                break
    return problems


def _structure(lang: str, table: dict) -> list[str]:
    """The plural forms CLDR says the language needs, and word lists of the right length."""
    problems = []
    for name in spoken.COUNT_TABLES:
        forms = table.get(name) if isinstance(table.get(name), dict) else {}
        missing = sorted(set(spoken.plural_categories(lang)) - set(forms))
        if missing:
            problems.append(f"{lang}.{name} lacks the CLDR plural forms {', '.join(missing)}")
    for name, size in WORD_COUNTS.items():
        if name in table and (not isinstance(table[name], list) or len(table[name]) != size):
            problems.append(f"{lang}.{name} ({size} words)")
    digits = table.get("digits")
    if digits is not None and (not isinstance(digits, str) or len(digits) != 10):
        problems.append(f"{lang}.digits (ten characters, 0 to 9)")
    return problems


def _other_digits(table: dict) -> Callable[[str], bool]:
    own = set(table.get("digits") or spoken.ASCII_DIGITS)
    return lambda text: any(ch.isdigit() and ch not in own for ch in text)


def _mixed_digits(lang: str, table: dict) -> list[str]:
    """Prompts written with digits other than the language's own (one style of digits each)."""
    foreign = _other_digits(table)
    return [f"{lang}.{key}: digits other than the language's own" for key, text in table.items()
            if key != "digits" and isinstance(text, str)
            and foreign("".join(literal for literal, _, _, _ in string.Formatter().parse(text)))]


def sample_problems(raw: dict) -> list[str]:
    """Every prompt of every language that cannot be filled with every sample value; [] if none."""
    # The same catalogue gives the same answer: a process that builds many apps (tests, several
    # workers) checks it once. The key is the catalogue's text, so nothing stale can be served.
    key = json.dumps([raw.get("prompts", {}), list(raw.get("languages", {}))], sort_keys=True)
    return list(_problems(key))


@lru_cache(maxsize=16)
def _problems(key: str) -> tuple[str, ...]:
    prompts, languages = json.loads(key)
    problems = []
    for lang, table in sorted(prompts.items()):
        if not isinstance(table, dict):
            continue
        problems += _structure(lang, table) + _mixed_digits(lang, table)
        try:
            values = samples(lang, table, languages)
        except (KeyError, IndexError, ValueError, AttributeError) as error:
            problems.append(f"{lang}: cannot word a sample value: {error!r}")
            continue
        for key, text in sorted(table.items()):
            if isinstance(text, str) and key not in PIECES:
                problems += _fill(lang, key, text, values)
    return tuple(problems)
