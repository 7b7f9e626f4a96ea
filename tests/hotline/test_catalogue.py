"""The prompt catalogue is complete in every language, and HOTLINE_CONFIG merges over the defaults."""
from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from hotline import hours
from hotline.app import create_app
from hotline.catalogue import CatalogueError, load_catalogue, load_raw
from hotline.config.prompts import (
    OPTIONAL_KEYS,
    OPTIONAL_TABLES,
    TERM_TABLES,
    WORD_LISTS,
    mismatched_fields,
    missing_prompts,
    prompt_fields,
)
from hotline.voice.prompt_samples import PIECES

PACKAGED = load_raw()
LANGUAGES = sorted(PACKAGED["languages"])
PROMPT_KEYS = sorted(set().union(*PACKAGED["prompts"].values()) - set(OPTIONAL_TABLES) - OPTIONAL_KEYS)
TEXT_KEYS = [key for key in PROMPT_KEYS
             if isinstance(PACKAGED["prompts"]["en"].get(key), str) and key not in PIECES]


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "deployment.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


# --- the packaged catalogue -------------------------------------------------------------------

def test_every_configured_language_has_a_prompt_table():
    assert LANGUAGES == sorted(PACKAGED["prompts"]) == ["ar", "bg", "en", "fa", "ru", "tr", "uk"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_prompt_key_exists_in_every_language(lang):
    assert sorted(set(PACKAGED["prompts"][lang]) - set(OPTIONAL_TABLES) - OPTIONAL_KEYS) == PROMPT_KEYS


@pytest.mark.parametrize("lang", LANGUAGES)
def test_term_tables_name_every_language_and_topic(lang):
    table = PACKAGED["prompts"][lang]
    assert sorted(table["languages"]) == LANGUAGES
    assert sorted(table["topics"]) == sorted(PACKAGED["topics"])
    for name in TERM_TABLES:
        assert all(isinstance(term, str) and term.strip() for term in table[name].values())


@pytest.mark.parametrize("lang", LANGUAGES)
def test_word_lists_have_ten_numbers_and_seven_weekdays(lang):
    table = PACKAGED["prompts"][lang]
    assert len(table["numbers"]) == 10 and len(table["weekdays"]) == 7
    assert len(set(table["numbers"])) == 10 and len(set(table["weekdays"])) == 7
    assert WORD_LISTS == {"numbers": 10, "weekdays": 7}


@pytest.mark.parametrize("key", TEXT_KEYS)
def test_placeholders_of_a_prompt_are_the_same_in_every_language(key):
    fields = {lang: prompt_fields(PACKAGED["prompts"][lang][key]) for lang in LANGUAGES}
    assert len(set(map(frozenset, fields.values()))) == 1, fields


def test_the_placeholders_the_code_fills_in():
    en = PACKAGED["prompts"]["en"]
    assert prompt_fields(en["language_option"]) == {"language", "digit"}
    assert prompt_fields(en["whisper"]) == {"language", "topic"}
    assert prompt_fields(en["opens_on"]) == {"weekday", "time"}
    assert prompt_fields(en["welcome"]) == set()


def test_packaged_catalogue_passes_its_own_checks():
    assert missing_prompts(PACKAGED) == []
    assert mismatched_fields(PACKAGED) == []


# --- the completeness check finds what is missing --------------------------------------------

def test_missing_prompt_is_reported():
    raw = copy.deepcopy(PACKAGED)
    del raw["prompts"]["fa"]["whisper"]
    assert missing_prompts(raw) == ["fa.whisper"]


def test_missing_language_table_term_and_short_word_list_are_reported():
    raw = copy.deepcopy(PACKAGED)
    del raw["prompts"]["tr"]
    del raw["prompts"]["uk"]["topics"]["health"]
    del raw["prompts"]["ru"]["languages"]["fa"]
    raw["prompts"]["bg"]["weekdays"] = raw["prompts"]["bg"]["weekdays"][:6]
    raw["prompts"]["en"]["numbers"] = "zero one two"
    assert sorted(missing_prompts(raw)) == sorted([
        "tr (no [prompts.tr] table)", "uk.topics.health", "ru.languages.fa",
        "bg.weekdays (7 words)", "en.numbers (10 words)",
    ])


def test_a_key_only_one_language_has_is_missing_in_all_others():
    raw = copy.deepcopy(PACKAGED)
    raw["prompts"]["en"]["holiday_greeting"] = "Happy holidays."
    expected = [f"{lang}.holiday_greeting" for lang in LANGUAGES if lang != "en"]
    assert sorted(missing_prompts(raw)) == expected


def test_a_configured_topic_needs_a_name_in_every_language():
    raw = copy.deepcopy(PACKAGED)
    raw["topics"]["family"] = {"digit": "7"}
    raw["prompts"]["en"]["topics"]["family"] = "family reunification"
    assert sorted(missing_prompts(raw)) == [f"{lang}.topics.family" for lang in LANGUAGES if lang != "en"]


def test_mismatched_and_malformed_placeholders_are_reported():
    raw = copy.deepcopy(PACKAGED)
    raw["prompts"]["ru"]["closed"] = "Сейчас центр закрыт. Мы открываемся {wen}."
    raw["prompts"]["uk"]["goodbye"] = "До побачення {"
    problems = mismatched_fields(raw)
    assert len(problems) == 2
    closed = next(p for p in problems if p.startswith("closed: fields differ"))
    assert "ru {wen}" in closed and "en {when}" in closed
    assert any(p.startswith("uk.goodbye:") for p in problems)


def test_app_refuses_to_start_when_the_deployment_leaves_a_prompt_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("HOTLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    # A deployment adding a language must give every prompt in it.
    config = _write(tmp_path, '[languages.de]\ndigit = "8"\nvoice = "Google.de-DE-Standard-A"\n'
                              'tts = "de-DE"\nspeech = "de-DE"\n[prompts.de]\nwelcome = "Willkommen."\n')
    with pytest.raises(CatalogueError, match=r"de\.goodbye") as raised:
        create_app({"HOTLINE_CONFIG": config, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                    "REDIS_URL": ""})
    assert "de.languages.bg" in str(raised.value) and "en.languages.de" in str(raised.value)


def test_catalogue_refuses_an_override_with_a_wrong_placeholder(tmp_path):
    config = _write(tmp_path, '[prompts.en]\nall_busy = "All busy. Open until {hour}."\n')
    with pytest.raises(CatalogueError, match=r"all_busy: fields differ"):
        load_catalogue(config)


# --- HOTLINE_CONFIG merging -------------------------------------------------------------------

def test_override_of_one_prompt_and_one_office_day_keeps_everything_else(tmp_path):
    config = _write(tmp_path, '[prompts.en]\nwelcome = "Welcome to the Sofia hotline."\n'
                              '[offices.sofia.hours]\nsat = ["10:00-14:00"]\n')
    catalogue = load_catalogue(config)
    default = load_catalogue()

    assert catalogue.prompt("en", "welcome") == "Welcome to the Sofia hotline."
    assert catalogue.prompt("bg", "welcome") == default.prompt("bg", "welcome")
    assert catalogue.prompt("en", "goodbye") == default.prompt("en", "goodbye")
    sofia = catalogue.office("sofia")
    assert sofia.hours["sat"] == (("10:00", "14:00"),)
    assert sofia.hours["mon"] == (("09:00", "17:30"),) and sofia.hours["sun"] == ()
    assert (sofia.name, sofia.numbers, sofia.holidays) == ("Sofia", ("+35924916000",), "BG")
    assert catalogue.office("burgas") == default.office("burgas")
    assert catalogue.languages == default.languages and catalogue.topics == default.topics
    assert catalogue.menu_retries == default.menu_retries


def test_deployment_defining_its_own_offices_gets_exactly_those(tmp_path):
    config = _write(tmp_path, '[offices.plovdiv]\nname = "Plovdiv"\nnumbers = ["+35932916000"]\n'
                              '[offices.plovdiv.hours]\nmon = ["08:30-16:30"]\n')
    catalogue = load_catalogue(config)
    assert [office.code for office in catalogue.offices] == ["plovdiv"]
    plovdiv = catalogue.office("plovdiv")
    assert (plovdiv.name, plovdiv.numbers, plovdiv.timezone, plovdiv.holidays) == \
        ("Plovdiv", ("+35932916000",), "Europe/Sofia", None)
    assert plovdiv.hours["mon"] == (("08:30", "16:30"),) and plovdiv.hours["tue"] == ()
    assert catalogue.office_for_number("+35924916000").code == "plovdiv"  # Sofia's number is not ours now


def test_around_the_clock_hours_are_open_at_any_time(tmp_path):
    days = "\n".join(f'{day} = ["00:00-24:00"]' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
    config = _write(tmp_path, f'[offices.sofia]\nholidays = ""\n[offices.sofia.hours]\n{days}\n')
    catalogue = load_catalogue(config)
    sofia = catalogue.office("sofia")
    # Every quarter hour of a year, across both DST changes and every holiday.
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    quarters = (start + timedelta(minutes=15 * i) for i in range(366 * 96))
    closed = [at for at in quarters if not hours.is_open(sofia, at)]
    assert closed == []
    last_millisecond = datetime(2026, 12, 24, 21, 59, 59, 999000, tzinfo=timezone.utc)  # 23:59:59.999 local
    assert hours.is_open(sofia, last_millisecond)


@pytest.mark.parametrize("span", ["9:00-17:00", "09:00-25:00", "ab:cd-ef:gh", "17:00-09:00", "09:00-09:00",
                                  "09:00", "24:00-24:00", "09:60-10:00", ""])
def test_bad_hours_raise_a_clear_error(tmp_path, span):
    config = _write(tmp_path, f'[offices.sofia.hours]\nmon = ["{span}"]\n')
    with pytest.raises(CatalogueError) as raised:
        load_catalogue(config)
    message = str(raised.value)
    assert repr(span) in message and "offices.sofia.hours.mon" in message and "HH:MM-HH:MM" in message


@pytest.mark.parametrize("toml, expected", [
    ('[offices.sofia.hours]\nmonday = ["09:00-17:00"]\n', "bad day monday in offices.sofia.hours"),
    ('[offices.sofia.hours]\nmon = "09:00-17:00"\n', "in offices.sofia.hours.mon: use a list"),
    ('[offices.sofia]\ntimezone = "Europe/Sofa"\n', "unknown time zone 'Europe/Sofa' in offices.sofia"),
    ('[offices.sofia]\nholidays = "XX"\n', "unknown holiday calendar 'XX' in offices.sofia"),
])
def test_bad_office_settings_raise_a_clear_error(tmp_path, toml, expected):
    with pytest.raises(CatalogueError, match=expected):
        load_catalogue(_write(tmp_path, toml))
