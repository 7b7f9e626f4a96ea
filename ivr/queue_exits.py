"""Ways out of the queue (a callback, a voicemail) that other areas offer to waiting callers.

An area registers its way out when its feature is built; until then the queue does not mention it.
The key a caller presses for each is configured in [queue.keys]. A way out is a function that
takes the caller's call and the TwiML being built, and returns that TwiML with what comes next.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from hotline import services
from hotline.models import Call

Handler = Callable[[Session, Call, VoiceResponse], VoiceResponse]


@dataclass(frozen=True)
class WayOut:
    name: str  # its key in [queue.keys]
    prompt: str  # the prompt that offers it, with a {digit} field
    handler: Handler


_registered: dict[str, WayOut] = {}


def register(name: str, prompt: str, handler: Handler) -> None:
    """Offer `name` to waiting callers (called at import by the area that provides it)."""
    _registered[name] = WayOut(name, prompt, handler)


def unregister(name: str) -> None:
    _registered.pop(name, None)


def offered() -> list[tuple[str, WayOut]]:
    """(key, way out) for each registered way out that has a key, in key order."""
    keys = services.catalogue().queue.keys
    return sorted((keys[name], way) for name, way in _registered.items() if name in keys)


def by_key(digits: str | None) -> WayOut | None:
    return next((way for key, way in offered() if key == (digits or "").strip()), None)


def by_name(name: str | None) -> WayOut | None:
    return _registered.get(name or "")
