"""Where prompt audio lives, under the audio directory (config `audio_dir`, default
<instance>/audio):

- `<lang>/<name>.mp3` (or .wav): recorded by a person. Always wins over a rendered file. `name` is
  the prompt's key (`goodbye`), or the key and the option for menu options (`topic_option-health`,
  `language_option`).
- `rendered/<lang>/<digest>.<mp3|wav>`: rendered by the speech engine, named by a hash of the
  engine, its voice, the format and the exact text spoken, with `<digest>.json` beside it saying
  what it holds. Any machine can rebuild any of them from the text, so the directory is a cache:
  deleting it loses nothing.
- `rendered/<lang>/manifest.json`: written by `hotline prompts render`: each prompt's file, display
  text, engine text, engine, voice and the audio's SHA-256.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from hotline import runtime
from hotline.voice.speech.engines import Engine
from hotline.voice.speech.telephone import Format, telephone_audio

RECORDED_EXTENSIONS = ("mp3", "wav")


def audio_dir() -> Path:
    """The configured audio directory (`audio_dir`), else <instance>/audio."""
    configured = runtime.catalogue().audio_dir
    return Path(configured) if configured else Path(runtime.settings().instance_path) / "audio"


def recording_for(lang: str, name: str) -> Path | None:
    """The recording a person made of prompt `name` in `lang`, or None."""
    for ext in RECORDED_EXTENSIONS:
        path = audio_dir() / lang / f"{name}.{ext}"
        if path.is_file():
            return path
    return None


def rendered_dir(lang: str) -> Path:
    return audio_dir() / "rendered" / lang


def digest(engine: Engine, fmt: Format, text: str) -> str:
    """24 hex digits of SHA-256 over what decides the audio: engine, voice, format and text."""
    key = json.dumps([engine.name, engine.voice, fmt.ext, fmt.rate, text], ensure_ascii=False)
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def rendered_path(lang: str, name: str, fmt: Format) -> Path:
    return rendered_dir(lang) / f"{name}.{fmt.ext}"


def _write_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, then rename: another process (or machine sharing
    the directory) reading at the same time sees the whole file or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def rendered(lang: str, text: str, engine: Engine, fmt: Format) -> tuple[Path, bool]:
    """The telephone audio of `text` in `lang`, rendered by `engine` into format `fmt` unless
    already on disk: (its path, True if rendered by this call). Raises engines.EngineError or
    subprocess errors when the engine or ffmpeg fails."""
    path = rendered_path(lang, digest(engine, fmt, text), fmt)
    if path.is_file():
        return path, False
    audio = telephone_audio(engine.speak(text), fmt)
    _write_atomically(path, audio)
    about = {"text": text, "engine": engine.name, "voice": engine.voice, "format": fmt.ext, "rate": fmt.rate,
             "sha256": hashlib.sha256(audio).hexdigest()}
    _write_atomically(path.with_suffix(".json"), json.dumps(about, ensure_ascii=False, indent=1).encode())
    return path, True


def write_manifest(lang: str, entries: dict[str, dict]) -> Path:
    """Write `rendered/<lang>/manifest.json` (prompt name -> what was rendered) and return its path."""
    path = rendered_dir(lang) / "manifest.json"
    _write_atomically(path, json.dumps(entries, ensure_ascii=False, indent=1, sort_keys=True).encode())
    return path
