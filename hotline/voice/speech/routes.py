"""/audio: the prompt audio Twilio <Play>s, and the start-up report of the speech engines."""
from __future__ import annotations

import logging
import subprocess

from flask import Blueprint, Flask, abort, request, send_file

from hotline import runtime
from hotline.catalogue import CatalogueError
from hotline.voice.speech import audio, prompts, store
from hotline.voice.speech.engines import EngineError
from hotline.voice.speech.telephone import FORMATS, output_format

log = logging.getLogger(__name__)
blueprint = Blueprint("audio", __name__, url_prefix="/audio")


def _safe(lang: str, name: str) -> bool:
    return lang.isalpha() and name.replace("-", "_").isidentifier()


@blueprint.get("/<lang>/<name>.<ext>")
def prompt(lang: str, name: str, ext: str):
    """A recording a person made (store.recording_for): 404 if there is none of that name."""
    path = store.recording_for(lang, name) if _safe(lang, name) and ext in FORMATS else None
    if path is None or not path.name.endswith(f".{ext}"):
        abort(404)
    return send_file(path, mimetype=FORMATS[ext].mimetype)


@blueprint.get("/<lang>/r/<name>.<ext>")
def rendered(lang: str, name: str, ext: str):
    """A rendered prompt: from disk, or rendered now from the signed text of `say` (audio.rendered_urls).
    404 for a text we did not sign or a language no engine speaks here; 503 if the engine fails."""
    text = audio.text_of(request.args.get("say", ""))
    voiceless = lang in audio.voiceless_languages(runtime.catalogue())
    engine = audio.engine_for(lang) if text and voiceless else None
    if engine is None:
        abort(404)
    fmt = output_format()
    try:
        path, fresh = store.rendered(lang, text, engine, fmt)
    except (EngineError, OSError, subprocess.SubprocessError) as error:
        log.error("rendering a %s prompt failed: %s", lang, error)
        abort(503)
    if fresh:
        log.info("rendered a %s prompt on first use: %s", lang, path.name)
    return send_file(path, mimetype=fmt.mimetype, max_age=86400)


def report_engines(app: Flask) -> None:
    """Log, at start, which engine speaks each voiceless language, or that none does (its callers
    then hear the fallback language)."""
    with app.app_context():
        catalogue = runtime.catalogue()
        for lang, status in audio.engine_status(catalogue).items():
            if status == "missing":
                fallback = catalogue.language(lang).fallback or catalogue.default_language
                log.warning("no speech engine speaks %s here: its callers hear prompts in %s "
                            "(install espeak-ng, or see the README's Farsi section)", lang, fallback)
            else:
                log.info("%s prompts are spoken by %s", lang, status)


def init_app(app: Flask) -> None:
    """Register /audio and report the engines. CatalogueError if an engine text is unsound."""
    problems = prompts.engine_text_problems(app.extensions["hotline"].catalogue.prompts)
    if problems:
        raise CatalogueError("prompt catalogue: " + "; ".join(problems))
    app.register_blueprint(blueprint)
    report_engines(app)
