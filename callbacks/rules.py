"""The [callbacks] table of the configuration, read once per catalogue."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta
from functools import lru_cache

from hotline import runtime
from hotline.catalogue import Catalogue, CatalogueError


@dataclass(frozen=True)
class CallbackRules:
    enabled: bool
    max_attempts: int
    retry_after: tuple[timedelta, ...]  # before the 2nd, 3rd... attempt; the last one repeats
    caller_ring_seconds: int
    morning_ends: time
    sms: bool
    sms_from: str
    stuck_after: timedelta

    def retry_delay(self, attempts_made: int) -> timedelta:
        """How long after attempt number `attempts_made` (1-based) the next one may be made."""
        return self.retry_after[min(attempts_made, len(self.retry_after)) - 1]


def parse(spec: dict) -> CallbackRules:
    retry = spec.get("retry_minutes", [15])
    if not isinstance(retry, list) or not retry or not all(isinstance(m, int) and m > 0 for m in retry):
        raise CatalogueError("callbacks.retry_minutes must be a list of positive whole minutes")
    attempts = spec.get("max_attempts", 3)
    if not isinstance(attempts, int) or not 1 <= attempts <= 10:
        raise CatalogueError("callbacks.max_attempts must be a whole number from 1 to 10")
    try:
        morning_ends = time.fromisoformat(spec.get("morning_ends", "13:00"))
    except (TypeError, ValueError):
        raise CatalogueError('callbacks.morning_ends must be a time like "13:00"') from None
    return CallbackRules(
        enabled=bool(spec.get("enabled", True)), max_attempts=attempts,
        retry_after=tuple(timedelta(minutes=m) for m in retry),
        caller_ring_seconds=int(spec.get("caller_ring_seconds", 30)), morning_ends=morning_ends,
        sms=bool(spec.get("sms", True)), sms_from=str(spec.get("sms_from", "")),
        stuck_after=timedelta(minutes=int(spec.get("stuck_minutes", 15))),
    )


@lru_cache(maxsize=8)
def _of(catalogue: Catalogue) -> CallbackRules:
    return parse(catalogue.raw.get("callbacks", {}))


def rules() -> CallbackRules:
    return _of(runtime.catalogue())
