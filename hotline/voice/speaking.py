"""Speaking prompts from the catalogue: <Say> with the language's voice, or <Play> of audio.

A language without a Twilio voice (Farsi) plays, in this order of preference:
1. a recording a person made, `<audio_dir>/<lang>/<name>.mp3` (hotline.voice.speech.store), where `name`
   is the prompt's key, or the key and the option for menu options (topic_option-health,
   language_option). Prompts with other fields (the time in closed, a queue position) have none;
2. the prompt rendered by this machine's speech engine, with its fields filled in the caller's
   language (hotline.voice.speech.audio: rendered on first use and cached);
3. with no engine installed, the prompt spoken in the language's fallback (the start-up log and
   /healthz say so).
"""
from __future__ import annotations

from typing import Callable

from twilio.twiml import TwiML

from hotline import runtime
from hotline.telephony import external_url
from hotline.voice.speech import audio, store

# A field is a value, or a function of the language the prompt ends up spoken in (a term such as
# a topic's name must follow the fallback, not the caller's choice).
Field = str | int | Callable[[str], str]


def say_text(verb: TwiML, lang: str, text: str) -> None:
    language = runtime.catalogue().language(lang)
    verb.say(text, voice=language.voice, language=language.tts)


def field_values(lang: str, fields: dict[str, Field]) -> dict[str, str | int]:
    """`fields` with each function of the language called for `lang`."""
    return {name: value(lang) if callable(value) else value for name, value in fields.items()}


def render(lang: str, key: str, fields: dict[str, Field]) -> str:
    return runtime.catalogue().prompt(lang, key, **field_values(lang, fields))


def speak(verb: TwiML, lang: str, key: str, recording: str | None = None, **fields: Field) -> None:
    """Append prompt `key` in `lang` to a VoiceResponse or Gather: <Say>, or <Play> for a language
    without a voice (see the module's docstring); `recording` names the recording of a prompt with
    fields that are fixed (a menu option)."""
    catalogue = runtime.catalogue()
    language = catalogue.language(lang)
    if language.voice:
        say_text(verb, lang, render(lang, key, fields))
        return
    name = recording or (None if fields else key)
    path = store.recording_for(lang, name) if name else None
    if path:
        verb.play(external_url("audio.prompt", lang=lang, name=name, ext=path.suffix[1:]))
        return
    urls = audio.rendered_urls(lang, key, field_values(lang, fields))
    for url in urls:
        verb.play(url)
    if urls:
        return
    fallback = language.fallback or catalogue.default_language
    say_text(verb, fallback, render(fallback, key, fields))


def staff_language(staff) -> str:
    """The code of the language consultant `staff` (a Staff) hears: the whisper, "the caller has
    gone", a callback's prompts. Their whisper_language, if set and offered; else the configured
    staff_language if they list it among their languages; else the first language they list that
    the catalogue offers (their skills in the order they were given); staff_language only for one
    who lists none. Never a language they do not list unless they chose it (issue 17: Bulgarian
    was whispered to consultants who do not speak it)."""
    catalogue = runtime.catalogue()
    if catalogue.language(staff.whisper_language):
        return staff.whisper_language
    # Skills are rows, added in the order the languages were listed; without an ORDER BY they may
    # load in any order, so they are put back in it by id (a row not yet written goes last).
    listed = [skill.language_code for skill in sorted(staff.skills, key=lambda s: (s.id is None, s.id or 0))
              if catalogue.language(skill.language_code)]
    if not listed or catalogue.staff_language in listed:
        return catalogue.staff_language
    return listed[0]


def speak_to_unknown_language(resp: TwiML, key: str) -> None:
    """Speak prompt `key` (no fields) before the caller has chosen a language: in each of the
    catalogue's greeting languages, in their order."""
    for lang in runtime.catalogue().greeting_languages:
        speak(resp, lang, key)
