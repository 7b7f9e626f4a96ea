"""Numbers, times and days as a person says them in each language (hotline.voice.spoken), and the
catalogue check that fills every prompt with sample values (hotline.voice.prompt_samples)."""
from __future__ import annotations

import copy
import string
from datetime import date, time, timedelta

import pytest
from babel.units import format_unit

from hotline.catalogue import Catalogue, CatalogueError, load_catalogue, load_raw
from hotline.voice import spoken
from hotline.voice.prompt_samples import sample_problems

PACKAGED = load_raw()
CATALOGUE = load_catalogue()
TUESDAY = date(2026, 12, 1)


# --- plural forms, from CLDR's rules ----------------------------------------------------------

@pytest.mark.parametrize("lang, expected", [
    ("ru", {1: "1 минута", 2: "2 минуты", 4: "4 минуты", 5: "5 минут", 11: "11 минут", 12: "12 минут",
            21: "21 минута", 22: "22 минуты", 25: "25 минут", 101: "101 минута", 111: "111 минут"}),
    ("uk", {1: "1 хвилина", 2: "2 хвилини", 5: "5 хвилин", 14: "14 хвилин", 21: "21 хвилина",
            23: "23 хвилини", 30: "30 хвилин"}),
    ("ar", {1: "دقيقة واحدة", 2: "دقيقتان", 3: "3 دقائق", 10: "10 دقائق", 11: "11 دقيقة", 99: "99 دقيقة",
            100: "100 دقيقة", 103: "103 دقائق"}),
    ("bg", {1: "1 минута", 2: "2 минути", 21: "21 минути"}),
    ("en", {1: "1 minute", 2: "2 minutes", 21: "21 minutes"}),
    ("tr", {1: "1 dakika", 5: "5 dakika"}),
    ("fa", {1: "1 دقیقه", 5: "5 دقیقه"}),
])
def test_minutes_take_the_plural_form_of_their_number(lang, expected):
    assert {count: CATALOGUE.minutes(lang, count) for count in expected} == expected


def test_the_forms_a_language_needs_are_cldrs_plural_categories():
    assert set(spoken.plural_categories("ru")) == {"one", "few", "many"}
    assert set(spoken.plural_categories("uk")) == {"one", "few", "many"}
    assert set(spoken.plural_categories("ar")) == {"zero", "one", "two", "few", "many", "other"}
    assert set(spoken.plural_categories("en")) == {"one", "other"}
    for lang, table in PACKAGED["prompts"].items():
        for name in spoken.COUNT_TABLES:
            assert set(table[name]) == set(spoken.plural_categories(lang)), (lang, name)


@pytest.mark.parametrize("lang", ["ru", "uk", "bg", "en"])
def test_catalogue_counts_agree_with_cldrs_unit_patterns(lang):
    for count in range(1, 130):
        assert CATALOGUE.minutes(lang, count) == format_unit(count, "duration-minute", locale=lang,
                                                             length="long")
        assert spoken.hours(lang, PACKAGED["prompts"][lang], count) == format_unit(
            count, "duration-hour", locale=lang, length="long")


# --- times of day ------------------------------------------------------------------------------

@pytest.mark.parametrize("lang, nine, half_past_one, five", [
    ("bg", "9 часа", "13 и 30 часа", "17 часа"),
    ("en", "9 AM", "1:30 PM", "5 PM"),
    ("ru", "9 часов", "13 часов 30 минут", "17 часов"),
    ("uk", "дев'ятій", "тринадцятій 30", "сімнадцятій"),
    ("ar", "الساعة التاسعة صباحاً", "الساعة الواحدة و30 دقيقة بعد الظهر", "الساعة الخامسة بعد الظهر"),
    ("fa", "ساعت 9 صبح", "ساعت 1 و 30 دقیقه بعدازظهر", "ساعت 5 بعدازظهر"),
    ("tr", "9", "13.30", "17"),
])
def test_times_are_worded_without_a_leading_zero_or_zero_minutes(lang, nine, half_past_one, five):
    assert [CATALOGUE.clock_time(lang, at) for at in (time(9), time(13, 30), time(17))] == \
        [nine, half_past_one, five]


def test_times_in_full_sentences():
    opens = {lang: CATALOGUE.prompt(lang, "opens_on", weekday=CATALOGUE.weekday(lang, TUESDAY),
                                    time=CATALOGUE.clock_time(lang, time(9)))
             for lang in ("bg", "en", "ru", "ar", "fa", "tr", "uk")}
    assert opens == {"bg": "във вторник в 9 часа", "en": "on Tuesday at 9 AM",
                     "ru": "во вторник в 9 часов", "ar": "يوم الثلاثاء الساعة التاسعة صباحاً",
                     "fa": "سه‌شنبه ساعت ۹ صبح", "tr": "salı saat 9", "uk": "у вівторок о дев'ятій"}
    assert CATALOGUE.prompt("en", "all_busy", time=CATALOGUE.clock_time("en", time(17, 30))).endswith(
        "Today we are open until 5:30 PM.")


def test_english_noon_and_midnight_and_arabic_day_periods():
    assert CATALOGUE.clock_time("en", time(12)) == "12 noon"
    assert CATALOGUE.clock_time("en", time(12, 30)) == "12:30 PM"
    assert CATALOGUE.clock_time("en", time(0)) == "12 midnight"
    assert CATALOGUE.clock_time("ar", time(12)) == "الساعة الثانية عشرة ظهراً"
    assert CATALOGUE.clock_time("ar", time(20)) == "الساعة الثامنة مساءً"
    assert CATALOGUE.clock_time("ar", time(9, 5)) == "الساعة التاسعة و5 دقائق صباحاً"


def test_russian_weekdays_take_their_preposition():
    days = [CATALOGUE.weekday("ru", date(2026, 11, 30) + timedelta(days=n)) for n in range(7)]
    assert days == ["в понедельник", "во вторник", "в среду", "в четверг", "в пятницу", "в субботу",
                    "в воскресенье"]
    window = CATALOGUE.prompt("ru", "window_on_morning", weekday=CATALOGUE.weekday("ru", TUESDAY))
    assert window == "во вторник в первой половине дня"


def _after_field(text: str, names: set[str]) -> list[str]:
    """What follows each of `names` in a template: its next literal text."""
    parts = list(string.Formatter().parse(text))
    return [parts[i + 1][0] if i + 1 < len(parts) else "" for i, (_, name, _, _) in enumerate(parts)
            if name in names]


def test_turkish_puts_no_suffix_after_a_spoken_time():
    """A Turkish suffix follows the sound of the spoken number ("dokuzda", "on yediye"): no prompt
    lets one follow a time, so none can be wrong."""
    tr = PACKAGED["prompts"]["tr"]
    for key, text in tr.items():
        if isinstance(text, str):
            for following in _after_field(text, {"time", "when"}):
                assert following == "" or following[0] in ".,;: ", (key, text)
    assert CATALOGUE.prompt("tr", "closed", when=CATALOGUE.prompt(
        "tr", "opens_tomorrow", time=CATALOGUE.clock_time("tr", time(9)))) == \
        "Merkez şu anda kapalı. Açılış saatimiz: yarın saat 9."


# --- one style of digits, one form of tanween ---------------------------------------------------

def test_farsi_fields_are_filled_with_persian_digits():
    assert CATALOGUE.prompt("fa", "queue_position", position=12) == "شماره شما در صف انتظار: ۱۲."
    assert "۱" in CATALOGUE.prompt("fa", "whisper", language="x", topic="y")
    assert CATALOGUE.prompt("en", "queue_position", position=12) == "You are number 12 in the queue."


def test_a_prompt_mixing_digit_styles_is_reported():
    raw = copy.deepcopy(PACKAGED)
    raw["prompts"]["fa"]["whisper"] = raw["prompts"]["fa"]["whisper"].replace("۱", "1")
    raw["prompts"]["en"]["goodbye"] = "Goodbye. ٢"
    problems = sample_problems(raw)
    assert "fa.whisper: digits other than the language's own" in problems
    assert "en.goodbye: digits other than the language's own" in problems


def test_arabic_writes_tanween_one_way():
    arabic = [text for text in PACKAGED["prompts"]["ar"].values() if isinstance(text, str)]
    assert not any("\u064b\u0627" in text for text in arabic)  # fathatan before the alef
    assert sum("\u0627\u064b" in text for text in arabic) > 20


# --- the sample-values check --------------------------------------------------------------------

def test_packaged_catalogue_fills_every_prompt_with_every_sample():
    assert sample_problems(PACKAGED) == []


def test_a_missing_plural_form_fails_the_catalogue():
    raw = copy.deepcopy(PACKAGED)
    del raw["prompts"]["ru"]["minute_count"]["few"]
    del raw["prompts"]["ar"]["minute_count"]["two"]
    with pytest.raises(CatalogueError) as raised:
        Catalogue(raw)
    assert "ru.minute_count lacks the CLDR plural forms few" in str(raised.value)
    assert "ar.minute_count lacks the CLDR plural forms two" in str(raised.value)


@pytest.mark.parametrize("lang, key, value, expected", [
    ("uk", "hour_words", ["першій"] * 12, "uk.hour_words (24 words)"),
    ("ar", "day_periods", {"morning2": "صباحاً"}, "ar: cannot word a sample value"),
    ("en", "time_minutes", "{hour12}:{minute:02d} {perod}", "en: cannot word a sample value"),
    ("bg", "queue_wait", "Около {minutes:d}.", "bg.queue_wait with minutes="),
    ("fa", "digits", "۰۱۲", "fa.digits (ten characters, 0 to 9)"),
])
def test_a_broken_template_or_missing_word_fails_the_catalogue(lang, key, value, expected):
    raw = copy.deepcopy(PACKAGED)
    raw["prompts"][lang][key] = value
    with pytest.raises(CatalogueError, match="prompt catalogue incomplete") as raised:
        Catalogue(raw)
    assert expected in str(raised.value)


def test_a_prompt_with_a_field_no_sample_covers_is_reported():
    raw = copy.deepcopy(PACKAGED)
    for table in raw["prompts"].values():
        table["goodbye"] = table["goodbye"] + " {mood}"
    assert "en.goodbye: no sample values for {mood}" in sample_problems(raw)

