"""The hotline's configuration: offices, hours, languages, topics, the wrap-up lists and the prompt
catalogue.

The defaults ship in the package (default_config.toml, prompts.toml); a deployment's HOTLINE_CONFIG
file is merged over them table by table.
"""
from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from datetime import date, time, timedelta
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_calendars

from hotline.voice import answers, spoken
from hotline.voice.prompt_samples import PIECES, sample_problems
from hotline.wrap_up import WrapUpConfigError, WrapUpLists, parse_wrap_up

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
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
_SPAN = re.compile(r"^(?P<start>[01]\d|2[0-3]):[0-5]\d-(?P<end>(?:[01]\d|2[0-3]):[0-5]\d|24:00)$")


@dataclass(frozen=True)
class Language:
    code: str
    digit: str
    voice: str  # Twilio <Say> voice; "" when no text-to-speech voice exists for it
    tts: str  # Twilio <Say> language
    speech: str  # Twilio <Gather> speech-recognition language
    fallback: str | None  # language spoken while a voiceless language has no recording


@dataclass(frozen=True)
class Topic:
    code: str
    digit: str


@dataclass(frozen=True)
class Office:
    code: str
    name: str
    numbers: tuple[str, ...]
    timezone: str
    holidays: str | None  # a country code for the `holidays` package, or None
    hours: dict[str, tuple[tuple[str, str], ...]]  # "mon" -> (("09:00", "17:30"), ...)


class CatalogueError(ValueError):
    """The configuration is incomplete or contradicts itself."""


@dataclass(frozen=True)
class QueueRules:
    """How callers wait when nobody suitable is free (the [queue] table)."""

    max_size: int
    max_wait: timedelta
    announce_seconds: int
    hold_music_url: str
    widen_after: timedelta
    other_office_after: timedelta  # zero: both offices serve a caller from the start
    offer_languages_after: timedelta
    other_languages: tuple[str, ...]
    missed_offer_status: str | None
    urgent_topics: frozenset[str]
    keys: dict[str, str]  # way out or choice -> the key a waiting caller presses for it
    # Answers of a queue in the last 30 minutes an expected wait needs; with fewer none is said.
    estimate_min_answers: int


def _parse_queue(spec: dict, languages: set[str], topics: set[str]) -> QueueRules:
    def seconds(name: str, minimum: int = 0) -> int:
        value = spec.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise CatalogueError(f"queue.{name} must be a whole number of at least {minimum}")
        return value

    others = tuple(spec.get("other_languages", ()))
    unknown = sorted(set(others) - languages) + sorted(set(spec.get("urgent_topics", ())) - topics)
    if unknown:
        raise CatalogueError(f"queue names unknown languages or topics: {', '.join(unknown)}")
    keys = {name: str(key) for name, key in spec.get("keys", {}).items()}
    if any(len(key) != 1 or key not in "0123456789*#" for key in keys.values()) \
            or len(set(keys.values())) != len(keys):
        raise CatalogueError("queue.keys must be distinct single keys (0-9, * or #)")
    missed = spec.get("missed_offer_status") or None
    if missed not in (None, "break", "offline"):
        raise CatalogueError('queue.missed_offer_status must be "break", "offline" or ""')
    return QueueRules(
        max_size=seconds("max_size", 0), max_wait=timedelta(seconds=seconds("max_wait_seconds", 1)),
        announce_seconds=seconds("announce_seconds", 5), hold_music_url=str(spec.get("hold_music_url", "")),
        widen_after=timedelta(seconds=seconds("widen_after_seconds")),
        other_office_after=timedelta(seconds=seconds("other_office_after_seconds")),
        offer_languages_after=timedelta(seconds=seconds("offer_languages_after_seconds")),
        other_languages=others, missed_offer_status=missed,
        urgent_topics=frozenset(spec.get("urgent_topics", ())), keys=keys,
        estimate_min_answers=seconds("estimate_min_answers", 1),
    )


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _packaged(name: str) -> dict:
    return tomllib.loads(resources.files("hotline").joinpath(name).read_text(encoding="utf-8"))


def load_raw(path: str | None = None) -> dict:
    """The packaged defaults with the file at `path` (if any) merged over them."""
    raw = _packaged("default_config.toml")
    raw["prompts"] = _packaged("prompts.toml")
    if path:
        with open(path, "rb") as fh:
            override = tomllib.load(fh)
        # A deployment that names an office we do not ship has its own offices: exactly those, not
        # ours as well. Naming only offices we ship changes just what it sets (say, one day's hours).
        if set(override.get("offices", {})) - set(raw["offices"]):
            raw["offices"] = {}
        raw = _merge(raw, override)
    return raw


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


def check_prompts(raw: dict) -> None:
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


def _parse_span(where: str, span: Any) -> tuple[str, str]:
    match = _SPAN.match(span) if isinstance(span, str) else None
    start, _, end = span.partition("-") if match else ("", "", "")
    if not match or start >= end:
        raise CatalogueError(f"bad opening hours {span!r} in {where}: use a list of \"HH:MM-HH:MM\" "
                             f"spans, start before end (\"00:00-24:00\" for the whole day)")
    return start, end


def _parse_hours(office: str, spec: Any) -> dict[str, tuple[tuple[str, str], ...]]:
    where = f"offices.{office}.hours"
    unknown = sorted(set(spec) - set(WEEKDAY_KEYS)) if isinstance(spec, dict) else ["(not a table)"]
    if unknown:
        raise CatalogueError(f"bad day {', '.join(unknown)} in {where}: use {', '.join(WEEKDAY_KEYS)}")
    hours = {}
    for day in WEEKDAY_KEYS:
        spans = spec.get(day, [])
        if not isinstance(spans, list):
            raise CatalogueError(f"bad opening hours {spans!r} in {where}.{day}: "
                                 f"use a list, e.g. [\"09:00-17:00\"]")
        hours[day] = tuple(sorted(_parse_span(f"{where}.{day}", span) for span in spans))
    return hours


def _parse_office(code: str, spec: dict) -> Office:
    timezone = spec.get("timezone", "Europe/Sofia")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise CatalogueError(f"unknown time zone {timezone!r} in offices.{code}: "
                             f"use one like \"Europe/Sofia\"") from None
    country = spec.get("holidays") or None  # "" switches a shipped office's holidays off
    if country is not None and country not in holiday_calendars.list_supported_countries():
        raise CatalogueError(f"unknown holiday calendar {country!r} in offices.{code}: "
                             f"use a country code like \"BG\"")
    return Office(code, spec.get("name", code), tuple(spec.get("numbers", [])), timezone, country,
                  _parse_hours(code, spec.get("hours", {})))


class Catalogue:
    """Read-only view of the configuration, with the lookups the call flow needs."""

    def __init__(self, raw: dict[str, Any]):
        self.raw = raw
        self.languages = [
            Language(code, str(v["digit"]), v.get("voice", ""), v.get("tts", ""), v.get("speech", ""),
                     v.get("fallback"))
            for code, v in raw["languages"].items()
        ]
        self.topics = [Topic(code, str(v["digit"])) for code, v in raw["topics"].items()]
        self.offices = [_parse_office(code, v) for code, v in raw["offices"].items()]
        if not self.offices:
            raise CatalogueError("configure at least one office")
        # When consultants of a language are usually on duty ([languages.<code>.on_duty], weekly
        # hours like an office's): told to a caller whose language has nobody on duty right now.
        first = self.offices[0]
        self.duty_hours = {
            code: _parse_office(f"{code}-on-duty", {"timezone": first.timezone,
                                                    "holidays": first.holidays or "",
                                                    "hours": spec["on_duty"]})
            for code, spec in raw["languages"].items() if spec.get("on_duty")
        }
        self.queue = _parse_queue(raw.get("queue", {}), {lang.code for lang in self.languages},
                                  {topic.code for topic in self.topics})
        try:
            self.wrap_up: WrapUpLists = parse_wrap_up(raw.get("wrap_up", {}), {t.code for t in self.topics})
        except WrapUpConfigError as error:
            raise CatalogueError(str(error)) from None
        check_prompts(raw)

    def __getattr__(self, name: str) -> Any:
        # Scalar settings (default_language, menu_retries, ...) read straight from the file.
        try:
            return self.raw[name]
        except KeyError:
            raise AttributeError(name) from None

    def language(self, code: str | None) -> Language | None:
        return next((lang for lang in self.languages if lang.code == code), None)

    def topic(self, code: str | None) -> Topic | None:
        return next((topic for topic in self.topics if topic.code == code), None)

    def office(self, code: str | None) -> Office | None:
        return next((office for office in self.offices if office.code == code), None)

    def office_for_number(self, number: str | None) -> Office:
        """The office whose hotline number was dialled; the first office for any other number."""
        return next((o for o in self.offices if number and number in o.numbers), self.offices[0])

    def prompt(self, lang: str, key: str, **fields: Any) -> str:
        """The prompt `key` in `lang`, with its {fields} filled in, its digits in the language's own."""
        table = self.raw["prompts"][lang]
        text = table[key].format(**fields) if fields else table[key]
        return spoken.localise_digits(table, text)

    def minutes(self, lang: str, count: int) -> str:
        """`count` minutes in `lang`, in its CLDR plural form ("5 минут"): see hotline.voice.spoken."""
        return spoken.minutes(lang, self.raw["prompts"][lang], count)

    def clock_time(self, lang: str, at: time) -> str:
        """A time of day as said in `lang` ("9 часа", "الساعة التاسعة صباحاً"): see hotline.voice.spoken."""
        return spoken.clock_time(lang, self.raw["prompts"][lang], at)

    def weekday(self, lang: str, day: date) -> str:
        """The weekday of `day` with its preposition in `lang` ("во вторник")."""
        return spoken.weekday(self.raw["prompts"][lang], day)

    def other_languages(self, lang: str, caller_language: str) -> str:
        """The queue's other languages but the caller's own, as said in `lang` after "if you can
        also speak": "English or Bulgarian", or only "Bulgarian" to an English caller."""
        codes = [code for code in self.queue.other_languages if code != caller_language]
        return spoken.language_list(lang, self.raw["prompts"][lang], codes)

    def term(self, lang: str, table: str, code: str) -> str:
        """A name from a prompt table: term("en", "topics", "health") -> "health"."""
        return self.raw["prompts"][lang][table][code]

    def words(self, lang: str, key: str) -> list[str]:
        return list(self.raw["prompts"][lang][key])


def load_catalogue(path: str | None = None) -> Catalogue:
    return Catalogue(load_raw(path))
