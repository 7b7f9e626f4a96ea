"""The top-level settings of the configuration (above its first table): the call flow's defaults
and limits, data retention and where prompt audio lives. The Catalogue gives each out under its
own name (catalogue.dial_timeout); default_config.toml holds the defaults."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotline.config import CatalogueError, with_defaults


@dataclass(frozen=True, eq=False)  # eq=False: a Catalogue (a General) is hashed and compared as itself
class General:
    """The top-level settings (default_config.toml says more of each)."""

    default_language: str  # used when a caller chooses no language after every retry
    greeting_languages: tuple[str, ...]  # the welcome and "sorry" before a language is known
    staff_language: str  # what consultants hear (the whisper), see hotline.voice.speaking
    default_topic: str  # used when a caller chooses no topic after every retry
    menu_retries: int  # how often a menu is asked again after no input or a wrong key
    menu_timeout: int  # seconds of silence before a menu counts as "no input"
    dial_timeout: int  # seconds a consultant's phone rings before the next one is tried
    wrap_up_seconds: int  # after a call a consultant is in wrap-up this long, then available
    stale_call_minutes: int  # a live call silent this long is looked up in Twilio
    max_consultant_attempts: int  # consultants offered one call before the caller hears all are busy
    retention_days: int  # caller numbers and notes are erased after this many days
    audio_dir: str  # recorded and rendered prompts; "": <instance>/audio


# Whole-number settings and their least value.
_WHOLE = {"menu_retries": 0, "menu_timeout": 1, "dial_timeout": 1, "wrap_up_seconds": 0,
          "max_consultant_attempts": 1, "retention_days": 1}


def _whole(spec: dict[str, Any], name: str, minimum: int) -> int:
    value = spec[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise CatalogueError(f"{name} must be a whole number of at least {minimum}")
    return value


def _code(spec: dict[str, Any], name: str, known: set[str], what: str) -> str:
    value = spec[name]
    if value not in known:
        raise CatalogueError(f"{name} must name a configured {what}, not {value!r}")
    return value


def parse_general(raw: dict[str, Any], languages: set[str], topics: set[str]) -> General:
    """The top-level settings of `raw` (the merged TOML; packaged defaults for any it lacks),
    checked against the configured language and topic codes. CatalogueError names a bad value."""
    spec = with_defaults(None, {key: value for key, value in raw.items() if not isinstance(value, dict)})
    stale = spec["stale_call_minutes"]
    if isinstance(stale, bool) or not isinstance(stale, int) or stale < 1:
        raise CatalogueError("stale_call_minutes must be a whole number of minutes, at least 1")
    greeting = spec["greeting_languages"]
    if not isinstance(greeting, list) or not greeting or not set(greeting) <= languages:
        raise CatalogueError(f"greeting_languages must list configured languages, not {greeting!r}")
    return General(
        default_language=_code(spec, "default_language", languages, "language"),
        greeting_languages=tuple(greeting),
        staff_language=_code(spec, "staff_language", languages, "language"),
        default_topic=_code(spec, "default_topic", topics, "topic"),
        stale_call_minutes=stale, audio_dir=str(spec["audio_dir"]),
        **{name: _whole(spec, name, minimum) for name, minimum in _WHOLE.items()},
    )
