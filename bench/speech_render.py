"""Speech benchmark: how long rendering one Farsi prompt takes, per engine and per encoder.

Every fixed Farsi prompt (hotline.voice.speech.prompts.fixed_prompts: 35 sentences of the packaged
catalogue) is spoken by each engine this machine has, and each engine's WAV is made telephone-ready
by each encoder (ffmpeg to 8 kHz MP3, Python to 16 kHz WAV). Prints the median and p90 milliseconds
per sentence, and the seconds of audio made per second of work (real-time factor, higher is better).

    .venv/bin/python bench/speech_render.py [--rounds 3]
"""
from __future__ import annotations

import argparse
import io
import shutil
import statistics
import time
import wave

from hotline.catalogue import load_catalogue
from hotline.voice.speech import engines, prompts
from hotline.voice.speech.telephone import MP3, WAV, telephone_audio


def _sentences() -> list[str]:
    catalogue = load_catalogue()
    return [prompts.engine_text(catalogue, "fa", key, values)
            for key, values in prompts.fixed_prompts(catalogue, "fa").values()]


def _engines() -> list[engines.Engine]:
    found = []
    for choice in ("espeak-ng", "library"):
        for engine in engines._candidates("fa", choice):
            try:
                engine.speak("سلام")
            except (engines.EngineError, OSError, ImportError) as error:
                print(f"{engine.name} {engine.voice}: unavailable ({error})")
                continue
            found.append(engine)
    return found


def _seconds_of(wav_bytes: bytes) -> float:
    with wave.open(io.BytesIO(wav_bytes)) as wav:
        return wav.getnframes() / wav.getframerate()


def _row(label: str, times: list[float], audio_seconds: float) -> str:
    p90 = statistics.quantiles(times, n=10)[-1]
    return (f"{label:<34} {statistics.median(times) * 1000:8.1f} {p90 * 1000:8.1f} "
            f"{audio_seconds / sum(times):9.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="times each sentence is rendered")
    rounds = parser.parse_args().rounds
    sentences = _sentences()
    print(f"{len(sentences)} Farsi sentences, {rounds} rounds; ms per sentence")
    print(f"{'step':<34} {'median':>8} {'p90':>8} {'realtime':>10}")
    encoders = [MP3, WAV] if shutil.which("ffmpeg") else [WAV]
    for engine in _engines():
        spoken, times = [], []
        for _ in range(rounds):
            for text in sentences:
                started = time.perf_counter()
                spoken.append(engine.speak(text))
                times.append(time.perf_counter() - started)
        audio_seconds = sum(map(_seconds_of, spoken))
        print(_row(f"{engine.name} {engine.voice}: speak", times, audio_seconds))
        for fmt in encoders:
            encode_times = []
            for wav_bytes in spoken[: len(sentences)]:
                started = time.perf_counter()
                telephone_audio(wav_bytes, fmt)
                encode_times.append(time.perf_counter() - started)
            print(_row(f"  + {fmt.ext} {fmt.rate // 1000} kHz", encode_times,
                       sum(map(_seconds_of, spoken[: len(sentences)]))))


if __name__ == "__main__":
    main()
