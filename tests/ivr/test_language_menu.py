"""The language menu: every option in its own language, keypad or speech, and what happens to
a caller who says nothing or presses a wrong key (asked again twice, then English, never cut off)."""
from __future__ import annotations

import pytest

from tests.support.helpers import new_call
from tests.support.journeys import (
    LANGUAGE_KEYS,
    attempt_of,
    heard,
    hears,
    journal,
    prompt,
    stored_call,
    texts,
    verbs,
)

GREETING = ("bg", "en")


def _option_text(app, spoken_in: str, lang: str) -> str:
    catalogue = app.extensions["hotline"].catalogue
    return prompt(app, spoken_in, "language_option", language=catalogue.term(spoken_in, "languages", lang),
                  digit=LANGUAGE_KEYS[lang])


def _chose(db, call, lang: str) -> None:
    assert stored_call(db, call).language_code == lang
    assert ("language", lang, None) in journal(db, call)


def test_greeting_is_spoken_in_the_greeting_languages_before_the_menu(app, twilio):
    greeting = new_call(twilio).ring()
    assert verbs(greeting) == ["Say", "Say", "Gather"]
    assert texts(greeting)[:2] == [prompt(app, lang, "welcome") for lang in GREETING]
    assert [say.attrib["language"] for say in greeting.findall("Say")] == ["bg-BG", "en-GB"]


def test_menu_gathers_one_key_or_speech_and_asks_twilio_to_report_silence(twilio):
    gather = new_call(twilio).ring().find("Gather")
    assert gather.attrib["input"] == "dtmf speech"
    assert gather.attrib["numDigits"] == "1"
    assert gather.attrib["actionOnEmptyResult"] == "true"
    assert gather.attrib["action"].startswith("https://hotline.example.org/ivr/language")
    assert attempt_of(gather) == 0


@pytest.mark.parametrize("lang, tts", [("bg", "bg-BG"), ("en", "en-GB"), ("ru", "ru-RU"), ("uk", "uk-UA"),
                                       ("ar", "ar-XA"), ("tr", "tr-TR")])
def test_each_option_is_spoken_in_its_own_language(app, twilio, lang, tts):
    gather = new_call(twilio).ring().find("Gather")
    assert len(gather) == 7  # one <Say> or <Play> an option
    says = gather.findall("Say")
    matching = [say for say in says if say.text == _option_text(app, lang, lang)]
    assert len(matching) == 1
    assert matching[0].attrib["language"] == tts


def test_options_come_in_digit_order(app, twilio):
    options = heard(app, new_call(twilio).ring().find("Gather"))
    catalogue = app.extensions["hotline"].catalogue
    assert options == [hears(app, lang, "language_option", language=catalogue.term(lang, "languages", lang),
                             digit=LANGUAGE_KEYS[lang]) for lang in LANGUAGE_KEYS]


def test_the_farsi_option_is_farsi_audio_that_names_dari(app, twilio):
    gather = new_call(twilio).ring().find("Gather")
    farsi = heard(app, gather)[int(LANGUAGE_KEYS["fa"]) - 1]
    assert gather[int(LANGUAGE_KEYS["fa"]) - 1].tag == "Play"
    assert "فارسی" in farsi and "دری" in farsi and "6" in farsi


@pytest.mark.speech_engine("none")
def test_farsi_option_without_a_recording_is_spoken_in_english(app, twilio):
    says = new_call(twilio).ring().find("Gather").findall("Say")
    farsi = says[int(LANGUAGE_KEYS["fa"]) - 1]
    assert farsi.text == "For Farsi, press 6."
    assert farsi.attrib["language"] == "en-GB"


@pytest.mark.parametrize("lang", list(LANGUAGE_KEYS))
def test_each_key_chooses_its_language_and_the_topic_menu_follows(app, db, twilio, lang):
    call = new_call(twilio)
    call.ring()
    topics = call.press(LANGUAGE_KEYS[lang])
    _chose(db, call, lang)
    gather = topics.find("Gather")
    assert gather.attrib["action"].startswith("https://hotline.example.org/ivr/topic")
    assert heard(app, gather)[0] == hears(app, lang, "topic_intro")


def test_topic_menu_listens_for_speech_in_the_chosen_language(twilio):
    call = new_call(twilio)
    call.ring()
    assert call.press(LANGUAGE_KEYS["uk"]).find("Gather").attrib["language"] == "uk-UA"


@pytest.mark.parametrize("speech, lang", [
    ("Russian", "ru"), ("по-русски", "ru"), ("Русский, пожалуйста.", "ru"), ("English please", "en"),
    ("български", "bg"), ("Ukrainian", "uk"), ("українська", "uk"), ("Turkish", "tr"), ("Türkçe", "tr"),
    ("Arabic", "ar"), ("العربية", "ar"), ("Farsi", "fa"), ("فارسی", "fa"), ("two", "en"), ("3", "ru"),
])
def test_a_spoken_choice_picks_the_language(db, twilio, speech, lang):
    call = new_call(twilio)
    call.ring()
    call.say(speech)
    _chose(db, call, lang)


def _expect_asked_again(app, answer, key: str, attempt: int) -> None:
    assert verbs(answer) == ["Say", "Say", "Gather"]
    assert texts(answer)[:2] == [prompt(app, lang, key) for lang in GREETING]
    assert attempt_of(answer.find("Gather")) == attempt
    assert answer.find("Hangup") is None


@pytest.mark.parametrize("act, key", [
    (lambda call: call.silence(), "no_input"),
    (lambda call: call.press("9"), "not_understood"),
    (lambda call: call.press("0"), "not_understood"),
    (lambda call: call.press("*"), "not_understood"),
])
def test_no_or_wrong_choice_is_explained_and_asked_again_twice(app, db, twilio, act, key):
    call = new_call(twilio)
    call.ring()
    _expect_asked_again(app, act(call), key, attempt=1)
    _expect_asked_again(app, act(call), key, attempt=2)
    assert stored_call(db, call).language_code is None


@pytest.mark.parametrize("act, key", [
    (lambda call: call.silence(), "no_input"),
    (lambda call: call.press("8"), "not_understood"),
])
def test_after_the_retries_the_call_goes_on_in_english(app, db, twilio, act, key):
    call = new_call(twilio)
    call.ring()
    act(call)
    act(call)
    third = act(call)
    assert texts(third)[:2] == [prompt(app, lang, key) for lang in GREETING]
    assert third.find("Hangup") is None
    assert texts(third.find("Gather"))[0] == prompt(app, "en", "topic_intro")
    _chose(db, call, "en")


def test_a_valid_key_after_a_wrong_one_is_taken(db, twilio):
    call = new_call(twilio)
    call.ring()
    call.press("9")
    call.press(LANGUAGE_KEYS["tr"])
    _chose(db, call, "tr")
