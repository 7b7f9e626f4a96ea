"""Personal data is kept only as long as configured (`retention_days`): caller numbers and
consultation notes older than that are erased, and whatever the areas register (callbacks: the
numbers of closed callbacks); the anonymous figures stay for reporting."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy.orm import Session

from hotline import calls, records, runtime
from hotline.models import utcnow

log = logging.getLogger(__name__)
# An area's purge: (session, cutoff in UTC) -> how many rows it erased from, uncommitted.
Purger = Callable[[Session, datetime], int]


@dataclass(frozen=True)
class Purged:
    caller_numbers: int
    notes: int
    callback_numbers: int = 0  # by the purger the callbacks area registers under this name


def register_purger(app: Flask, name: str, purge: Purger) -> None:
    """In this app, purge_personal_data erases with `purge` too, and reports its count as Purged's
    field `name` (an area registers its own in its init_app: the core imports no area)."""
    app.extensions["hotline"].retention_purgers[name] = purge


def purge_personal_data(session: Session, retention_days: int, now: datetime | None = None) -> Purged:
    """Erase the personal data older than `retention_days` days before `now` (UTC; default the
    clock's): caller numbers (hotline.calls), notes (hotline.records) and what the current app's
    registered purgers erase, committed at once. Needs an app context. Returns the counts."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    numbers = calls.forget_caller_numbers(session, cutoff)
    notes = records.forget_notes(session, cutoff)
    counts = {name: purge(session, cutoff) for name, purge in runtime.current().retention_purgers.items()}
    session.commit()
    return Purged(numbers, notes, **counts)


def purge_job() -> None:
    """Periodic job (hotline.jobs.periodic): erase what has outlived the retention period."""
    purged = purge_personal_data(runtime.session(), int(runtime.catalogue().retention_days))
    log.info("retention: erased %d caller numbers, %d notes and %d callback numbers", purged.caller_numbers,
             purged.notes, purged.callback_numbers)
