"""Telephone-ready audio from an engine's WAV: mono, band-limited to 300-3400 Hz (the telephone
band, ITU-T G.712), loudness-normalised, at the rate a phone call carries.

With ffmpeg on the machine: 8 kHz MP3 through its loudnorm filter (EBU R128, -19 LUFS, true peak
-3 dBFS), the line tried in ../shared/LANGUAGE-REVIEW.md. Without it: 16 kHz WAV made here, the
band filters from the RBJ Audio EQ Cookbook and the level set by RMS (a stand-in for loudness
that needs no library); 16 kHz leaves room above 3.4 kHz for the simple filters to work in.
"""
from __future__ import annotations

import array
import io
import math
import shutil
import subprocess
import wave
from dataclasses import dataclass

from hotline.voice.speech.engines import pcm_to_wav

FFMPEG_FILTER = "highpass=f=300,lowpass=f=3400,loudnorm=I=-19:TP=-3"
FFMPEG_TIMEOUT_SECONDS = 30
TARGET_RMS_DBFS = -19.0
PEAK_DBFS = -3.0


@dataclass(frozen=True)
class Format:
    """A telephone audio format: file extension, sample rate (Hz), MIME type for serving it."""

    ext: str
    rate: int
    mimetype: str


MP3 = Format("mp3", 8000, "audio/mpeg")
WAV = Format("wav", 16000, "audio/wav")
FORMATS = {fmt.ext: fmt for fmt in (MP3, WAV)}


def output_format() -> Format:
    """MP3 where ffmpeg is installed, else WAV."""
    return MP3 if shutil.which("ffmpeg") else WAV


def telephone_audio(wav: bytes, fmt: Format) -> bytes:
    """The WAV file `wav` (mono, 16-bit) as a file of format `fmt` (band-limited, normalised).
    Raises subprocess.CalledProcessError if ffmpeg fails."""
    if fmt is MP3:
        done = subprocess.run(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-f", "wav", "-i", "pipe:0",
             "-af", FFMPEG_FILTER, "-ar", str(fmt.rate), "-ac", "1",
             "-c:a", "libmp3lame", "-b:a", "32k", "-f", "mp3", "pipe:1"],
            input=wav, capture_output=True, timeout=FFMPEG_TIMEOUT_SECONDS, check=True)
        return done.stdout
    return _python_wav(wav, fmt.rate)


def _python_wav(data: bytes, rate: int) -> bytes:
    with wave.open(io.BytesIO(data)) as wav:
        source_rate = wav.getframerate()
        samples = array.array("h", wav.readframes(wav.getnframes()))
    signal = [float(s) for s in samples]
    # Two sections each way: fourth-order Butterworth band edges.
    for kind, frequency in (("highpass", 300.0),) * 2 + (("lowpass", 3400.0),) * 2:
        signal = _biquad(signal, source_rate, kind, frequency)
    signal = _resample(signal, source_rate, rate)
    return pcm_to_wav(_normalised(signal).tobytes(), rate)


def _biquad(signal: list[float], rate: int, kind: str, frequency: float,
            q: float = 1 / math.sqrt(2)) -> list[float]:
    """One second-order Butterworth section (RBJ Audio EQ Cookbook's LPF/HPF), direct form I."""
    w0 = 2 * math.pi * frequency / rate
    alpha, cos_w0 = math.sin(w0) / (2 * q), math.cos(w0)
    if kind == "lowpass":
        b0 = b2 = (1 - cos_w0) / 2
        b1 = 1 - cos_w0
    else:
        b0 = b2 = (1 + cos_w0) / 2
        b1 = -(1 + cos_w0)
    a0, a1, a2 = 1 + alpha, -2 * cos_w0, 1 - alpha
    b0, b1, b2, a1, a2 = b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0
    out, x1, x2, y1, y2 = [], 0.0, 0.0, 0.0, 0.0
    for x in signal:
        y = b0 * x + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2
        out.append(y)
        x1, x2, y1, y2 = x, x1, y, y1
    return out


def _resample(signal: list[float], source: int, target: int) -> list[float]:
    """Linear interpolation: enough after the 3.4 kHz low-pass, well below either Nyquist."""
    if source == target or not signal:
        return signal
    count = int(len(signal) * target / source)
    step, last = source / target, len(signal) - 1
    out = []
    for i in range(count):
        position = i * step
        left = int(position)
        right = min(left + 1, last)
        out.append(signal[left] + (signal[right] - signal[left]) * (position - left))
    return out


def _normalised(signal: list[float]) -> array.array:
    rms = math.sqrt(sum(x * x for x in signal) / len(signal)) if signal else 0.0
    peak = max((abs(x) for x in signal), default=0.0)
    if rms == 0:
        return array.array("h", bytes(2 * len(signal)))
    full = 32767.0
    gain = min(full * 10 ** (TARGET_RMS_DBFS / 20) / rms, full * 10 ** (PEAK_DBFS / 20) / peak)
    return array.array("h", (int(max(-full, min(full, x * gain))) for x in signal))
