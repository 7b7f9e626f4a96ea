"""SMS to the caller, in their language: when a callback is booked, and when it could not be
completed. Never to a number that cannot receive SMS (a fixed line), never twice (a flag on the
row, set by compare-and-set before sending), and only if configured."""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import phonenumbers
from phonenumbers import PhoneNumberType
from rq import Retry
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from callbacks import windows
from callbacks.rules import rules
from hotline import runtime
from hotline.models import OPEN_STATES, Callback, CallbackState
from hotline.phone_numbers import mask
from hotline.telephony import TWILIO_ERRORS, rest_client

log = logging.getLogger(__name__)

# An SMS whose job has not sent it this long after the change it tells of was lost (with Redis, or
# a worker): the reconciliation sends it (send_missing).
JOB_GRACE = timedelta(minutes=1)
# Unreachable callbacks closed longer ago than this are not texted any more: news that late helps
# nobody (nor is one texted about, say, when SMS is switched on in the configuration).
UNREACHABLE_NEWS = timedelta(days=1)
MISSING_BATCH = 200  # per reconciliation run; the next run (a minute later) sends the rest

SMS_CAPABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def can_receive_sms(number: str | None) -> bool:
    if not number:
        return False
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(parsed) and phonenumbers.number_type(parsed) in SMS_CAPABLE


def send(session: Session, callback_id: int, kind: str) -> bool:
    """Send the `kind` SMS ("booked" or "unreachable") of a callback once; True if sent now."""
    flag = Callback.sms_booked if kind == "booked" else Callback.sms_unreachable
    callback = session.get(Callback, callback_id)
    if callback is None or not rules().sms or not can_receive_sms(callback.number):
        return False
    taken = session.execute(
        update(Callback).where(Callback.id == callback_id, flag.is_(False)).values({flag: True})
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    if not taken:
        return False  # sent already (the job ran twice)
    body = _body(callback, kind)
    try:
        rest_client().messages.create(
            to=callback.number, from_=rules().sms_from or runtime.settings().twilio_phone_number, body=body)
    except TWILIO_ERRORS as error:
        log.warning("SMS to %s for callback %s failed: Twilio error %s", mask(callback.number,
                    runtime.settings().secret_key), callback_id, getattr(error, "code", "?"))
        # Not sent: the flag goes back, and the job fails so that RQ tries it again later.
        session.execute(update(Callback).where(Callback.id == callback_id).values({flag: False})
                        .execution_options(synchronize_session=False))
        session.commit()
        raise SmsNotSent(f"SMS for callback {callback_id} not sent") from error
    return True


class SmsNotSent(Exception):
    """Twilio did not take the SMS; the job raising it is retried (RETRY)."""


# A booked or unreachable SMS that Twilio did not take is tried again after 1, 5 and 15 minutes.
RETRY = Retry(max=3, interval=[60, 300, 900])


def enqueue(kind: str, callback_id: int) -> None:
    """Send a callback's SMS ("booked" or "unreachable") from a job, after the change it tells of
    is committed. Best effort: an SMS whose job was lost is sent by the reconciliation."""
    runtime.enqueue_hint("callbacks.jobs.send_sms_job", callback_id, kind, retry=RETRY)


def send_missing(session: Session, now: datetime) -> int:
    """Send the SMS a lost job did not: "booked" for open callbacks made more than JOB_GRACE before
    `now` (UTC), "unreachable" for callbacks closed unreachable between UNREACHABLE_NEWS and
    JOB_GRACE before it; only when SMS is on, and to numbers that can receive one. Each is sent
    once (send()'s flag), so a job that is merely late sends nothing more. Returns how many were
    sent; one Twilio refused is logged and left for the next run."""
    if not rules().sms:
        return 0
    settled = now - JOB_GRACE
    booked = select(Callback.id).where(Callback.state.in_(OPEN_STATES), Callback.sms_booked.is_(False),
                                       Callback.created_at <= settled)
    unreachable = select(Callback.id).where(
        Callback.state == CallbackState.unreachable.value, Callback.sms_unreachable.is_(False),
        Callback.closed_at <= settled, Callback.closed_at > now - UNREACHABLE_NEWS)
    missing = [(callback_id, kind) for kind, query in (("booked", booked), ("unreachable", unreachable))
               for callback_id in session.scalars(query.limit(MISSING_BATCH))]
    sent = 0
    for callback_id, kind in missing:
        try:
            sent += send(session, callback_id, kind)
        except SmsNotSent:
            continue  # logged by send(); its flag is back, so the next run tries again
    return sent


def _body(callback: Callback, kind: str) -> str:
    """The text in the caller's language (an SMS needs no voice: Farsi is written, not spoken)."""
    catalogue = runtime.catalogue()
    lang = callback.language_code
    if kind == "booked":
        return catalogue.prompt(lang, "sms_callback_booked", window=windows.window_phrase(lang, callback))
    return catalogue.prompt(lang, "sms_callback_unreachable")
