"""Pairing many free consultants at once (the offices opening with callbacks due), from the
consultants' side: the work follows the consultants free, not the callers waiting.

The pairings are made one after another in the caller's session, longest idle consultant first,
each taking the best caller left (routing.pairing.caller_for: the same two compare-and-sets as
any pairing), so the order is the one routing always keeps. Each consultant paired is rung at
once, beside the next pairings, a few at a time, each in an app context and session of its own:
a REST request to Twilio waits 100-300 ms on the network, so one job rings 100 consultants in
about the time of 100 / RING_AT_ONCE requests rather than 100. A job that dies between a pairing
and its ring leaves the consultant reserved and the caller offered with no phone ringing: the sweep
gives such an offer up after routing.reservation.STALE_OFFER, as for any pairing job that dies so.
"""
from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from flask import current_app
from sqlalchemy.orm import Session

from hotline import runtime
from hotline.models import QueueEntry, Staff
from routing.offers import pair_next_caller, ring

# How many consultants' phones one job rings at once. Each waits on Twilio, not on the CPU; each
# holds a database connection meanwhile (the pool of hotline.db has 15 per process).
RING_AT_ONCE = 8


def pair_consultants(session: Session, staff_ids: Iterable[int]) -> int:
    """Pair each consultant of `staff_ids` (ids, longest idle first: routing.free_consultants'
    order) who is free with the caller they should take next, and ring them, RING_AT_ONCE at a
    time, each as soon as they are paired (ring: a consultant whose phone Twilio refuses is
    unpaired, their caller waits again). Must run in an app context. Returns how many consultants'
    phones were rung. Raises the first error a ring raised (not a Twilio error: ring handles
    those), once every ring has ended."""
    staff_ids = list(staff_ids)
    app = current_app._get_current_object()
    rung = []
    with ThreadPoolExecutor(max_workers=max(1, min(RING_AT_ONCE, len(staff_ids))),
                            thread_name_prefix="ring") as pool:
        for staff_id in staff_ids:
            paired = pair_next_caller(session, staff_id)  # committed when paired
            if paired is not None:
                entry, staff = paired
                rung.append(pool.submit(_ring_in_context, app, entry.id, staff.id))
    return sum(future.result() for future in rung)


def _ring_in_context(app, entry_id: int, staff_id: int) -> bool:
    with app.app_context():  # its own session, closed at the end (hotline.runtime)
        session = runtime.session()
        return ring(session, session.get(QueueEntry, entry_id), session.get(Staff, staff_id))
