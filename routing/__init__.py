"""Routing: which consultant takes a call, and the reservation that keeps it to one at a time.

Public surface: offer_call, accept, release, finish, set_status, effective_status, candidates;
queues (routing.queues, routing.queue_pick): enqueue, position, estimated_wait, widen_entry,
accept_languages, next_caller_for, claim, unclaim, unclaim_stale, mark_bridged, mark_left,
queue_figures; pairing a waiting caller with a free consultant (routing.pairing): caller_for,
consultant_for, holders.
"""
from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline.models import Staff, Status
from routing.candidates import candidates, free_consultants, language_on_duty
from routing.pairing import caller_for, consultant_for
from routing.queue_pick import OfficeRule, next_caller_for
from routing.queues import (
    accept_languages,
    claim,
    enqueue,
    enqueue_waiting,
    entry_for_call,
    estimated_wait,
    leave,
    mark_bridged,
    mark_left,
    position,
    queue_figures,
    queue_length,
    unbridge,
    unclaim,
    unclaim_stale,
    widen_entry,
)
from routing.reservation import accept, effective_status, finish, holders, release, reserve, set_status


def offer_call(session: Session, call_sid: str, language: str, topic: str, office: str,
               exclude: Collection[int] = (), only_office: bool = False) -> Staff | None:
    """Reserve the best free consultant for the call, or None if nobody suitable is free.

    Candidates are tried in order; one taken by a concurrent call since the query is skipped.
    A retried webhook finds the consultant already ringing for this call and gets them again,
    rather than a second consultant.
    """
    held = session.scalar(select(Staff).where(Staff.current_call_sid == call_sid,
                                              Staff.status == Status.offered.value))
    if held is not None:
        return held
    while True:
        found = candidates(session, language, topic, office, exclude, only_office=only_office)
        if not found:
            return None
        for staff in found:
            if reserve(session, staff.id, call_sid):
                session.refresh(staff)
                return staff
        exclude = [*exclude, *(staff.id for staff in found)]


__all__ = ["offer_call", "accept", "release", "finish", "set_status", "effective_status", "candidates",
           "enqueue", "position", "estimated_wait", "accept_languages", "next_caller_for", "claim",
           "unclaim", "unclaim_stale", "mark_bridged", "mark_left", "queue_figures", "caller_for", "consultant_for",
           "holders", "reserve", "OfficeRule", "enqueue_waiting", "free_consultants", "language_on_duty", "entry_for_call", "leave",
           "queue_length", "widen_entry", "unbridge"]
