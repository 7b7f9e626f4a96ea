"""Calls' safety net: a call we have heard nothing of for a while may have ended without its final
status callback reaching us, leaving its consultant busy for ever. The sweep asks Twilio's REST API
about each such call and closes those Twilio says ended, exactly as the status callback would have:
an inbound call by end_call, a leg Hotline dialled by the closer its area registered for its
direction (register_leg_closer: a callback's call to the caller, callbacks.caller_leg). The callbacks
area also fails attempts nobody hears of at all (callbacks.reconciliation.fail_stuck_attempts).

Each question is journalled ("status_checked"), so a call Twilio says is still live (a long
conversation, a long wait) is asked about again only after as long a silence again.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import Flask
from sqlalchemy import String, cast, exists, func, select
from sqlalchemy.orm import Session, with_expression

from hotline import calls, runtime
from hotline.models import Call, CallEvent, QueueEntry, QueueState, Staff
from hotline.telephony import TWILIO_ERRORS, rest_client
from routing.offers import after_release, release_call

log = logging.getLogger(__name__)

CHECKED = "status_checked"
BATCH = 50  # calls asked about per sweep: Twilio's answers take time; the next sweep asks the rest
INBOUND = "inbound"
# closer(session, call, Twilio's final CallStatus, CallDuration in seconds or None)
LegCloser = Callable[[Session, Call, str, "int | None"], None]


def register_leg_closer(app: Flask, direction: str, close: LegCloser) -> None:
    """In this app, the sweep asks Twilio about silent calls of `direction` too (Twilio's Direction
    of a leg Hotline dialled, e.g. "outbound-api") and closes one that ended with `close`, which
    does what the leg's own final status callback does."""
    app.extensions["hotline"].leg_closers[direction] = close


def silence_allowed() -> timedelta:
    """How long a live call may go without a webhook or journal entry before Twilio is asked about
    it: the catalogue's stale_call_minutes (checked when the catalogue loads, at least 1)."""
    return timedelta(minutes=runtime.catalogue().stale_call_minutes)


# What end_call needs, read in the same SELECT as the call (hotline.calls.find_call's `loads`) by
# the status callback: the state of the call's queue entry, the consultant's leg still ringing for
# it, and whether any consultant holds the call.
QUEUE_STATE = with_expression(Call.queue_state, func.coalesce(
    select(QueueEntry.state).where(QueueEntry.call_sid == Call.call_sid).scalar_subquery(), ""))
HELD = with_expression(Call.held, exists().where(Staff.current_call_sid == Call.call_sid))
END_CALL_LOADS = (
    QUEUE_STATE,
    with_expression(Call.offer_leg_sid, select(QueueEntry.offer_leg_sid)
                    .where(QueueEntry.call_sid == Call.call_sid, QueueEntry.state == QueueState.offered.value)
                    .scalar_subquery()),
    HELD,
)
# What a call routed by the topic menu needs (ivr.flow.connect): whether it is queued already, and
# whom it was offered to (a consultant ringing for it already is found by the reservation itself).
ROUTING_LOADS = (
    QUEUE_STATE,
    with_expression(Call.offered_to, func.coalesce(
        select(func.aggregate_strings(cast(CallEvent.consultant_id, String), ","))
        .where(CallEvent.call_id == Call.id, CallEvent.kind == "offered").scalar_subquery(), "")),
)


def end_call(session: Session, call: Call, twilio_status: str, duration: int | None) -> None:
    """What a final status callback does (ivr.views.status): the call's consultants are freed (into
    wrap-up) and its queue entry abandoned, the call is closed into its consultation record, all in
    one transaction; then any offer still ringing for it is given up and the consultants freed are
    paired again. `duration`: Twilio's CallDuration, in seconds. Safe to run again. `call` read with
    END_CALL_LOADS saves reading its entry here."""
    if call.held is None:  # read without END_CALL_LOADS (the sweep)
        entry = session.scalar(select(QueueEntry).where(QueueEntry.call_sid == call.call_sid))
        queued, held = entry is not None, True
        leg = entry.offer_leg_sid if entry is not None and entry.state == QueueState.offered.value else None
    else:
        queued, held, leg = bool(call.queue_state), bool(call.held), call.offer_leg_sid
    freed = release_call(session, call.call_sid, queued, held)
    calls.close_call(session, call, twilio_status, duration)  # commits the release with the close
    after_release(leg, freed)


def silent_calls(session: Session, now: datetime) -> list[Call]:
    """Calls still open, inbound or of a direction with a registered closer (register_leg_closer),
    whose last sign of life (their latest journal entry, or their start) is older than
    silence_allowed() before `now` (UTC); the longest silent first, at most BATCH."""
    cutoff = now - silence_allowed()
    directions = (INBOUND, *runtime.current().leg_closers)
    last_heard = func.coalesce(
        select(func.max(CallEvent.at)).where(CallEvent.call_id == Call.id).scalar_subquery(), Call.started_at)
    return list(session.scalars(
        select(Call).where(Call.ended_at.is_(None), Call.direction.in_(directions), Call.started_at <= cutoff,
                           last_heard <= cutoff)
        .order_by(last_heard).limit(BATCH)))


def sweep(session: Session, now: datetime) -> int:
    """Ask Twilio about every silent call (silent_calls) and end those it says ended: an inbound
    call by end_call, another by its direction's closer. A call Twilio does not answer for is left
    as it is, to be asked again after another silence. Returns how many calls were ended."""
    ended = 0
    closers = runtime.current().leg_closers
    for call in silent_calls(session, now):
        try:
            found = rest_client().calls(call.call_sid).fetch()
            status, duration = found.status, _seconds(found.duration)
        except TWILIO_ERRORS as error:
            status, duration = f"error {getattr(error, 'code', None) or type(error).__name__}", None
            log.warning("could not ask Twilio about silent call %s: %s", call.call_sid, status)
        # Dated `now`, not by the database's clock: the next sweep measures the silence from it.
        calls.record_event(session, call, CHECKED, status, at=now)
        if status in calls.FINAL_STATUSES:
            log.info("call %s ended (%s) without its status callback: closed", call.call_sid, status)
            closers.get(call.direction, end_call)(session, call, status, duration)
            ended += 1
    return ended


def _seconds(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdecimal() else None
