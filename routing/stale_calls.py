"""Live calls' safety net (callbacks have theirs in callbacks.placing.fail_stuck_attempts): a call
we have heard nothing of for a while may have ended without its final status callback reaching us,
leaving its consultant busy for ever. The sweep asks Twilio's REST API about each such call and
closes those Twilio says ended, exactly as the status callback would have (end_call).

Each question is journalled ("status_checked"), so a call Twilio says is still live (a long
conversation, a long wait) is asked about again only after as long a silence again.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hotline import calls, services
from hotline.catalogue import CatalogueError
from hotline.models import Call, CallEvent
from hotline.telephony import TWILIO_ERRORS, rest_client
from routing.offers import call_ended

log = logging.getLogger(__name__)

CHECKED = "status_checked"
BATCH = 50  # calls asked about per sweep: Twilio's answers take time; the next sweep asks the rest


def silence_allowed() -> timedelta:
    """How long a live call may go without a webhook or journal entry before Twilio is asked about
    it: the catalogue's stale_call_minutes (a whole number of minutes, at least 1). Raises
    CatalogueError for any other value."""
    minutes = services.catalogue().raw.get("stale_call_minutes", 15)
    if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 1:
        raise CatalogueError("stale_call_minutes must be a whole number of minutes, at least 1")
    return timedelta(minutes=minutes)


def end_call(session: Session, call: Call, twilio_status: str, duration: int | None) -> None:
    """What a final status callback does (ivr.views.status): the call's consultants are freed (into
    wrap-up) and any offer still ringing for it is given up, then the call is closed into its
    consultation record. `duration`: Twilio's CallDuration, in seconds. Safe to run again."""
    call_ended(session, call.call_sid)
    calls.close_call(session, call, twilio_status, duration)


def silent_calls(session: Session, now: datetime) -> list[Call]:
    """Inbound calls still open whose last sign of life (their latest journal entry, or their
    start) is older than silence_allowed() before `now` (UTC); the longest silent first."""
    cutoff = now - silence_allowed()
    last_heard = func.coalesce(
        select(func.max(CallEvent.at)).where(CallEvent.call_id == Call.id).scalar_subquery(), Call.started_at)
    return list(session.scalars(
        select(Call).where(Call.ended_at.is_(None), Call.direction == "inbound", Call.started_at <= cutoff,
                           last_heard <= cutoff)
        .order_by(last_heard).limit(BATCH)))


def sweep(session: Session, now: datetime) -> int:
    """Ask Twilio about every silent call (silent_calls) and end those it says ended. A call Twilio
    does not answer for is left as it is, to be asked again after another silence. Returns how
    many calls were ended."""
    ended = 0
    for call in silent_calls(session, now):
        try:
            found = rest_client().calls(call.call_sid).fetch()
            status, duration = found.status, _seconds(found.duration)
        except TWILIO_ERRORS as error:
            status, duration = f"error {getattr(error, 'code', None) or type(error).__name__}", None
            log.warning("could not ask Twilio about silent call %s: %s", call.call_sid, status)
        # Dated `now`, not by the database's clock: the next sweep measures the silence from it.
        session.add(CallEvent(call_id=call.id, kind=CHECKED, detail=status, at=now))
        session.commit()
        if status in calls.FINAL_STATUSES:
            log.info("call %s ended (%s) without its status callback: closed", call.call_sid, status)
            end_call(session, call, status, duration)
            ended += 1
    return ended


def _seconds(raw: str | None) -> int | None:
    return int(raw) if raw and raw.isdecimal() else None
