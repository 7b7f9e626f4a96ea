"""Values spoken inside prompts: counts of minutes, times of day, weekdays and lists of languages,
worded as a person says them in each language.

The words come from the language's prompt table (hotline/prompts.toml); which forms a language
needs, and which form a value takes, come from CLDR through Babel:
- counts follow CLDR's plural rules (babel.plural, via Locale.plural_form): the table
  `minute_count` has one phrase per plural category the language's integers fall into, e.g. ru
  one "21 минута", few "2 минуты", many "5 минут"; ar zero/one/two/few/many/other;
- times follow CLDR's day periods (babel.dates.get_period_id): `day_periods` names either the AM/PM
  periods ("am", "pm") or the flexible ones ("morning1", "afternoon2"...) of the language;
- lists follow CLDR's list patterns (babel.lists.format_list, style "or"): "English or Bulgarian".

Every function here is pure: it takes the language's prompt table as a dict, so the catalogue can
check every language with sample values before the service starts (see sample_fields).
"""
from __future__ import annotations

from datetime import date, time
from functools import lru_cache

from babel import Locale
from babel.dates import get_period_id
from babel.lists import format_list

# Plural tables: each needs one phrase per CLDR plural category of the language.
COUNT_TABLES = ("minute_count", "hour_count")
# The integers whose categories a language's counts can take (CLDR categories of whole numbers
# repeat well before 1000: the Arabic "many" starts at 11, "other" at 100).
_COUNTS_SEEN = range(0, 1000)
ASCII_DIGITS = "0123456789"


@lru_cache(maxsize=None)
def plural_categories(lang: str) -> dict[str, int]:
    """The CLDR plural categories whole numbers take in `lang`, each with its smallest example:
    {"one": 1, "few": 2, "many": 0} for "ru". Rules from CLDR's plurals.xml, read by Babel."""
    rule = Locale.parse(lang).plural_form
    examples: dict[str, int] = {}
    for count in _COUNTS_SEEN:
        examples.setdefault(rule(count), count)
    return examples


def count_phrase(lang: str, table: dict, name: str, count: int) -> str:
    """`count` with its noun in the plural form CLDR gives it in `lang`: count_phrase("ru",
    prompts_ru, "minute_count", 21) -> "21 минута". KeyError if the table lacks the form."""
    category = Locale.parse(lang).plural_form(count)
    return table[name][category].format(count=count)


def minutes(lang: str, table: dict, count: int) -> str:
    """A number of minutes as spoken in `lang` ("5 минут", "دقيقتان")."""
    return count_phrase(lang, table, "minute_count", count)


def hours(lang: str, table: dict, count: int) -> str:
    """A number of hours as spoken in `lang` ("9 часов", "21 час"): Russian names a time so."""
    return count_phrase(lang, table, "hour_count", count)


def _period(lang: str, table: dict, at: time) -> str:
    periods = table["day_periods"]
    if {"am", "pm"} <= set(periods):
        # CLDR's fixed periods: its "noon" and "midnight" at those very times, if the language has
        # them, else AM before twelve and PM from twelve on.
        fixed = get_period_id(at, locale=lang)
        return periods[fixed if fixed in ("noon", "midnight") else "am" if at.hour < 12 else "pm"]
    # Otherwise CLDR's flexible day periods (Arabic "صباحاً" in the morning, "مساءً" at evening).
    return periods[get_period_id(at, type="selection", locale=lang)]


def clock_time(lang: str, table: dict, at: time) -> str:
    """A time of day as a person says it in `lang`: "9 часа", "13 и 30 часа", "الساعة التاسعة
    صباحاً", "1:30 p.m.", never "09:00". The table's `time` (a whole hour) or `time_minutes`
    template is filled with hour (0-23), hour12 (1-12), minute (0-59), hours and minutes (the
    hour_count and minute_count phrases), hour_word (the table's `hour_words`[hour], for languages
    that say hours as words) and period (the day period from `day_periods`). KeyError or
    IndexError if the table lacks a word."""
    fields: dict[str, object] = {"hour": at.hour, "hour12": at.hour % 12 or 12, "minute": at.minute}
    template = table["time_minutes"] if at.minute else table["time"]
    if "{hours" in template:
        fields["hours"] = hours(lang, table, at.hour)
    if "{minutes" in template:
        fields["minutes"] = minutes(lang, table, at.minute)
    if "{hour_word" in template:
        fields["hour_word"] = table["hour_words"][at.hour]
    if "{period" in template:
        fields["period"] = _period(lang, table, at)
    return template.format(**fields)


def weekday(table: dict, day: date) -> str:
    """The day's weekday as it follows "we open" in the language, with its preposition where the
    language needs one ("во вторник", "on Tuesday", "يوم الثلاثاء")."""
    return table["weekdays"][day.weekday()]


def language_list(lang: str, table: dict, codes: list[str]) -> str:
    """Languages one can speak, as "English or Bulgarian" in `lang` (CLDR's "or" list pattern),
    each in the table's `spoken_in` form ("по-английски или по-болгарски"). "" for no codes."""
    return format_list([table["spoken_in"][code] for code in codes], style="or", locale=lang) \
        if codes else ""


def localise_digits(table: dict, text: str) -> str:
    """`text` with ASCII digits written in the language's own digits (the table's `digits`, ten
    characters for 0-9, e.g. Persian "۰۱۲۳۴۵۶۷۸۹"), so a language has one style of digits."""
    digits = table.get("digits")
    return text.translate(str.maketrans(ASCII_DIGITS, digits)) if digits else text
