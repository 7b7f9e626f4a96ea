"""TwiML that follows from the catalogue alone (the greeting and the language menu, a language's
topic menu), built once per process and kept as the text Twilio gets.

Deterministic output only, so any process can rebuild it (no state in process memory): the key is
the catalogue object (a catalogue loaded again is a new object, hence new entries), the URL base
the actions are built on, what is being built, and the recordings that could replace spoken
prompts (the modification time of each voiceless language's audio folder: a recording added there
is used from the next request on). Audio rendered by this machine's speech engine has URLs that
follow from the prompt's text (hotline.voice.speech), so it needs no key of its own. Building the
greeting and its seven-language menu took about as long as the rest of the voice webhook's Python
(issue 11).
"""
from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Hashable

from flask import request
from twilio.twiml.voice_response import VoiceResponse

from hotline import runtime
from hotline.catalogue import Catalogue
from hotline.voice.speech.store import audio_dir

_built: weakref.WeakKeyDictionary[Catalogue, dict[Hashable, str]] = weakref.WeakKeyDictionary()


def fixed(key: Hashable, build: Callable[[VoiceResponse], None]) -> str:
    """The TwiML text of `build(resp)` on a new VoiceResponse, built the first time this process
    asks for `key` with this catalogue, URL base and recordings; `key` must name everything else
    the TwiML depends on (its menu, its language)."""
    catalogue = runtime.catalogue()
    base = runtime.settings().public_base_url or request.host_url
    full_key = (key, base, _recordings_stamp(catalogue))
    built = _built.setdefault(catalogue, {})
    text = built.get(full_key)
    if text is None:
        resp = VoiceResponse()
        build(resp)
        text = built[full_key] = str(resp)
    return text


def _recordings_stamp(catalogue: Catalogue) -> tuple[int, ...]:
    """The modification times (ns) of the audio folders of languages spoken from recordings."""
    stamp = []
    audio = None
    for lang in catalogue.languages:
        if not lang.voice:
            audio = audio or audio_dir()
            try:
                stamp.append(os.stat(audio / lang.code).st_mtime_ns)
            except OSError:
                stamp.append(0)
    return tuple(stamp)
