"""The [board] table: the supervisor's live board's service-level target and when a long wait is
highlighted (catalogue.board, read by dashboards.board)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotline.config import CatalogueError, with_defaults


@dataclass(frozen=True)
class BoardRules:
    """The [board] table: the service level's target and when a long wait is highlighted."""
    service_level_seconds: int  # callers answered within this many seconds of queueing count as served
    longest_wait_alert_seconds: int  # a queue whose longest wait passes this is highlighted


def parse(spec: dict[str, Any]) -> BoardRules:
    """BoardRules from the [board] table (a dict, over its packaged defaults); CatalogueError names a
    bad value (each a whole number of seconds from 1 to 86400)."""
    spec = with_defaults("board", spec)
    values = {}
    for name in ("service_level_seconds", "longest_wait_alert_seconds"):
        value = spec[name]
        if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 86400:
            raise CatalogueError(f"board.{name} must be a whole number of seconds from 1 to 86400")
        values[name] = value
    return BoardRules(**values)
