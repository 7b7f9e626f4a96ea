"""The [queue] table: how callers wait when nobody suitable is free (catalogue.queue)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hotline.config import CatalogueError, with_defaults


@dataclass(frozen=True)
class QueueRules:
    """How callers wait when nobody suitable is free (the [queue] table; default_config.toml says
    what each value does)."""

    max_size: int  # callers in one language x topic queue (0: no queue)
    max_wait: timedelta  # max_wait_seconds
    announce_seconds: int
    hold_music_url: str
    widen_after: timedelta  # widen_after_seconds
    other_office_after: timedelta  # other_office_after_seconds; zero: both offices serve from the start
    offer_languages_after: timedelta  # offer_languages_after_seconds
    other_languages: tuple[str, ...]
    missed_offer_status: str | None  # "break", "offline", or None: stays available
    urgent_topics: frozenset[str]
    keys: dict[str, str]  # way out or choice -> the key a waiting caller presses for it
    # Answers of a queue in the last 30 minutes an expected wait needs; with fewer none is said.
    estimate_min_answers: int


def _whole(spec: dict[str, Any], name: str, minimum: int = 0) -> int:
    value = spec.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise CatalogueError(f"queue.{name} must be a whole number of at least {minimum}")
    return value


def _keys(spec: dict[str, Any]) -> dict[str, str]:
    keys = {name: str(key) for name, key in spec.get("keys", {}).items()}
    if any(len(key) != 1 or key not in "0123456789*#" for key in keys.values()) \
            or len(set(keys.values())) != len(keys):
        raise CatalogueError("queue.keys must be distinct single keys (0-9, * or #)")
    return keys


def parse_queue(spec: dict[str, Any], languages: set[str], topics: set[str]) -> QueueRules:
    """QueueRules from the [queue] table (over its packaged defaults), checked against the
    configured language and topic codes; CatalogueError names a bad value."""
    spec = with_defaults("queue", spec)
    others = tuple(spec.get("other_languages", ()))
    unknown = sorted(set(others) - languages) + sorted(set(spec.get("urgent_topics", ())) - topics)
    if unknown:
        raise CatalogueError(f"queue names unknown languages or topics: {', '.join(unknown)}")
    keys = _keys(spec)
    missed = spec.get("missed_offer_status") or None
    if missed not in (None, "break", "offline"):
        raise CatalogueError('queue.missed_offer_status must be "break", "offline" or ""')
    return QueueRules(
        max_size=_whole(spec, "max_size"), max_wait=timedelta(seconds=_whole(spec, "max_wait_seconds", 1)),
        announce_seconds=_whole(spec, "announce_seconds", 5), hold_music_url=str(spec["hold_music_url"]),
        widen_after=timedelta(seconds=_whole(spec, "widen_after_seconds")),
        other_office_after=timedelta(seconds=_whole(spec, "other_office_after_seconds")),
        offer_languages_after=timedelta(seconds=_whole(spec, "offer_languages_after_seconds")),
        other_languages=others, missed_offer_status=missed,
        urgent_topics=frozenset(spec.get("urgent_topics", ())), keys=keys,
        estimate_min_answers=_whole(spec, "estimate_min_answers", 1),
    )
