"""The hotline's configuration: offices, hours, languages, topics and the prompt catalogue.

The defaults ship in the package (default_config.toml, prompts.toml); a deployment's HOTLINE_CONFIG
file is merged over them table by table.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


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
        # A deployment that lists its own offices means exactly those, not ours as well.
        if "offices" in override:
            raw["offices"] = {}
        raw = _merge(raw, override)
    return raw


def _parse_hours(spec: dict[str, list[str]]) -> dict[str, tuple[tuple[str, str], ...]]:
    hours = {}
    for day in WEEKDAY_KEYS:
        spans = []
        for span in spec.get(day, []):
            start, _, end = span.partition("-")
            if len(start) != 5 or len(end) != 5 or start >= end:
                raise CatalogueError(f"bad opening hours {span!r} on {day}: use HH:MM-HH:MM")
            spans.append((start, end))
        hours[day] = tuple(sorted(spans))
    return hours


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
        self.offices = [
            Office(code, v.get("name", code), tuple(v.get("numbers", [])), v.get("timezone", "Europe/Sofia"),
                   v.get("holidays"), _parse_hours(v.get("hours", {})))
            for code, v in raw["offices"].items()
        ]
        if not self.offices:
            raise CatalogueError("configure at least one office")

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
        """The prompt `key` in `lang`, with its {fields} filled in."""
        text = self.raw["prompts"][lang][key]
        return text.format(**fields) if fields else text

    def term(self, lang: str, table: str, code: str) -> str:
        """A name from a prompt table: term("en", "topics", "health") -> "health"."""
        return self.raw["prompts"][lang][table][code]

    def words(self, lang: str, key: str) -> list[str]:
        return list(self.raw["prompts"][lang][key])


def load_catalogue(path: str | None = None) -> Catalogue:
    return Catalogue(load_raw(path))
