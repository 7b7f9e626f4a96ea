"""Farsi has no text-to-speech voice: a recording in <instance>/audio/fa/ is played (<Play>) from a
URL on PUBLIC_BASE_URL that the app serves, ahead of the speech engine's rendering; without either,
the prompt is spoken in English."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PUBLIC_BASE_URL
from tests.support.helpers import add_consultant, to_topic_menu
from tests.support.journeys import LANGUAGE_KEYS, TOPIC_KEYS, heard, hears, prompt, record_prompt, texts


def _farsi_topic_menu(twilio):
    return to_topic_menu(twilio, LANGUAGE_KEYS["fa"])


def _audio_url(name: str) -> str:
    return f"{PUBLIC_BASE_URL}/audio/fa/{name}.mp3"


def test_instance_path_comes_from_the_environment(app, tmp_path):
    assert Path(app.instance_path) == tmp_path / "instance"


def _option(app, topic: str) -> str:
    """What the topic menu's option for `topic` sounds like, rendered in Farsi."""
    name = app.extensions["hotline"].catalogue.term("fa", "topics", topic)
    return hears(app, "fa", "topic_option", topic=name, digit=TOPIC_KEYS[topic])


@pytest.mark.speech_engine("none")
def test_without_recordings_or_engine_farsi_prompts_are_spoken_in_english(app, twilio):
    gather = _farsi_topic_menu(twilio).last.find("Gather")
    assert gather.find("Play") is None
    assert texts(gather)[:2] == [prompt(app, "en", "topic_intro"), "For residence and documents, press 1."]
    assert {say.attrib["language"] for say in gather.findall("Say")} == {"en-GB"}
    assert gather.attrib["language"] == "fa-IR"  # speech is still recognised as Farsi


def test_a_recorded_prompt_is_played_from_the_public_url(app, twilio):
    record_prompt(app, "topic_intro")
    gather = _farsi_topic_menu(twilio).last.find("Gather")
    assert texts(gather)[0] == f"[audio {_audio_url('topic_intro')}]"
    # The options not yet recorded are rendered by the speech engine.
    assert heard(app, gather)[1] == _option(app, "residence")


def test_menu_options_have_one_recording_per_option(app, twilio):
    record_prompt(app, "topic_option-health")
    gather = _farsi_topic_menu(twilio).last.find("Gather")
    health = int(TOPIC_KEYS["health"])  # after topic_intro, the options in digit order
    assert texts(gather)[health] == f"[audio {_audio_url('topic_option-health')}]"
    assert heard(app, gather)[health - 1] == _option(app, "employment")


def test_the_language_menu_plays_the_farsi_option_when_recorded(app, twilio):
    record_prompt(app, "language_option")
    call = to_topic_menu(twilio, LANGUAGE_KEYS["en"])
    options = texts(call.twilio.twiml(call.voice_url, call.base_params()).find("Gather"))
    assert options[int(LANGUAGE_KEYS["fa"]) - 1] == f"[audio {_audio_url('language_option')}]"
    assert "For English, press 2." in options


def test_the_played_url_serves_the_recording(app, db, client, twilio):
    content = record_prompt(app, "connecting")
    add_consultant(app, db, "Dariush", languages=["fa"], topics=["health"])
    call = _farsi_topic_menu(twilio)
    routed = call.press(TOPIC_KEYS["health"])
    url = routed.find("Play").text
    assert url == _audio_url("connecting")
    with client.get(url.removeprefix(PUBLIC_BASE_URL)) as response:
        assert response.status_code == 200
        assert response.mimetype == "audio/mpeg"
        assert response.data == content


@pytest.mark.parametrize("path", ["/audio/fa/missing.mp3", "/audio/fa/..%2Fsecret.mp3",
                                  "/audio/f4/welcome.mp3"])
def test_missing_or_odd_recordings_are_not_found(app, client, path):
    record_prompt(app, "welcome")
    assert client.get(path).status_code == 404
