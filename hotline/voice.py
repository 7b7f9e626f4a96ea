"""Speaking prompts from the catalogue: <Say> with the language's voice, or <Play> of a recording.

A language without a Twilio voice (Farsi) plays `<audio_dir>/<lang>/<recording>.mp3`, served by
the app at /audio/<lang>/<recording>.mp3; until that file exists the prompt is spoken in the
language's fallback. A recording's name is the prompt's key, or the key and the option for menu
options (topic_option-health.mp3). Prompts that carry fields (the time in closed, all_busy...)
are never played from a recording, which could not say them: they are spoken in the fallback.
Menu options are the exception: their fields are fixed, so each option names its own recording.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from twilio.twiml import TwiML

from hotline import services
from hotline.telephony import external_url

# A field is a value, or a function of the language the prompt ends up spoken in (a term such as
# a topic's name must follow the fallback, not the caller's choice).
Field = str | int | Callable[[str], str]


def audio_dir() -> Path:
    configured = services.catalogue().audio_dir
    return Path(configured) if configured else Path(services.settings().instance_path) / "audio"


def recording_for(lang: str, name: str) -> Path | None:
    path = audio_dir() / lang / f"{name}.mp3"
    return path if path.is_file() else None


def say_text(verb: TwiML, lang: str, text: str) -> None:
    language = services.catalogue().language(lang)
    verb.say(text, voice=language.voice, language=language.tts)


def render(lang: str, key: str, fields: dict[str, Field]) -> str:
    values = {name: value(lang) if callable(value) else value for name, value in fields.items()}
    return services.catalogue().prompt(lang, key, **values)


def speak(verb: TwiML, lang: str, key: str, recording: str | None = None, **fields: Field) -> None:
    """Append prompt `key` in `lang` to a VoiceResponse or Gather."""
    catalogue = services.catalogue()
    language = catalogue.language(lang)
    if language.voice:
        say_text(verb, lang, render(lang, key, fields))
        return
    name = recording or (None if fields else key)
    if name and recording_for(lang, name):
        verb.play(external_url("audio.prompt", lang=lang, name=name))
        return
    fallback = language.fallback or catalogue.default_language
    say_text(verb, fallback, render(fallback, key, fields))


def staff_language(staff) -> str:
    """The language a consultant hears (whisper, "the caller has gone"): their own, if set and
    offered, else the configured staff_language."""
    catalogue = services.catalogue()
    return staff.whisper_language if catalogue.language(staff.whisper_language) else catalogue.staff_language


def speak_to_unknown_language(resp: TwiML, key: str) -> None:
    """Speak prompt `key` (no fields) before the caller has chosen a language: in each of the
    catalogue's greeting languages, in their order."""
    for lang in services.catalogue().greeting_languages:
        speak(resp, lang, key)
