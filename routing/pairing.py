"""Pairing a waiting caller with a free consultant, from either side, atomically.

A pair is two compare-and-set changes: the queue entry is claimed (waiting -> offered) and the
consultant reserved (free -> offered, holding the caller's call). Whichever side is taken first,
if the second fails the first is undone, so no consultant holds two callers and no caller two
consultants, whatever number of web processes and workers try at once.
"""
from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hotline.models import QueueEntry, QueueState, Staff
from routing.candidates import Reserved, candidates, reserve_best
from routing.pick_next import OfficeRule, next_caller_for
from routing.queues import claim, unassign
from routing.reservation import reserve
from routing.takers import tiers

# A pick can lose its race to another worker; after this many lost races the job gives up and
# the next trigger (or the periodic sweep) tries again.
ATTEMPTS = 5


def caller_for(session: Session, staff: Staff, now: datetime, widen_after: timedelta,
               office_rule: OfficeRule | None = None) -> QueueEntry | None:
    """Claim the waiting caller this free consultant should take, and reserve the consultant for
    them; None if nobody suitable waits or the consultant is no longer free."""
    # The consultant is reserved first: two jobs for the same consultant then cannot each claim a
    # caller (the loser would put the head of the queue back after the winner took the next one).
    # Both in one transaction, as in consultant_for: a fault between them leaves neither.
    for _ in range(ATTEMPTS):
        entry = next_caller_for(session, staff, now, widen_after, office_rule)
        if entry is None:
            return None
        if not reserve(session, staff.id, entry.call_sid, commit=False):
            session.rollback()
            return None  # the consultant was taken meanwhile
        if _claim_for(session, entry, staff, now):
            return entry
        # Another consultant took this caller first: the reservation was rolled back; next caller.
    return None


def consultant_for(session: Session, entry: QueueEntry, now: datetime, widen_after: timedelta,
                   exclude: tuple[int, ...] = (), office_rule: OfficeRule | None = None) -> Staff | None:
    """Reserve the best free consultant for this waiting caller and claim the caller for them;
    None if nobody suitable is free or the caller is no longer waiting."""
    if entry.state != QueueState.waiting.value:
        return None
    if entry.assigned_staff_id is not None:  # a callback staff gave to one consultant: only them
        assigned = session.get(Staff, entry.assigned_staff_id)
        if assigned is not None and assigned.active and assigned.phone:
            return _pair(session, entry, assigned, now)
        # They can no longer take calls (left, no phone): anyone suitable, rather than nobody ever.
        unassign(session, entry)
    for language, topic, own_office in tiers(entry, now, widen_after, office_rule):
        for staff in candidates(session, language, topic, entry.office_code, exclude, only_office=own_office):
            if not reserve(session, staff.id, entry.call_sid, commit=False):
                session.commit()  # nothing changed: ends the transaction, as before
                continue  # taken by another call since the query
            if _claim_for(session, entry, staff, now):
                return staff
            return None  # the caller went to another consultant
    return None


def _pair(session: Session, entry: QueueEntry, staff: Staff | None, now: datetime) -> Staff | None:
    """Reserve this one consultant (if free) and claim the entry for them."""
    if staff is None or not staff.phone:
        return None
    if not reserve(session, staff.id, entry.call_sid, commit=False):
        session.commit()  # nothing changed: ends the transaction, as before
        return None
    return staff if _claim_for(session, entry, staff, now) else None


def _claim_for(session: Session, entry: QueueEntry, staff: Staff, now: datetime) -> bool:
    """The consultant's reservation is made, not committed: claim the entry in the same
    transaction and commit both (one commit, and never one without the other), or roll the
    reservation back if another consultant took the caller first."""
    if not claim(session, entry.id, staff.id, now, commit=False):
        session.rollback()
        return False
    session.commit()
    _paired(session, entry, staff, now)
    return True


def _paired(session: Session, entry: QueueEntry, staff: Staff, now: datetime) -> None:
    """After reserve() and claim() both succeeded: the entry's new values are known (set on it, not
    read back), the consultant's reserved columns are expired (read back only if used)."""
    set_committed_value(entry, "state", QueueState.offered.value)
    set_committed_value(entry, "offered_staff_id", staff.id)
    set_committed_value(entry, "offered_at", now)
    session.expire(staff, ["status", "current_call_sid", "status_since", "wrap_up_until"])


def offer_call(session: Session, call_sid: str, language: str, topic: str, office: str,
               exclude: Collection[int] = (), only_office: bool = False) -> Reserved | None:
    """Reserve the best free consultant for the call and commit, or None if nobody suitable is free.
    A retried webhook finds the consultant already ringing for this call and gets them again,
    rather than a second consultant."""
    held, _ = reserve_for_call(session, call_sid, language, topic, office, exclude, only_office)
    return held


def reserve_for_call(session: Session, call_sid: str, language: str, topic: str, office: str,
                     exclude: Collection[int] = (), only_office: bool = False,
                     commit: bool = True) -> tuple[Reserved | None, bool]:
    """The consultant holding the call (routing.candidates.Reserved: id and phone), and whether
    this call of it made the reservation (False: they were ringing for it already, reserved by a
    retry or twin of the webhook); (None, False) if nobody suitable is free. One statement
    (candidates.reserve_best) unless a concurrent transaction takes the consultant picked: then
    the pick is made again, up to ATTEMPTS times (after that the caller is queued, and the queue's
    own pairing finds them a consultant). With commit=False the reservation is committed with the
    rest of the caller's step."""
    held = None
    for _ in range(ATTEMPTS):
        picked, held = reserve_best(session, call_sid, language, topic, office, exclude, only_office)
        if held is not None or not picked:
            break
    if commit:
        session.commit()
    return held, held is not None and held.reserved
