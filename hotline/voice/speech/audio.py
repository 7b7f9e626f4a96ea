"""Prompt audio for the call flow: which engine speaks a voiceless language here, the <Play> URL of
a prompt with its fields filled, and rendering every fixed prompt (`hotline prompts render`).

A prompt with fields ("your position in the queue: 3") is rendered on first use, per value, and
cached on disk by the hash of its text (store); around the digits of a caller's phone number it
is cut into fragments, so that no number is ever in a URL or a cached file. Its URL carries that
text, signed with SECRET_KEY, so the /audio route of any web process on any machine can render it
on a miss: Twilio may fetch the file from another machine than the one that built the TwiML.
"""
from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer

from hotline import runtime
from hotline.catalogue import Catalogue
from hotline.telephony import external_url
from hotline.voice.speech import prompts, store
from hotline.voice.speech.engines import Engine, find_engine
from hotline.voice.speech.telephone import Format, output_format

log = logging.getLogger(__name__)
SALT = "hotline.voice.speech.text"


def voiceless_languages(catalogue: Catalogue) -> list[str]:
    """The codes of the configured languages that Twilio has no voice for."""
    return [lang.code for lang in catalogue.languages if not lang.voice]


def engine_for(lang: str) -> Engine | None:
    """The speech engine for `lang` on this machine (HOTLINE_SPEECH_ENGINE), or None."""
    return find_engine(lang, runtime.settings().speech_engine)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(runtime.settings().secret_key, salt=SALT)


def rendered_urls(lang: str, key: str, values: dict[str, object]) -> list[str]:
    """The URLs Twilio <Play>s, in order, for prompt `key` in `lang` with fields `values` (already
    in `lang`): one, or one per fragment around a personal field (prompts.engine_fragments); []
    when no engine speaks `lang` here (the caller then hears the fallback language)."""
    engine = engine_for(lang)
    if engine is None:
        return []
    fmt, serializer = output_format(), _serializer()
    return [external_url("audio.rendered", lang=lang, name=store.digest(engine, fmt, text), ext=fmt.ext,
                         say=serializer.dumps(text))
            for text in prompts.engine_fragments(runtime.catalogue(), lang, key, values)]


def text_of(token: str) -> str | None:
    """The text a rendered URL's `say` token carries, or None if it was not signed by us."""
    try:
        text = _serializer().loads(token)
    except BadSignature:
        return None
    return text if isinstance(text, str) else None


@dataclass(frozen=True)
class Rendered:
    """One fixed prompt after `render_fixed`: its name, whether it was rendered now (else it was
    on disk already), seconds the engine and encoder took, and its manifest entry."""

    name: str
    fresh: bool
    seconds: float
    entry: dict


def render_fixed(lang: str) -> list[Rendered]:
    """Render every fixed prompt of `lang` (prompts.fixed_prompts) that is not on disk yet, and
    write the manifest. RuntimeError when no engine speaks `lang` here."""
    engine = engine_for(lang)
    if engine is None:
        raise RuntimeError(f"no speech engine speaks {lang!r} on this machine")
    catalogue, fmt = runtime.catalogue(), output_format()
    done = []
    for name, (key, values) in sorted(prompts.fixed_prompts(catalogue, lang).items()):
        text = prompts.engine_text(catalogue, lang, key, values)
        started = time.perf_counter()
        path, fresh = store.rendered(lang, text, engine, fmt)
        done.append(Rendered(name, fresh, time.perf_counter() - started,
                             _manifest_entry(catalogue, lang, name, key, values, text, engine, fmt, path)))
    store.write_manifest(lang, {item.name: item.entry for item in done})
    return done


def _manifest_entry(catalogue: Catalogue, lang: str, name: str, key: str, values: dict, text: str,
                    engine: Engine, fmt: Format, path) -> dict:
    recorded = store.recording_for(lang, name)
    return {"file": path.name, "key": key, "text": catalogue.prompt(lang, key, **values), "engine_text": text,
            "engine": engine.name, "voice": engine.voice, "format": fmt.ext, "rate": fmt.rate,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "recorded": str(recorded) if recorded else None}


def engine_status(catalogue: Catalogue) -> dict[str, str]:
    """Per voiceless language: "<engine> <voice>" of the engine that speaks it here, or "missing"."""
    status = {}
    for lang in voiceless_languages(catalogue):
        engine = engine_for(lang)
        status[lang] = f"{engine.name} {engine.voice}" if engine else "missing"
    return status
