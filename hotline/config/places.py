"""Where and in what callers are served: the [offices], [languages] and [topics] tables, and the
weekly hours of an office or of a language's consultants on duty."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holiday_calendars

from hotline.config import CatalogueError

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
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


def parse_languages(spec: dict[str, Any]) -> list[Language]:
    """The [languages] table (code -> its table), in menu order."""
    return [Language(code, str(v["digit"]), v.get("voice", ""), v.get("tts", ""), v.get("speech", ""),
                     v.get("fallback"))
            for code, v in spec.items()]


def parse_topics(spec: dict[str, Any]) -> list[Topic]:
    """The [topics] table (code -> its table), in menu order."""
    return [Topic(code, str(v["digit"])) for code, v in spec.items()]


def parse_offices(spec: dict[str, Any]) -> list[Office]:
    """The [offices] table (code -> its table), in its order; CatalogueError if it names none or
    an office's time zone, holiday calendar or hours are wrong."""
    offices = [parse_office(code, v) for code, v in spec.items()]
    if not offices:
        raise CatalogueError("configure at least one office")
    return offices


def duty_hours(languages: dict[str, Any], first: Office) -> dict[str, Office]:
    """When consultants of a language are usually on duty ([languages.<code>.on_duty], weekly
    hours like an office's, in the first office's time zone and holidays): language code -> those
    hours, for the languages that set them. Told to a caller whose language has nobody on duty."""
    return {
        code: parse_office(f"{code}-on-duty", {"timezone": first.timezone, "holidays": first.holidays or "",
                                               "hours": spec["on_duty"]})
        for code, spec in languages.items() if spec.get("on_duty")
    }


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


def parse_office(code: str, spec: dict[str, Any]) -> Office:
    """The office `code` from its table; CatalogueError names a bad time zone, holiday calendar
    (a country code of the `holidays` package; "" for none) or opening hours."""
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
