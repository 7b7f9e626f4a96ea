"""Personal data is kept only as long as configured (`retention_days`): caller numbers and
consultation notes older than that are erased; the anonymous figures stay for reporting."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from hotline import calls, runtime
from hotline.models import OPEN_STATES, Callback, ConsultationRecord, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Purged:
    caller_numbers: int
    notes: int
    callback_numbers: int = 0


def purge_personal_data(session: Session, retention_days: int, now: datetime | None = None) -> Purged:
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    numbers = calls.forget_caller_numbers(session, cutoff)
    notes = session.execute(
        update(ConsultationRecord)
        .where(ConsultationRecord.started_at < cutoff, ConsultationRecord.notes.is_not(None))
        .values(notes=None)
    ).rowcount
    # A callback still open keeps the number it is to call, however old its booking.
    callback_numbers = session.execute(
        update(Callback)
        .where(Callback.created_at < cutoff, Callback.number.is_not(None), Callback.state.not_in(OPEN_STATES))
        .values(number=None)
    ).rowcount
    session.commit()
    return Purged(numbers, notes, callback_numbers)


def purge_job() -> None:
    """Periodic job (hotline.jobs.periodic): erase what has outlived the retention period."""
    purged = purge_personal_data(runtime.session(), int(runtime.catalogue().retention_days))
    log.info("retention: erased %d caller numbers, %d notes and %d callback numbers", purged.caller_numbers,
             purged.notes, purged.callback_numbers)
