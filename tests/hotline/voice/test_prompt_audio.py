"""Rendering the prompts of a voiceless language (Farsi) into telephone audio: the engines, the
audio's format and length, `hotline prompts render` and its manifest, the /audio route, and what
the service says about its engine at start and on /healthz."""
from __future__ import annotations

import array
import io
import json
import logging
import math
import shutil
import subprocess
import wave

import pytest
from click.testing import CliRunner
from itsdangerous import URLSafeSerializer

from hotline.app import create_app
from hotline.catalogue import Catalogue, CatalogueError, load_raw
from hotline.cli import main
from hotline.voice.speech import audio, engines, prompts, store
from hotline.voice.speech.telephone import MP3, WAV, output_format, telephone_audio
from tests.conftest import REQUIRE_REAL, config_with

GOODBYE = "از تماس شما متشکریم. خدا نگهدار."


def _need(engine):
    """`engine`, or skip (fail with HOTLINE_REQUIRE_REAL, as CI sets) when there is none."""
    if engine is None:
        message = "no speech engine speaks Farsi here: install espeak-ng (see the README)"
        if REQUIRE_REAL:
            pytest.fail(message)
        pytest.skip(message)
    return engine


def _probe(data: bytes, ext: str) -> tuple[int, int, float]:
    """(sample rate in Hz, channels, seconds) of an audio file's bytes."""
    if ext == "wav":
        with wave.open(io.BytesIO(data)) as wav:
            return wav.getframerate(), wav.getnchannels(), wav.getnframes() / wav.getframerate()
    done = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", "-i", "pipe:0"],
                          input=data, capture_output=True, check=True)
    stream = json.loads(done.stdout)["streams"][0]
    rate, channels = int(stream["sample_rate"]), int(stream["channels"])
    # A piped MP3 states no duration: decode it, and count its 16-bit samples.
    pcm = subprocess.run(["ffmpeg", "-v", "error", "-i", "pipe:0", "-f", "s16le", "pipe:1"], input=data,
                         capture_output=True, check=True).stdout
    return rate, channels, len(pcm) / 2 / channels / rate


def test_a_rendered_prompt_is_telephone_audio_of_a_spoken_length(app):
    with app.app_context():
        engine = _need(audio.engine_for("fa"))
        fmt = output_format()
        path, fresh = store.rendered("fa", GOODBYE, engine, fmt)
        again, fresh_again = store.rendered("fa", GOODBYE, engine, fmt)
    assert (fresh, fresh_again, again) == (True, False, path)
    rate, channels, seconds = _probe(path.read_bytes(), fmt.ext)
    assert (rate, channels) == (fmt.rate, 1) and rate in (8000, 16000)
    assert 1.0 < seconds < 6.0  # a short sentence, said at a speaking pace
    about = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    assert (about["text"], about["engine"], about["voice"]) == (GOODBYE, engine.name, engine.voice)


def test_the_bundled_library_speaks_farsi_without_system_packages():
    engine = _need(engines.find_engine("fa", "library"))
    with wave.open(io.BytesIO(engine.speak(GOODBYE))) as wav:
        assert wav.getnchannels() == 1
        assert 1.0 < wav.getnframes() / wav.getframerate() < 6.0
    assert (engine.name, engine.voice) == ("libespeak-ng", "fa")


def _tones(rate: int, seconds: float, *frequencies: float) -> bytes:
    count = int(rate * seconds)
    samples = array.array("h", (int(3000 * sum(math.sin(2 * math.pi * f * i / rate) for f in frequencies))
                                for i in range(count)))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(samples.tobytes())
    return out.getvalue()


def _amplitude(samples: array.array, rate: int, frequency: float) -> float:
    """The amplitude of one frequency in `samples` (one bin of a discrete Fourier transform)."""
    re = sum(s * math.cos(2 * math.pi * frequency * i / rate) for i, s in enumerate(samples))
    im = sum(s * math.sin(2 * math.pi * frequency * i / rate) for i, s in enumerate(samples))
    return 2 * math.hypot(re, im) / len(samples)


def test_the_wav_made_without_ffmpeg_is_band_limited_normalised_16_khz_mono():
    made = telephone_audio(_tones(22050, 1.0, 100.0, 1000.0), WAV)
    with wave.open(io.BytesIO(made)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (16000, 1, 2)
        samples = array.array("h", wav.readframes(wav.getnframes()))
    assert abs(len(samples) - 16000) <= 1
    steady = samples[4000:]  # past the filters' settling
    assert _amplitude(steady, 16000, 100.0) < 0.05 * _amplitude(steady, 16000, 1000.0)  # below 300 Hz: cut
    assert max(abs(s) for s in samples) <= 32767 * 10 ** (-3 / 20) + 1  # peaks at -3 dBFS at most
    rms = math.sqrt(sum(s * s for s in steady) / len(steady))
    assert abs(20 * math.log10(rms / 32767) - (-19)) < 1.5


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="MP3 needs ffmpeg")
def test_the_mp3_is_8_khz_mono():
    rate, channels, seconds = _probe(telephone_audio(_tones(16000, 2.0, 1000.0), MP3), "mp3")
    assert (rate, channels) == (8000, 1) and 1.9 < seconds < 2.2


def _render(monkeypatch, tmp_path, extra: str = "") -> tuple[str, dict]:
    monkeypatch.setenv("HOTLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("HOTLINE_CONFIG", config_with(tmp_path, extra))
    result = CliRunner().invoke(main, ["prompts", "render"])
    assert result.exit_code == 0, result.output
    manifest = tmp_path / "instance" / "audio" / "rendered" / "fa" / "manifest.json"
    return result.output, json.loads(manifest.read_text(encoding="utf-8"))


def test_prompts_render_renders_what_changed_and_notes_recordings(monkeypatch, tmp_path):
    _need(engines.find_engine("fa"))
    output, manifest = _render(monkeypatch, tmp_path)
    assert f"fa: {len(manifest)} rendered, 0 unchanged" in output
    assert {"welcome", "goodbye", "topic_intro", "language_option", "topic_option-health"} <= set(manifest)
    assert not any(name.startswith(("sms_", "window_", "opens_")) for name in manifest)
    goodbye = manifest["goodbye"]
    assert goodbye["text"] == goodbye["engine_text"] == GOODBYE and goodbye["recorded"] is None
    assert "دری" in manifest["language_option"]["engine_text"]  # the menu names Dari
    assert "صفِ انتظار" in manifest["queue_entered"]["engine_text"]  # the ezafe, for the engine only
    assert "صف انتظار" in manifest["queue_entered"]["text"]

    recording = tmp_path / "instance" / "audio" / "fa" / "goodbye.mp3"
    recording.parent.mkdir(parents=True)
    recording.write_bytes(b"ID3 a person said goodbye")
    output, again = _render(monkeypatch, tmp_path, '[prompts.fa]\nconnecting = "متشکریم."\n')
    assert f"fa: 1 rendered, {len(manifest) - 1} unchanged" in output
    assert again["connecting"]["text"] == "متشکریم."
    assert again["connecting"]["file"] != manifest["connecting"]["file"]
    assert again["goodbye"]["recorded"] == str(recording) and "goodbye" in output


def test_the_audio_route_renders_a_signed_text_and_then_serves_it_from_disk(app, client, monkeypatch):
    with app.app_context():
        _need(audio.engine_for("fa"))
        [url] = audio.rendered_urls("fa", "goodbye", {})
    path = url.split("hotline.example.org", 1)[1]
    with client.get(path) as first:
        assert first.status_code == 200 and first.mimetype == output_format().mimetype
        audio_bytes = first.data
    monkeypatch.setattr(store, "telephone_audio", lambda *args: pytest.fail("rendered twice"))
    with client.get(path) as second:
        assert second.data == audio_bytes


@pytest.mark.parametrize("token", ["", "forged", URLSafeSerializer("other key", salt=audio.SALT).dumps("x")])
def test_the_audio_route_renders_no_text_it_did_not_sign(app, client, token):
    assert client.get(f"/audio/fa/r/0123abcd.mp3?say={token}").status_code == 404


def test_the_audio_route_renders_nothing_for_a_language_with_a_voice(app, client):
    with app.app_context():
        token = URLSafeSerializer("test", salt=audio.SALT).dumps("Goodbye.")
    assert client.get(f"/audio/en/r/0123abcd.mp3?say={token}").status_code == 404


def test_healthz_names_the_engine_that_speaks_farsi(app, client):
    with app.app_context():
        engine = _need(audio.engine_for("fa"))
    response = client.get("/healthz")
    assert response.get_json()["speech"] == {"fa": f"{engine.name} {engine.voice}"}


@pytest.mark.speech_engine("none")
def test_without_an_engine_the_start_and_healthz_say_so(caplog, app_config, monkeypatch, tmp_path):
    monkeypatch.setenv("HOTLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    with caplog.at_level(logging.WARNING, logger="hotline.voice.speech.routes"):
        app = create_app(app_config)
    messages = [record.getMessage() for record in caplog.records]
    assert any("no speech engine speaks fa" in message and "in en" in message for message in messages)
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["speech"] == {"fa": "missing"}
    app.extensions["hotline"].db.dispose()


@pytest.mark.parametrize("engine_text", ['goodbye = "خدا {name} نگهدار."', 'no_such_prompt = "سلام."'])
def test_an_engine_text_that_matches_no_prompt_stops_the_service(tmp_path, monkeypatch, engine_text):
    monkeypatch.setenv("HOTLINE_INSTANCE_PATH", str(tmp_path / "instance"))
    config = config_with(tmp_path, f"[prompts.fa.engine]\n{engine_text}\n")
    with pytest.raises(CatalogueError, match="fa.engine"):
        create_app({"HOTLINE_CONFIG": config})


def test_a_sentence_is_cut_around_the_digits_of_a_number_and_only_there():
    raw = load_raw()
    raw["prompts"]["fa"]["engine"]["callback_number_read_back"] = "به شمارهٔ {digits} زنگ می‌زنیم."
    catalogue = Catalogue(raw)
    assert prompts.engine_fragments(catalogue, "fa", "callback_number_read_back", {"digits": "0 8 9"}) == [
        "به شمارهٔ", "0", "8", "9", "زنگ می‌زنیم."]
    raw["prompts"]["en"]["callback_number_read_back"] = "Ending in {digits}."
    assert prompts.engine_fragments(catalogue, "en", "callback_number_read_back", {"digits": "4 5"}) == [
        "Ending in", "4", "5"]  # the full stop alone says nothing: dropped
    assert prompts.engine_fragments(catalogue, "fa", "queue_position", {"position": 12}) == [
        prompts.engine_text(catalogue, "fa", "queue_position", {"position": 12})]
