"""Ways out of the queue (a callback, a voicemail) that other areas offer to waiting callers.

An area registers its way out in its init_app (per app, not per process), when its feature is
enabled; until then the queue does not mention it.
The key a caller presses for each is configured in [queue.keys]. A way out is a function that
takes the caller's call and the TwiML being built, and returns that TwiML with what comes next.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Flask
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from hotline import runtime
from hotline.models import Call

Handler = Callable[[Session, Call, VoiceResponse], VoiceResponse]


@dataclass(frozen=True)
class WayOut:
    name: str  # its key in [queue.keys]
    prompt: str  # the prompt that offers it, with a {digit} field
    handler: Handler


def register(app: Flask, name: str, prompt: str, handler: Handler) -> None:
    """Offer `name` to the app's waiting callers, announced with prompt `prompt` (with a {digit}
    field); `handler(session, call, resp)` returns the TwiML of what follows."""
    app.extensions["hotline"].ways_out[name] = WayOut(name, prompt, handler)


def unregister(app: Flask, name: str) -> None:
    """Stop offering `name` in this app (nothing if it was not offered)."""
    app.extensions["hotline"].ways_out.pop(name, None)


def _registered() -> dict[str, WayOut]:
    return runtime.current().ways_out


def offered() -> list[tuple[str, WayOut]]:
    """(key, way out) for each registered way out that has a key, in key order."""
    keys = runtime.catalogue().queue.keys
    return sorted((keys[name], way) for name, way in _registered().items() if name in keys)


def by_key(digits: str | None) -> WayOut | None:
    return next((way for key, way in offered() if key == (digits or "").strip()), None)


def by_name(name: str | None) -> WayOut | None:
    return _registered().get(name or "")
