"""The callbacks area's RQ jobs. Each takes ids, re-reads its rows and checks their state first,
so running one twice, or late, is harmless; none is the only record of work to do (the
reconciliation finds what a lost job leaves)."""
from __future__ import annotations

import logging

from callbacks import schedule, sms
from hotline import runtime
from hotline.jobs.context import job_context
from hotline.models import utcnow

log = logging.getLogger(__name__)


def wake_job(callback_id: int) -> None:
    """A callback's time has come (RQ's scheduler): schedule.wake, now."""
    with job_context():
        schedule.wake(runtime.session(), callback_id, utcnow())


def wake_due_job() -> None:
    """Callbacks are due (RQ's scheduler, at the moment they were booked for, e.g. an opening):
    schedule.wake_due, now, batch after batch until none is left to wake."""
    with job_context():
        session, now = runtime.session(), utcnow()
        while schedule.wake_due(session, now) == schedule.WAKE_BATCH:
            pass


def send_sms_job(callback_id: int, kind: str) -> None:
    """sms.send: the callback's "booked" or "unreachable" SMS, once. Raises sms.SmsNotSent when
    Twilio did not take it, so that RQ retries the job (sms.RETRY)."""
    with job_context():
        sms.send(runtime.session(), callback_id, kind)


def reconcile_job() -> None:
    """Periodic (hotline.jobs.periodic): schedule.reconcile at the current time."""
    woken = schedule.reconcile(runtime.session(), utcnow())
    if woken:
        log.info("reconciliation woke %d callbacks", woken)
