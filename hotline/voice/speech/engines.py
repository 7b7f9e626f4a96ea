"""The offline speech engines a voiceless language can be rendered with, best first.

1. The `espeak-ng` program with an MBROLA diphone voice (Farsi: `mb-ir1`, Debian's `mbrola` and
   `mbrola-ir1`): a native speaker's voice, far more natural.
2. The `espeak-ng` program with its own voice for the language (Debian's `espeak-ng`).
3. libespeak-ng as the `espeakng-loader` wheel bundles it with its data (no system package at all),
   with the same voice as 2.

HOTLINE_SPEECH_ENGINE picks one ("espeak-ng", "library") or none ("none"); "auto" takes the first
that works. Each is tried on a short text once per process: a voice that is listed but whose
files are missing fails there, not in front of a caller.
"""
from __future__ import annotations

import ctypes
import io
import logging
import shutil
import subprocess
import threading
import wave
from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

log = logging.getLogger(__name__)

# MBROLA voices by language (espeak-ng's names for them, voices/mb/ in its data).
MBROLA_VOICES = {"fa": "mb-ir1"}
CHOICES = ("auto", "espeak-ng", "library", "none")
TRIAL_TEXT = {"fa": "سلام"}
SYNTH_TIMEOUT_SECONDS = 20


class EngineError(RuntimeError):
    """The engine failed to speak a text (a crash, no audio)."""


@dataclass(frozen=True)
class Engine:
    """A way to speak one language: `speak(text)` returns a mono 16-bit WAV file's bytes."""

    name: str  # "espeak-ng" (the program) or "libespeak-ng" (the bundled library)
    voice: str  # the engine's voice name: "mb-ir1", "fa"
    speak: Callable[[str], bytes]


def _program_speak(voice: str) -> Callable[[str], bytes]:
    program = shutil.which("espeak-ng")

    def speak(text: str) -> bytes:
        # -b 1: the text is UTF-8; --stdout: a WAV file on standard output.
        done = subprocess.run([program, "-v", voice, "-b", "1", "--stdout"], input=text.encode(),
                              capture_output=True, timeout=SYNTH_TIMEOUT_SECONDS, check=False)
        if done.returncode != 0 or len(done.stdout) <= 44:
            raise EngineError(f"espeak-ng -v {voice} gave no audio: {done.stderr.decode()[:200]}")
        return _fix_wav_header(done.stdout)

    return speak


def _fix_wav_header(data: bytes) -> bytes:
    """espeak-ng writes to a pipe before it knows the length, so its header says 0x7ffff...:
    rewrite the WAV with the real length."""
    with wave.open(io.BytesIO(data)) as wav:
        rate, width, channels = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
    header = 44  # espeak-ng's canonical PCM header
    return pcm_to_wav(data[header:], rate, width, channels)


def pcm_to_wav(frames: bytes, rate: int, width: int = 2, channels: int = 1) -> bytes:
    """A WAV file's bytes for raw PCM `frames` (`width` bytes a sample, `rate` Hz)."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames[: len(frames) - len(frames) % (width * channels)])
    return out.getvalue()


class _Library:
    """libespeak-ng from the espeakng-loader wheel, through its C API (speak_lib.h). The library
    keeps one voice and one output buffer per process, so calls are serialised by a lock."""

    AUDIO_OUTPUT_SYNCHRONOUS, POS_CHARACTER, ESPEAK_CHARS_UTF8 = 2, 1, 1
    CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

    def __init__(self):
        import espeakng_loader  # an optional dependency: ImportError when absent

        self.lock = threading.Lock()
        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.rate = self.lib.espeak_Initialize(self.AUDIO_OUTPUT_SYNCHRONOUS, 0,
                                               espeakng_loader.get_data_path().encode(), 0)
        if self.rate <= 0:
            raise EngineError("libespeak-ng did not initialise")
        self.chunks: list[bytes] = []
        self.callback = self.CALLBACK(self._collect)  # kept referenced: the library calls it later
        self.lib.espeak_SetSynthCallback(self.callback)

    def _collect(self, samples, count: int, _events) -> int:
        if samples and count > 0:
            self.chunks.append(ctypes.string_at(samples, count * 2))
        return 0  # go on

    def speak(self, voice: str, text: str) -> bytes:
        data = text.encode()
        with self.lock:
            self.chunks = []
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise EngineError(f"libespeak-ng has no voice {voice!r}")
            self.lib.espeak_Synth(data, ctypes.c_size_t(len(data) + 1), 0, self.POS_CHARACTER, 0,
                                  self.ESPEAK_CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            frames = b"".join(self.chunks)
        if not frames:
            raise EngineError(f"libespeak-ng -v {voice} gave no audio")
        return pcm_to_wav(frames, self.rate)


@lru_cache(maxsize=1)
def _library() -> _Library:
    return _Library()


def _library_speak(voice: str) -> Callable[[str], bytes]:
    return lambda text: _library().speak(voice, text)


def _candidates(lang: str, choice: str) -> list[Engine]:
    found = []
    if choice in ("auto", "espeak-ng") and shutil.which("espeak-ng"):
        if lang in MBROLA_VOICES and shutil.which("mbrola"):
            found.append(Engine("espeak-ng", MBROLA_VOICES[lang], _program_speak(MBROLA_VOICES[lang])))
        found.append(Engine("espeak-ng", lang, _program_speak(lang)))
    if choice in ("auto", "library"):
        found.append(Engine("libespeak-ng", lang, _library_speak(lang)))
    return found


@lru_cache(maxsize=None)
def find_engine(lang: str, choice: str = "auto") -> Engine | None:
    """The best engine that speaks `lang` (an espeak-ng language code such as "fa") on this machine,
    tried on a short text; None when none does or `choice` is "none". Cached per process: what is
    installed does not change while it runs. ValueError for a `choice` not in CHOICES."""
    if choice not in CHOICES:
        raise ValueError(f"HOTLINE_SPEECH_ENGINE must be one of {', '.join(CHOICES)}, not {choice!r}")
    for engine in _candidates(lang, choice):
        try:
            engine.speak(TRIAL_TEXT.get(lang, "a"))
        except (EngineError, OSError, ImportError, subprocess.SubprocessError, wave.Error) as error:
            log.info("speech engine %s voice %s cannot speak %s: %s", engine.name, engine.voice, lang, error)
            continue
        return engine
    return None
