"""Spoken answers as Twilio's speech recognition returns them (SpeechResult), through signed
webhooks: Turkish İ, Arabic-Indic and Persian digits, Arabic letter variants, typographic
apostrophes and number words in every language; and the language menu, which listens in each
option's own language after speech it could not place."""
from __future__ import annotations

import unicodedata
from urllib.parse import parse_qs, urlsplit

import pytest

from ivr import choices
from ivr.menus import LOCALE_GAP, MAX_HINT_CHARS, MAX_HINTS
from tests.support.helpers import new_call, to_topic_menu
from tests.support.journeys import LANGUAGE_KEYS, attempt_of, journal, prompt, stored_call, texts

LOCALES = {"bg": "bg-BG", "en": "en-GB", "ru": "ru-RU", "uk": "uk-UA", "ar": "ar-EG", "fa": "fa-IR",
           "tr": "tr-TR"}


def _chose_topic(db, call, topic: str) -> None:
    assert stored_call(db, call).topic_code == topic
    assert ("topic", topic, None) in journal(db, call)


def _chose_language(db, call, lang: str) -> None:
    assert stored_call(db, call).language_code == lang
    assert ("language", lang, None) in journal(db, call)


@pytest.mark.parametrize("lang, speech, topic", [
    ("tr", "İki.", "employment"), ("tr", "İkiye basıyorum.", "employment"), ("tr", "5'e", "social"),
    ("tr", "Sağlık", "health"), ("tr", "SAĞLIK", "health"),
    ("ar", "٢", "employment"), ("ar", "الرقم ٣", "health"), ("ar", "اتنين", "employment"),
    ("ar", "رقم اثنين", "employment"), ("ar", "أربعة", "education"), ("ar", "اربعه", "education"),
    ("ar", "ثَلَاثَة", "health"), ("ar", "ثـلاثة", "health"), ("ar", "خمسه", "social"),
    ("fa", "۴", "education"), ("fa", "يك", "residence"), ("fa", "چار", "education"), ("fa", "پنج", "social"),
    ("uk", "п’ять", "social"), ("uk", "пʼять", "social"), ("uk", "П'ять.", "social"),
    ("uk", "Дві", "employment"),
    ("ru", "ПЯТЬ", "social"), ("ru", "номер три", "health"), ("ru", "двойку", "employment"),
    ("bg", "Едно", "residence"), ("bg", "две", "employment"), ("en", "Number 3, please.", "health"),
])
def test_a_spoken_topic_is_understood_however_it_is_written(db, twilio, lang, speech, topic):
    call = to_topic_menu(twilio, LANGUAGE_KEYS[lang])
    assert call.gather().attrib["language"] == LOCALES[lang]
    call.say(speech)
    _chose_topic(db, call, topic)


def _hints(gather) -> list[str]:
    return gather.attrib["hints"].split(", ")


def test_first_menu_hints_name_each_language_as_its_recognizer_would_write_it(twilio):
    gather = new_call(twilio).ring().find("Gather")
    assert gather.attrib["language"] == "en-GB"
    hints = _hints(gather)
    for name in ("Russian", "Arabic", "Farsi", "Türkçe", "russki", "arabi", "dari", "bulgarski", "ukrainska",
                 "two", "seven"):
        assert name in hints
    # An en-GB recognizer writes Latin letters: hints in other scripts could never be heard.
    assert all(unicodedata.name(c).startswith("LATIN") for hint in hints for c in hint if c.isalpha())
    assert len(hints) <= MAX_HINTS and all(0 < len(h) <= MAX_HINT_CHARS for h in hints)


@pytest.mark.parametrize("speech, lang", [
    ("Russki", "ru"), ("Arabi, please", "ar"), ("Dari", "fa"), ("Turkce", "tr"), ("Bulgarski", "bg"),
    ("Ukrainska", "uk"), ("Persian", "fa"), ("TWO", "en"),
])
def test_first_menu_understands_a_language_named_as_the_default_locale_hears_it(db, twilio, speech, lang):
    call = new_call(twilio)
    call.ring()
    call.say(speech)
    _chose_language(db, call, lang)


def test_every_name_of_a_language_chooses_it_whichever_locale_heard_it(app):
    catalogue = app.extensions["hotline"].catalogue
    options = {lang.digit: lang.code for lang in catalogue.languages}
    keywords = choices.language_keywords(catalogue)
    for lang in catalogue.languages:
        for name in choices.language_names(catalogue, lang.code):
            for heard in LOCALES:
                assert choices.choose(None, name, options, keywords, catalogue, [heard]) == lang.code, name


def _query(gather) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(gather.attrib["action"]).query).items()}


def test_after_speech_it_cannot_place_each_option_listens_in_its_own_language(app, twilio):
    call = new_call(twilio)
    options = [verb for verb in call.ring().find("Gather")]  # the plain menu's options, as voiced
    answer = call.say("Klingon, bitte")
    assert texts(answer)[:2] == [prompt(app, lang, "not_understood") for lang in ("bg", "en")]
    gathers = answer.findall("Gather")
    assert [g.attrib["language"] for g in gathers] == list(LOCALES.values())
    assert [_query(g) for g in gathers] == [{"attempt": "1", "heard": lang} for lang in LOCALES]
    for gather, option in zip(gathers, options, strict=True):
        assert [(verb.tag, verb.text) for verb in gather] == [(option.tag, option.text)]
        assert gather.attrib["input"] == "dtmf speech" and gather.attrib["numDigits"] == "1"
    menu_timeout = app.extensions["hotline"].catalogue.menu_timeout
    assert [g.attrib["timeout"] for g in gathers] == [str(LOCALE_GAP)] * 6 + [str(menu_timeout)]
    assert [g.attrib.get("actionOnEmptyResult") for g in gathers] == ["false"] * 6 + ["true"]


def test_each_locale_gets_hints_in_its_own_script(twilio):
    call = new_call(twilio)
    call.ring()
    call.say("Klingon, bitte")
    assert {"русский", "українська", "български", "руски"} <= set(_hints(call.gather_in("ru-RU")))
    assert "Türkçe" not in _hints(call.gather_in("ru-RU"))
    assert {"العربية", "عربي", "دری", "فارسی", "خمسة"} <= set(_hints(call.gather_in("ar-EG")))
    assert {"Türkçe", "Arapça", "yedi"} <= set(_hints(call.gather_in("tr-TR")))


@pytest.mark.parametrize("locale, speech, lang", [
    ("tr-TR", "Türkçe.", "tr"), ("tr-TR", "İngilizce", "en"), ("tr-TR", "Yedi.", "tr"),
    ("ar-EG", "عربي", "ar"), ("ar-EG", "بالعربي لو سمحت", "ar"), ("ar-EG", "٥", "ar"),
    ("ar-EG", "خمسة", "ar"),
    ("fa-IR", "فارسی", "fa"), ("fa-IR", "فارسي", "fa"), ("fa-IR", "دری", "fa"), ("fa-IR", "۶", "fa"),
    ("uk-UA", "Українською, будь ласка.", "uk"), ("uk-UA", "чотири", "uk"),
    ("ru-RU", "Русский", "ru"), ("ru-RU", "по-русски", "ru"), ("bg-BG", "Български.", "bg"),
])
def test_the_language_said_to_its_own_locale_is_understood(db, twilio, locale, speech, lang):
    call = new_call(twilio)
    call.ring()
    call.say("Klingon, bitte")
    call.say_in(locale, speech)
    _chose_language(db, call, lang)


def test_keys_work_in_every_option_of_the_per_locale_menu(db, twilio):
    call = new_call(twilio)
    call.ring()
    call.say("Klingon, bitte")
    call.press(LANGUAGE_KEYS["uk"])  # pressed while the first option (Bulgarian) is spoken
    _chose_language(db, call, "uk")


def test_silence_after_the_per_locale_menu_gets_the_plain_menu_then_english(app, db, twilio):
    call = new_call(twilio)
    call.ring()
    call.say("Klingon, bitte")
    again = call.silence()
    assert texts(again)[:2] == [prompt(app, lang, "no_input") for lang in ("bg", "en")]
    assert [g.attrib["language"] for g in again.findall("Gather")] == ["en-GB"]
    assert attempt_of(again.find("Gather")) == 2
    call.silence()
    _chose_language(db, call, "en")


def test_speech_never_understood_ends_in_english_after_the_retries(db, twilio):
    call = new_call(twilio)
    call.ring()
    call.say("Klingon, bitte")
    again = call.say_in("ru-RU", "что-то непонятное")
    assert len(again.findall("Gather")) == len(LOCALES) and attempt_of(again.find("Gather")) == 2
    last = call.say_in("tr-TR", "anlamadım")
    assert last.find("Hangup") is None
    _chose_language(db, call, "en")
