"""Personal data is kept only as long as configured (`retention_days`): caller numbers and
consultation notes older than that are erased; the anonymous figures stay for reporting."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from callbacks import retention as callback_retention
from hotline import calls, records, runtime
from hotline.models import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    caller_numbers: int
    notes: int
    callback_numbers: int = 0


def purge_personal_data(session: Session, retention_days: int, now: datetime | None = None) -> Purged:
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    numbers = calls.forget_caller_numbers(session, cutoff)
    notes = records.forget_notes(session, cutoff)
    callback_numbers = callback_retention.forget_numbers(session, cutoff)  # the callbacks area's own
    session.commit()
    return Purged(numbers, notes, callback_numbers)


def purge_job() -> None:
    """Periodic job (hotline.jobs.periodic): erase what has outlived the retention period."""
    purged = purge_personal_data(runtime.session(), int(runtime.catalogue().retention_days))
    log.info("retention: erased %d caller numbers, %d notes and %d callback numbers", purged.caller_numbers,
             purged.notes, purged.callback_numbers)
