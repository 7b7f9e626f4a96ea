"""The [callbacks] table: when and how a caller who cannot wait is called back (catalogue.callbacks,
read by the callbacks area through callbacks.rules.rules())."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from typing import Any

from hotline.config import CatalogueError, with_defaults


@dataclass(frozen=True)
class CallbackRules:
    """The [callbacks] table (default_config.toml says what each value does)."""

    enabled: bool  # offered in the queue, when the queue is full, and after hours
    max_attempts: int  # attempts that ring the caller before the callback is unreachable (1-10)
    retry_after: tuple[timedelta, ...]  # retry_minutes: before the 2nd, 3rd... attempt; the last one repeats
    caller_ring_seconds: int
    morning_ends: time  # local time splitting the morning and afternoon windows offered
    sms: bool
    sms_from: str  # "": TWILIO_PHONE_NUMBER
    stuck_after: timedelta  # stuck_minutes: an attempt with no word from Twilio this long has failed

    def retry_delay(self, attempts_made: int) -> timedelta:
        """How long after attempt number `attempts_made` (1-based) the next one may be made."""
        return self.retry_after[min(attempts_made, len(self.retry_after)) - 1]


def parse(spec: dict[str, Any]) -> CallbackRules:
    """CallbackRules from the [callbacks] table (over its packaged defaults); CatalogueError names
    a bad value."""
    spec = with_defaults("callbacks", spec)
    retry = spec["retry_minutes"]
    if not isinstance(retry, list) or not retry or not all(isinstance(m, int) and m > 0 for m in retry):
        raise CatalogueError("callbacks.retry_minutes must be a list of positive whole minutes")
    attempts = spec["max_attempts"]
    if not isinstance(attempts, int) or not 1 <= attempts <= 10:
        raise CatalogueError("callbacks.max_attempts must be a whole number from 1 to 10")
    try:
        morning_ends = time.fromisoformat(spec["morning_ends"])
    except (TypeError, ValueError):
        raise CatalogueError('callbacks.morning_ends must be a time like "13:00"') from None
    return CallbackRules(
        enabled=bool(spec["enabled"]), max_attempts=attempts,
        retry_after=tuple(timedelta(minutes=m) for m in retry),
        caller_ring_seconds=int(spec["caller_ring_seconds"]), morning_ends=morning_ends,
        sms=bool(spec["sms"]), sms_from=str(spec["sms_from"]),
        stuck_after=timedelta(minutes=int(spec["stuck_minutes"])),
    )
