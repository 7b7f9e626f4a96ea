"""Routing's RQ jobs. Each takes ids, re-reads the rows and checks their state first, so running
one twice, or late, is harmless; the triggers that enqueue them are in routing.offers."""
from __future__ import annotations

from hotline import runtime
from hotline.jobs.context import job_context
from hotline.models import utcnow
from routing import call_end, offers


def offer_next_caller_job(staff_id: int) -> None:
    """Pair consultant `staff_id` with the caller they should take next, if they are free."""
    with job_context():
        runtime.hint_taken(offers.consultant_hint(staff_id))  # before reading: see enqueue_hint
        offers.offer_next_caller(runtime.session(), staff_id)


def find_consultant_job(entry_id: int) -> None:
    """Pair queue entry `entry_id` with the best free consultant, if it is still waiting."""
    with job_context():
        runtime.hint_taken(offers.caller_hint(entry_id))  # before reading: see enqueue_hint
        offers.find_consultant(runtime.session(), entry_id)


def sweep_job() -> None:
    """Periodic (hotline.jobs.periodic): routing.offers.sweep, then routing.call_end.sweep (calls
    whose final status was lost), at the current time."""
    now = utcnow()
    offers.sweep(runtime.session(), now)
    call_end.sweep(runtime.session(), now)
