"""The offer lifecycle: pairing a waiting caller with a consultant (routing.pairing decides who),
ringing the consultant's phone through Twilio's REST API, and what follows when the offer is taken,
not taken, or its caller is gone.

A pairing is tried whenever one side may have become possible: a consultant becomes free (a status
they set, the end of a wrap-up, a released offer), a caller is widened, an offer is not taken, a
caller enters the queue while someone who could take them is free (ivr.on_hold looks once after
the entry's commit: a consultant freed later has a job of their own that reads the entry). Each
trigger enqueues an RQ job (routing.jobs) after the change that allows it was committed, best
effort: a periodic sweep catches any trigger that was lost. Jobs re-read the database, so running
one twice, or late, is harmless.

Queue entries that are not live callers (a callback that is due) are rung by the area that owns
them, through a ringer registered per app (register_ringer).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from hotline import calls, hours, runtime
from hotline.models import Call, QueueEntry, QueueState, Staff, utcnow
from hotline.telephony import TWILIO_ERRORS, external_url, rest_client
from routing.pairing import caller_for, consultant_for
from routing.pick_next import OfficeRule
from routing.queues import abandon, record_offer_leg, unclaim, unclaim_stale
from routing.reservation import effective_status, finish, free_holders, release
from routing.takers import PickRules, waiting_takers

log = logging.getLogger(__name__)

OFFERED = QueueState.offered.value
# Why an offer was not taken when Twilio's REST API failed to ring the consultant's phone.
OFFER_FAILED = "offer_failed"
# Twilio call statuses of a consultant's leg that end it without a conversation.
UNANSWERED = {"no-answer", "busy", "failed", "canceled"}


def office_rule(now: datetime) -> OfficeRule | None:
    """Callers stay with their own office's consultants for other_office_after (unless their
    office is closed now); None when both offices serve every caller from the start."""
    catalogue = runtime.catalogue()
    after = catalogue.queue.other_office_after
    if not after:
        return None
    return OfficeRule(after, frozenset(o.code for o in catalogue.offices if hours.is_open(o, now)))


def pick_rules(now: datetime) -> PickRules:
    """When waiting callers widen at `now` (aware, UTC), by the catalogue's [queue]: widen_after
    and office_rule(now). Needs an app context."""
    return PickRules(runtime.catalogue().queue.widen_after, office_rule(now))


# -- triggers: enqueue a job; called after the change that allows a pairing is committed ---------

def consultant_may_be_free(staff_id: int, at: datetime | None = None) -> None:
    """Look for a waiting caller for this consultant now, or at `at` (UTC: the end of a wrap-up).
    Best effort (runtime.enqueue_hint): with Redis down, the sweep pairs them. Asked again before
    the job queued for them started, nothing more is queued (that job reads after this commit)."""
    runtime.enqueue_hint("routing.jobs.offer_next_caller_job", staff_id, at=at,
                          coalesce=consultant_hint(staff_id))


def caller_may_be_served(entry_id: int) -> None:
    """Look for a free consultant for this waiting caller. Best effort, and coalesced, like
    consultant_may_be_free: a caller entering the queue and widened before the worker took the
    job gets one job."""
    runtime.enqueue_hint("routing.jobs.find_consultant_job", entry_id, coalesce=caller_hint(entry_id))


def consultant_hint(staff_id: int) -> str:
    """The coalescing key of offer_next_caller_job(staff_id) (runtime.enqueue_hint)."""
    return f"offer_next_caller:{staff_id}"


def caller_hint(entry_id: int) -> str:
    """The coalescing key of find_consultant_job(entry_id) (runtime.enqueue_hint)."""
    return f"find_consultant:{entry_id}"


def call_ended(session: Session, call_sid: str) -> None:
    """The caller's call is over: give up any offer still ringing for them, and look for the next
    caller for the consultants it freed (at the end of their wrap-up)."""
    entry = session.scalar(select(QueueEntry).where(QueueEntry.call_sid == call_sid))
    freed = release_call(session, call_sid, entry is not None)
    session.commit()
    after_release(entry.offer_leg_sid if entry is not None and entry.state == OFFERED else None, freed)


def release_call(session: Session, call_sid: str, queued: bool, held: bool = True
                 ) -> list[tuple[int, datetime | None]]:
    """call_ended's changes, in the caller's transaction (not committed): if the call was `queued`,
    its queue entry is marked abandoned; then its consultants are freed (free_holders), skipped
    when it was neither queued nor `held` by anyone as read with the call. Returns (staff id, end
    of wrap-up) of each consultant freed, for after_release once the transaction is committed."""
    if queued:
        # The entry first: a pairing that claims it after this fails (and rolls its reservation
        # back); one that claimed it before has committed its reservation, which is freed below.
        _, offered_to = abandon(session, call_sid, utcnow())
        held = held or offered_to is not None
    if not held:
        return []
    return free_holders(session, call_sid, runtime.catalogue().wrap_up_seconds)


def after_release(offer_leg_sid: str | None, freed: list[tuple[int, datetime | None]]) -> None:
    """After release_call's changes are committed: stop the consultant's phone still ringing for
    the caller (`offer_leg_sid`, None if none), and pair each consultant freed at the end of their
    wrap-up."""
    cancel_leg(offer_leg_sid)
    for staff_id, wrap_up_until in freed:
        consultant_may_be_free(staff_id, wrap_up_until)


def consultant_status_changed(session: Session, staff: Staff, was_offered: str | None) -> None:
    """After a consultant's status was set by hand: an offer they were ringing for goes to the
    next consultant, and a consultant now available gets the next waiting caller."""
    if was_offered:
        entry = session.scalar(select(QueueEntry).where(QueueEntry.call_sid == was_offered,
                                                        QueueEntry.offered_staff_id == staff.id))
        if entry is not None and unclaim(session, entry.id, staff.id):
            cancel_leg(entry.offer_leg_sid)
            caller_may_be_served(entry.id)
    if effective_status(staff) == "available":
        consultant_may_be_free(staff.id)


# -- pairing (run by routing.jobs) -----------------------------------------------------------------

def offer_next_caller(session: Session, staff_id: int) -> QueueEntry | None:
    """Pair a free consultant with the caller they should take next, and ring them."""
    paired = pair_next_caller(session, staff_id)
    if paired is None:
        return None
    entry, staff = paired
    return entry if ring(session, entry, staff) else None


def pair_next_caller(session: Session, staff_id: int) -> tuple[QueueEntry, Staff] | None:
    """Pair consultant `staff_id`, if active, reachable and free, with the caller they should take
    next (routing.pairing.caller_for: reserved and claimed, committed), not yet rung. Returns the
    entry and the consultant, or None if there is no such pair."""
    staff = session.get(Staff, staff_id)
    if staff is None or not staff.active or not staff.phone:
        return None
    now = utcnow()
    entry = caller_for(session, staff, now, *pick_rules(now))
    return None if entry is None else (entry, staff)


def find_consultant(session: Session, entry_id: int) -> Staff | None:
    """Pair a waiting caller with the best free consultant, and ring them."""
    entry = session.get(QueueEntry, entry_id)
    if entry is None:
        return None
    # Whoever let this caller ring out already is not rung for them again.
    missed = tuple(calls.consultants_with(session, entry.call_id, "not_accepted")) if entry.call_id else ()
    now = utcnow()
    rules = pick_rules(now)
    staff = consultant_for(session, entry, now, rules.widen_after, missed, rules.office_rule)
    if staff is None:
        return None
    # consultant_for claimed the entry (its new state is set on `entry` there): no refresh needed.
    return staff if ring(session, entry, staff) else None


def sweep(session: Session, now: datetime) -> int:
    """Offers whose answer never came go back to waiting, and every free consultant who may take a
    waiting caller at `now` (routing.takers: widened, of the other office, or in a language the
    caller agreed to, as the wait has made them) is paired, longest idle first: a safety net under
    the event-driven jobs, so that no widening waits for the caller's next turn of the wait URL
    longer than the sweep's period. Returns how many pairs were made."""
    unclaim_stale(session, now)
    _, takers = waiting_takers(session, now, pick_rules(now))
    free = set().union(*takers.values())
    if not free:
        return 0
    made = 0
    longest_idle_first = select(Staff.id).where(Staff.id.in_(free)).order_by(Staff.idle_since, Staff.id)
    for staff_id in list(session.scalars(longest_idle_first)):
        if offer_next_caller(session, staff_id) is not None:
            made += 1
    return made


# -- the consultant's phone ------------------------------------------------------------------------

Ringer = Callable[[Session, QueueEntry, Staff], bool]
CALLBACK = "callback"  # the kind of a queue entry with a callback_id


def register_ringer(app: Flask, kind: str, ring_entry: Ringer) -> None:
    """Ring the consultant for queue entries of `kind` (only "callback" so far) with
    `ring_entry(session, entry, staff) -> bool` (True: their phone rings), in this app."""
    app.extensions["hotline"].ringers[kind] = ring_entry


def ring(session: Session, entry: QueueEntry, staff: Staff) -> bool:
    """Ring the consultant reserved for this caller, with the whisper, through the REST API.
    If Twilio refuses, the pairing is undone and the caller goes to the next consultant."""
    if entry.callback_id is not None:
        return runtime.current().ringers[CALLBACK](session, entry, staff)
    call = session.get(Call, entry.call_id)
    catalogue = runtime.catalogue()
    try:
        leg = rest_client().calls.create(
            to=staff.phone, from_=call.called_number or runtime.settings().twilio_phone_number,
            url=external_url("ivr.whisper", call=entry.call_sid, staff=staff.id), method="POST",
            status_callback=external_url("ivr.offer_status", entry=entry.id, staff=staff.id),
            status_callback_method="POST", timeout=catalogue.dial_timeout,
        )
    except TWILIO_ERRORS as error:
        # Twilio's message may quote the consultant's number: log the code only.
        log.warning("could not ring consultant %s for call %s: Twilio error %s", staff.id, entry.call_sid,
                    getattr(error, "code", type(error).__name__))
        offer_not_taken(session, entry.id, staff.id, OFFER_FAILED)
        return False
    kept = record_offer_leg(session, entry.id, staff.id, leg.sid)
    session.commit()
    if not kept:  # the caller hung up, or the consultant went offline, while Twilio placed the call
        cancel_leg(leg.sid)
        return False
    calls.change(session, call, stage="ringing")
    calls.record_event(session, call, "offered", consultant_id=staff.id)
    return True


def offer_not_taken(session: Session, entry_id: int, staff_id: int, why: str) -> bool:
    """The consultant did not take the caller (`why`: rang out, declined, their phone failed, or
    OFFER_FAILED: Twilio's API did not ring it): the caller waits again with their place kept. A
    consultant who let it ring goes on break if so configured, and the caller is offered to the
    next consultant. After OFFER_FAILED the consultant stays available (Twilio's failure is not
    theirs), and nobody is asked at once to pair a callback's entry again: it has no journal to
    leave them out by, so with Twilio failing each job would ring them and start the next; the
    next trigger or the sweep tries. False if the offer was no longer theirs (a late webhook)."""
    entry = session.get(QueueEntry, entry_id)
    if entry is None or not unclaim(session, entry_id, staff_id):
        return False
    failed = why == OFFER_FAILED
    missed_status = None if failed else runtime.catalogue().queue.missed_offer_status
    release(session, entry.call_sid, staff_id, to_status=missed_status)
    call = session.get(Call, entry.call_id) if entry.call_id is not None else None
    if call is not None:  # a callback's entry has no call yet: its attempt row says it
        if call.stage == "ringing":
            calls.change(session, call, stage="queued")
        # Also what keeps find_consultant from ringing them for this caller again.
        calls.record_event(session, call, "not_accepted", why, consultant_id=staff_id)
    if call is not None or not failed:
        caller_may_be_served(entry_id)
    return True


def on_offer_status(session: Session, entry_id: int | None, staff_id: int | None, call_status: str) -> None:
    """The status callback of a consultant's leg. A leg that ends while its offer is still open
    was never accepted (rang out, busy, or hung up during the whisper)."""
    if entry_id is None or staff_id is None or not (call_status in UNANSWERED or call_status == "completed"):
        return
    if offer_not_taken(session, entry_id, staff_id, call_status):
        return
    entry = session.get(QueueEntry, entry_id)
    if entry is not None and entry.state == QueueState.bridged.value and entry.offered_staff_id == staff_id:
        # The consultant hung up after accepting: their part is over (a caller still being put
        # through then goes back to waiting, see on_hold.bridge), and wrap-up starts now.
        finish(session, entry.call_sid, runtime.catalogue().wrap_up_seconds)
        staff = session.get(Staff, staff_id)
        session.refresh(staff)
        consultant_may_be_free(staff_id, staff.wrap_up_until)


def cancel_leg(leg_sid: str | None) -> None:
    """Stop a consultant's phone ringing for a caller who is no longer there."""
    if not leg_sid:
        return
    try:
        rest_client().calls(leg_sid).update(status="canceled")
    except TWILIO_ERRORS:
        try:  # answered already (hearing the whisper): hang it up instead
            rest_client().calls(leg_sid).update(status="completed")
        except TWILIO_ERRORS as error:
            log.info("consultant leg %s already ended (%s)", leg_sid, getattr(error, "code", "?"))
