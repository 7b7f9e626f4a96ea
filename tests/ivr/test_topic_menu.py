"""The topic menu, in the caller's language: keypad or speech, and the default topic ("other",
announced) after a caller who says nothing or presses wrong keys has been asked twice more."""
from __future__ import annotations

import pytest

from tests.support.helpers import add_consultant, to_topic_menu
from tests.support.journeys import (
    LANGUAGE_KEYS,
    TOPIC_KEYS,
    attempt_of,
    dialled,
    journal,
    prompt,
    stored_call,
    texts,
    verbs,
)


def _term(app, lang: str, topic: str) -> str:
    return app.extensions["hotline"].catalogue.term(lang, "topics", topic)


def _menu(twilio, lang: str):
    return to_topic_menu(twilio, LANGUAGE_KEYS[lang])


def _chose(db, call, topic: str) -> None:
    assert stored_call(db, call).topic_code == topic
    assert ("topic", topic, None) in journal(db, call)


@pytest.mark.parametrize("lang", ["bg", "en", "ru", "uk", "ar", "tr"])
def test_menu_is_spoken_in_the_callers_language(app, twilio, lang):
    gather = _menu(twilio, lang).last.find("Gather")
    expected = [prompt(app, lang, "topic_intro")] + [
        prompt(app, lang, "topic_option", topic=_term(app, lang, topic), digit=digit)
        for topic, digit in TOPIC_KEYS.items()
    ]
    assert texts(gather) == expected
    assert {say.attrib["language"] for say in gather.findall("Say")} == \
        {app.extensions["hotline"].catalogue.language(lang).tts}


def test_menu_hints_name_the_topics_for_speech_recognition(app, twilio):
    hints = _menu(twilio, "ru").last.find("Gather").attrib["hints"]
    assert all(_term(app, "ru", topic) in hints for topic in ("health", "education"))


@pytest.mark.parametrize("topic", list(TOPIC_KEYS))
def test_each_key_chooses_its_topic_and_the_call_is_routed(app, db, twilio, topic):
    consultant = add_consultant(app, db, "Elena", languages=["en"], topics=[topic])
    call = _menu(twilio, "en")
    answer = call.press(TOPIC_KEYS[topic])
    _chose(db, call, topic)
    assert texts(answer)[0] == prompt(app, "en", "connecting")
    assert dialled(call) == consultant.phone


@pytest.mark.parametrize("lang, speech, topic", [
    ("en", "health", "health"), ("en", "I need help with my documents", "residence"),
    ("en", "the labour market", "employment"), ("ru", "здоровье", "health"),
    ("ru", "образование детей", "education"), ("bg", "социални услуги", "social"),
    ("tr", "sağlık", "health"), ("uk", "документи", "residence"), ("ru", "health", "health"),
    ("en", "number four", "education"), ("bg", "три", "health"), ("ru", "пять", "social"),
])
def test_a_spoken_topic_is_understood(db, twilio, lang, speech, topic):
    call = _menu(twilio, lang)
    call.say(speech)
    _chose(db, call, topic)


def _expect_asked_again(app, answer, lang: str, key: str, attempt: int) -> None:
    assert verbs(answer) == ["Say", "Gather"]
    assert texts(answer)[0] == prompt(app, lang, key)
    assert attempt_of(answer.find("Gather")) == attempt
    assert texts(answer.find("Gather"))[0] == prompt(app, lang, "topic_intro")


@pytest.mark.parametrize("act, key", [
    (lambda call: call.silence(), "no_input"),
    (lambda call: call.press("9"), "not_understood"),
    (lambda call: call.say("что-то непонятное"), "not_understood"),
])
def test_no_or_wrong_choice_is_explained_in_the_callers_language_and_asked_again(app, db, twilio, act, key):
    call = _menu(twilio, "ru")
    _expect_asked_again(app, act(call), "ru", key, attempt=1)
    _expect_asked_again(app, act(call), "ru", key, attempt=2)
    assert stored_call(db, call).topic_code is None


@pytest.mark.parametrize("act, key", [
    (lambda call: call.silence(), "no_input"),
    (lambda call: call.press("0"), "not_understood"),
])
def test_after_the_retries_the_default_topic_is_announced_and_routed(app, db, twilio, act, key):
    consultant = add_consultant(app, db, "Olga", languages=["ru"], topics=["other"])
    call = _menu(twilio, "ru")
    act(call)
    act(call)
    third = act(call)
    assert texts(third)[:3] == [prompt(app, "ru", key), prompt(app, "ru", "default_topic"),
                                prompt(app, "ru", "connecting")]
    assert third.find("Hangup") is None
    assert dialled(call) == consultant.phone
    _chose(db, call, "other")


def test_a_valid_key_after_silence_is_taken(db, twilio):
    call = _menu(twilio, "bg")
    call.silence()
    call.press(TOPIC_KEYS["education"])
    _chose(db, call, "education")
