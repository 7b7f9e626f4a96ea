"""The per-locale language menu with a deployment's own locales: options that share a speech
locale share one <Gather>, and a language configured without one is listened for in the default
language's locale."""
from __future__ import annotations

import pytest

from tests.conftest import config_with
from tests.support.helpers import new_call
from tests.support.journeys import stored_call


@pytest.fixture
def app_config(app_config, tmp_path):
    return {**app_config, "HOTLINE_CONFIG": config_with(
        tmp_path, '[languages.uk]\nspeech = "ru-RU"\n[languages.tr]\nspeech = ""\n')}


def _per_locale_menu(twilio):
    call = new_call(twilio)
    call.ring()
    return call, call.say("Klingon, bitte").findall("Gather")


def test_options_sharing_a_locale_share_a_gather(twilio):
    _, gathers = _per_locale_menu(twilio)
    assert [g.attrib["language"] for g in gathers] == ["bg-BG", "en-GB", "ru-RU", "ar-EG", "fa-IR", "en-GB"]
    assert len(gathers[2].findall("Say")) == 2  # the Russian and the Ukrainian option
    assert gathers[-1].attrib["action"].endswith("heard=en")


def test_a_language_said_in_a_shared_locale_is_understood(db, twilio):
    call, gathers = _per_locale_menu(twilio)
    call.follow(gathers[2].attrib["action"], SpeechResult="Українська", Confidence="0.8")
    assert stored_call(db, call).language_code == "uk"
