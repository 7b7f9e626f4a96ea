"""The hotline's configuration: offices, hours, languages, topics, the queue's and callbacks' rules,
the wrap-up lists and the prompt catalogue, as one read-only Catalogue of typed sections.

The defaults ship in the package (default_config.toml, prompts.toml); a deployment's HOTLINE_CONFIG
file is merged over them table by table. Each table's dataclass, and the checks that refuse a bad
value, live in hotline.config (one module per table).
"""
from __future__ import annotations

import tomllib
from datetime import date, time
from typing import Any

from hotline.config import CatalogueError, packaged
from hotline.config.board import BoardRules
from hotline.config.board import parse as parse_board
from hotline.config.callbacks import CallbackRules
from hotline.config.callbacks import parse as parse_callbacks
from hotline.config.general import General, parse_general
from hotline.config.places import (
    WEEKDAY_KEYS,
    Language,
    Office,
    Topic,
    duty_hours,
    parse_languages,
    parse_offices,
    parse_topics,
)
from hotline.config.prompts import check_prompts
from hotline.config.queue import QueueRules, parse_queue
from hotline.config.wrap_up import WrapUpLists, parse_wrap_up
from hotline.phone_numbers import normalise
from hotline.voice import spoken

# What other modules import from here (the catalogue is the configuration's public face).
__all__ = ["WEEKDAY_KEYS", "Catalogue", "CatalogueError", "Language", "Office", "Topic", "load_catalogue",
           "load_raw"]


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def load_raw(path: str | None = None) -> dict:
    """The packaged defaults with the file at `path` (if any) merged over them."""
    raw = packaged("default_config.toml")
    raw["prompts"] = packaged("prompts.toml")
    if path:
        with open(path, "rb") as fh:
            override = tomllib.load(fh)
        # A deployment that names an office we do not ship has its own offices: exactly those, not
        # ours as well. Naming only offices we ship changes just what it sets (say, one day's hours).
        if set(override.get("offices", {})) - set(raw["offices"]):
            raw["offices"] = {}
        raw = _merge(raw, override)
    return raw


class Catalogue(General):
    """Read-only view of the configuration, with the lookups the call flow needs.

    The top-level settings are its own attributes (the fields of hotline.config.general.General:
    catalogue.dial_timeout, catalogue.retention_days...); each table is a typed attribute below.
    Areas read these, never `raw`.
    """

    raw: dict[str, Any]  # the merged TOML as read: for the checks at load and for tests
    prompts: dict[str, dict[str, Any]]  # language code -> its prompt table (prompts.toml), checked
    languages: list[Language]  # [languages], in menu order
    topics: list[Topic]  # [topics], in menu order
    offices: list[Office]  # [offices]; the first serves numbers no office lists
    office_numbers: dict[str, str | None]  # each office number as configured -> its E.164 form
    duty_hours: dict[str, Office]  # language code -> when its consultants are usually on duty
    queue: QueueRules  # [queue]
    wrap_up: WrapUpLists  # [wrap_up]
    callbacks: CallbackRules  # [callbacks]
    board: BoardRules  # [board]

    def __init__(self, raw: dict[str, Any]):
        """Parse and check `raw` (load_raw's merged TOML); CatalogueError names what is wrong."""
        self.raw = raw
        self.prompts = raw["prompts"]
        self.languages = parse_languages(raw["languages"])
        self.topics = parse_topics(raw["topics"])
        self.offices = parse_offices(raw["offices"])
        self.office_numbers = {number: normalise(number)
                               for office in self.offices for number in office.numbers}
        self.duty_hours = duty_hours(raw["languages"], self.offices[0])
        language_codes, topic_codes = {lang.code for lang in self.languages}, {t.code for t in self.topics}
        self.queue = parse_queue(raw.get("queue", {}), language_codes, topic_codes)
        self.wrap_up = parse_wrap_up(raw.get("wrap_up", {}), topic_codes)
        check_prompts(raw)
        self.callbacks = parse_callbacks(raw.get("callbacks", {}))
        self.board = parse_board(raw.get("board", {}))
        general = parse_general(raw, language_codes, topic_codes)
        super().__init__(**vars(general))

    def language(self, code: str | None) -> Language | None:
        return next((lang for lang in self.languages if lang.code == code), None)

    def topic(self, code: str | None) -> Topic | None:
        return next((topic for topic in self.topics if topic.code == code), None)

    def office(self, code: str | None) -> Office | None:
        return next((office for office in self.offices if office.code == code), None)

    def dialled_number(self, raw: str | None) -> str | None:
        """The number a caller dialled (Twilio's To, as sent) in E.164, as hotline.phone_numbers.normalise
        gives it; the hotline's own numbers are known from the configuration without parsing them
        again on every call (parsing one costs about 80 Python calls), and no caller's number is kept."""
        return self.office_numbers[raw] if raw in self.office_numbers else normalise(raw)

    def office_for_number(self, number: str | None) -> Office:
        """The office whose hotline number was dialled; the first office for any other number."""
        return next((o for o in self.offices if number and number in o.numbers), self.offices[0])

    def prompt(self, lang: str, key: str, **fields: Any) -> str:
        """The prompt `key` in `lang`, with its {fields} filled in, its digits in the language's own."""
        table = self.prompts[lang]
        text = table[key].format(**fields) if fields else table[key]
        return spoken.localise_digits(table, text)

    def minutes(self, lang: str, count: int) -> str:
        """`count` minutes in `lang`, in its CLDR plural form ("5 минут"): see hotline.voice.spoken."""
        return spoken.minutes(lang, self.prompts[lang], count)

    def clock_time(self, lang: str, at: time) -> str:
        """A time of day as said in `lang` ("9 часа", "الساعة التاسعة صباحاً"): see hotline.voice.spoken."""
        return spoken.clock_time(lang, self.prompts[lang], at)

    def weekday(self, lang: str, day: date) -> str:
        """The weekday of `day` with its preposition in `lang` ("во вторник")."""
        return spoken.weekday(self.prompts[lang], day)

    def other_languages(self, lang: str, caller_language: str) -> str:
        """The queue's other languages but the caller's own, as said in `lang` after "if you can
        also speak": "English or Bulgarian", or only "Bulgarian" to an English caller."""
        codes = [code for code in self.queue.other_languages if code != caller_language]
        return spoken.language_list(lang, self.prompts[lang], codes)

    def term(self, lang: str, table: str, code: str) -> str:
        """A name from a prompt table: term("en", "topics", "health") -> "health"."""
        return self.prompts[lang][table][code]

    def words(self, lang: str, key: str) -> list[str]:
        return list(self.prompts[lang][key])


def load_catalogue(path: str | None = None) -> Catalogue:
    """The Catalogue of the packaged defaults with the TOML file at `path` (if any) merged over
    them; CatalogueError names what is wrong, OSError or tomllib.TOMLDecodeError if unreadable."""
    return Catalogue(load_raw(path))
