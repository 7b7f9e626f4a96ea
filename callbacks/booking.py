"""Booking a callback on the phone: the caller confirms the number to call (their caller ID, or
one they key in) and picks a window within their office's hours, all on the keypad.

offer() is the IVR's entry point (the queue's way out, the full queue, after hours); the webhooks
below carry the conversation on. Each step is safe to run again for a retried webhook: the draft
and the booking are one per call (schedule.draft / schedule.confirm), and a call already booked
only hears its booking again.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import phonenumbers
from flask import Blueprint
from phonenumbers import PhoneNumberType
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

from callbacks import schedule, windows
from callbacks.rules import rules
from hotline import calls, runtime
from hotline.models import Call, Callback, CallbackState, CallEvent, utcnow
from hotline.telephony import answer_faults_with_twiml, external_url
from hotline.voice.speaking import speak
from hotline.webhooks import apology, caller_webhook, menu_attempt, query_number

log = logging.getLogger(__name__)
blueprint = Blueprint("callback_booking", __name__, url_prefix="/callbacks/booking")

CONFIRM_KEY, OTHER_NUMBER_KEY = "1", "2"
NUMBER_RETRIES = 2  # a keyed number that is not valid is asked for again this often, then we give up
# Silence or a wrong key is asked again once; the next time the default is taken (the caller ID,
# "as soon as possible").
CHOICE_RETRIES = 1
KEY_IN_SECONDS = 10  # silence allowed between the keys of a phone number
# Numbers we call back: never premium-rate, shared-cost or other numbers a caller could profit from.
CALLABLE = {PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE,
            PhoneNumberType.VOIP}


# -- phone numbers ---------------------------------------------------------------------------------

def callable_number(number: str | None, own_numbers: tuple[str, ...] = ()) -> str | None:
    """`number` (E.164) if it is a valid number we may call back, else None."""
    if not number:
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.number_type(parsed) not in CALLABLE:
        return None
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return None if e164 in own_numbers else e164


def keyed_number(digits: str | None, region: str, own_numbers: tuple[str, ...] = ()) -> str | None:
    """The E.164 number a caller keyed in ("+" cannot be typed): "00" and the country code, a
    national number ("0888..."), or the country code without "00" ("359888..."). None if invalid."""
    digits = "".join(ch for ch in digits or "" if ch.isdecimal() and ch.isascii())
    if len(digits) < 4:
        return None
    if digits.startswith("00"):
        candidates = ["+" + digits[2:]]
    elif digits.startswith("0"):
        candidates = [digits]
    else:
        candidates = ["+" + digits, digits]
    for candidate in candidates:
        try:
            e164 = phonenumbers.format_number(phonenumbers.parse(candidate, region),
                                              phonenumbers.PhoneNumberFormat.E164)
        except phonenumbers.NumberParseException:
            continue
        found = callable_number(e164, own_numbers)
        if found:
            return found
    return None


def _office(call: Call):
    catalogue = runtime.catalogue()
    return catalogue.office(call.office_code) or catalogue.offices[0]


def _region(call: Call) -> str:
    """The region national numbers are read in: the country of the office's hotline number."""
    for number in _office(call).numbers:
        try:
            region = phonenumbers.region_code_for_number(phonenumbers.parse(number, None))
        except phonenumbers.NumberParseException:
            continue
        if region:
            return region
    return "BG"


def _own_numbers() -> tuple[str, ...]:
    return tuple(number for office in runtime.catalogue().offices for number in office.numbers)


def _last_digits(number: str) -> str:
    """The last three digits, spaced so that text-to-speech reads them one by one: "4 5 6"."""
    return " ".join(number[-3:])


def _dialled_digits(number: str, region: str) -> str:
    """`number` (E.164) as a caller in `region` dials it, spaced digit by digit so that
    text-to-speech reads each one: "0 8 8 8 7 6 5 4 3 2" for +359888765432 from BG, "0 0 4 4 7 9 ..."
    for +447911... (phonenumbers' out-of-country format: the national form within the region)."""
    dialled = phonenumbers.format_out_of_country_calling_number(phonenumbers.parse(number, None), region)
    return " ".join(ch for ch in dialled if ch.isdecimal())


# -- the conversation ------------------------------------------------------------------------------

def offer(session: Session, call: Call, resp: VoiceResponse) -> VoiceResponse:
    """The IVR's entry point: start booking a callback for this call (TwiML appended to `resp`)."""
    booked = _booking(session, call)
    if booked is not None and booked.state != CallbackState.draft.value:
        return _booked(resp, _lang(call), booked, None)
    calls.change(session, call, stage="callback")
    _journal(session, call, "callback_offered")
    number = callable_number(call.caller_number, _own_numbers())
    if number is None:
        return _ask_for_number(resp, _lang(call), 0)
    return _ask_to_confirm(resp, _lang(call), number, 0)


def on_number_choice(session: Session, call: Call, digits: str | None, attempt: int) -> VoiceResponse:
    """The answer to "we will call you back on the number ending in ...": confirm, or key another.
    After silence or a wrong key on every try the caller ID is kept (it is the default)."""
    resp = VoiceResponse()
    lang = _lang(call)
    key = (digits or "").strip()
    number = callable_number(call.caller_number, _own_numbers())
    if number is None or key == OTHER_NUMBER_KEY:
        return _ask_for_number(resp, lang, 0)
    if key != CONFIRM_KEY and attempt < CHOICE_RETRIES:
        speak(resp, lang, "not_understood" if key else "no_input")
        return _ask_to_confirm(resp, lang, number, attempt + 1)
    return _number_chosen(session, call, resp, number, "caller_id")


def on_keyed_number(session: Session, call: Call, digits: str | None, attempt: int) -> VoiceResponse:
    """A number keyed in (ended by #): on to the window, or asked again, or, after the last try,
    an apology and goodbye."""
    resp = VoiceResponse()
    lang = _lang(call)
    number = keyed_number(digits, _region(call), _own_numbers())
    if number is not None:
        spoken = _dialled_digits(number, _region(call))
        return _number_chosen(session, call, resp, number, "keyed", read_back=spoken)
    speak(resp, lang, "callback_number_invalid" if (digits or "").strip() else "no_input")
    if attempt < NUMBER_RETRIES:
        return _ask_for_number(resp, lang, attempt + 1)
    log.info("call %s: no valid number to call back after %d tries", call.call_sid, attempt + 1)
    _journal(session, call, "callback_not_booked", "no_number")
    calls.change(session, call, outcome="no_consultant")
    session.commit()
    speak(resp, lang, "callback_number_failed")
    speak(resp, lang, "goodbye")
    resp.hangup()
    return resp


def on_window(session: Session, call: Call, digits: str | None, attempt: int,
              asked_at: datetime) -> VoiceResponse:
    """The window chosen from those offered at `asked_at` (the same list, whatever the time now);
    silence or a wrong key on every try is "as soon as possible". Books the callback."""
    resp = VoiceResponse()
    lang = _lang(call)
    callback = _booking(session, call)
    if callback is None:  # no number was chosen on this call: start again
        return offer(session, call, resp)
    if callback.state != CallbackState.draft.value:
        return _booked(resp, lang, callback, None)  # a retried webhook: booked already
    options = windows.offered_windows(_office(call), asked_at, rules().morning_ends)
    key = (digits or "").strip()
    chosen = options[int(key) - 1] if key.isdecimal() and 1 <= int(key) <= len(options) else None
    if chosen is None and options and attempt < CHOICE_RETRIES:
        speak(resp, lang, "not_understood" if key else "no_input")
        return _ask_window(resp, lang, options, attempt + 1, asked_at)
    if chosen is None and not options:
        return _unavailable(session, call, resp, lang)
    chosen = chosen or options[0]
    callback = schedule.confirm(session, callback, chosen.start, chosen.end)
    calls.change(session, call, outcome="callback")
    _journal(session, call, "callback_booked", chosen.kind)
    return _booked(resp, lang, callback, chosen)


def _number_chosen(session: Session, call: Call, resp: VoiceResponse, number: str, how: str,
                   read_back: str | None = None) -> VoiceResponse:
    """Draft the callback to `number` (chosen `how`: "caller_id" or "keyed") and ask for a window,
    first reading back `read_back` (the spaced digits of a keyed number) outside the <Gather>, so the
    caller hears it whole before choosing."""
    callback = schedule.draft(session, call, number)
    if callback.state != CallbackState.draft.value:
        return _booked(resp, _lang(call), callback, None)  # a retried webhook: booked already
    _journal(session, call, "callback_number", how)
    now = utcnow()
    options = windows.offered_windows(_office(call), now, rules().morning_ends)
    if not options:
        return _unavailable(session, call, resp, _lang(call))
    if read_back:
        speak(resp, _lang(call), "callback_number_read_back", digits=read_back)
    return _ask_window(resp, _lang(call), options, 0, now)


def _ask_to_confirm(resp: VoiceResponse, lang: str, number: str, attempt: int) -> VoiceResponse:
    gather = Gather(num_digits=1, timeout=runtime.catalogue().menu_timeout, method="POST",
                    action=external_url("callback_booking.number", attempt=attempt),
                    action_on_empty_result=True)
    speak(gather, lang, "callback_confirm_number", digits=_last_digits(number), confirm=CONFIRM_KEY,
          change=OTHER_NUMBER_KEY)
    resp.append(gather)
    return resp


def _ask_for_number(resp: VoiceResponse, lang: str, attempt: int) -> VoiceResponse:
    gather = Gather(finish_on_key="#", timeout=KEY_IN_SECONDS, method="POST",
                    action=external_url("callback_booking.keyed", attempt=attempt),
                    action_on_empty_result=True)
    speak(gather, lang, "callback_key_number")
    resp.append(gather)
    return resp


def _ask_window(resp: VoiceResponse, lang: str, options: list[windows.Window], attempt: int,
                asked_at: datetime) -> VoiceResponse:
    action = external_url("callback_booking.window", attempt=attempt, at=int(asked_at.timestamp()))
    gather = Gather(num_digits=1, timeout=runtime.catalogue().menu_timeout, method="POST", action=action,
                    action_on_empty_result=True)
    speak(gather, lang, "callback_when")
    for digit, option in enumerate(options, start=1):
        speak(gather, lang, "callback_window_option", digit=str(digit),
              window=lambda spoken, option=option: windows.phrase(spoken, option))
    resp.append(gather)
    return resp


def _booked(resp: VoiceResponse, lang: str, callback: Callback,
            chosen: windows.Window | None) -> VoiceResponse:
    """Thank the caller, name their window, goodbye."""
    if chosen is not None:
        speak(resp, lang, "callback_booked", window=lambda spoken: windows.phrase(spoken, chosen))
    else:
        speak(resp, lang, "callback_booked", window=lambda spoken: windows.window_phrase(spoken, callback))
    speak(resp, lang, "goodbye")
    resp.hangup()
    return resp


def _unavailable(session: Session, call: Call, resp: VoiceResponse, lang: str) -> VoiceResponse:
    """The office does not open within a month: nothing to book."""
    _journal(session, call, "callback_not_booked", "no_window")
    speak(resp, lang, "callback_unavailable")
    speak(resp, lang, "goodbye")
    resp.hangup()
    return resp


def _lang(call: Call) -> str:
    return call.language_code or runtime.catalogue().default_language


def _booking(session: Session, call: Call) -> Callback | None:
    return session.scalar(select(Callback).where(Callback.call_id == call.id))


def _journal(session: Session, call: Call, kind: str, detail: str | None = None) -> None:
    """Journal a step once: a retried webhook finds it the call's last event and adds nothing."""
    last = session.scalar(select(CallEvent).where(CallEvent.call_id == call.id)
                          .order_by(CallEvent.id.desc()).limit(1))
    if last is not None and (last.kind, last.detail) == (kind, detail):
        session.commit()
        return
    calls.record_event(session, call, kind, detail)


# -- webhooks --------------------------------------------------------------------------------------

def _asked_at() -> datetime:
    """When the windows were offered (from the action URL); now, if that is missing or odd."""
    now = utcnow()
    seconds = query_number("at")
    asked = datetime.fromtimestamp(seconds, timezone.utc) if seconds is not None else None
    return asked if asked is not None and abs(now - asked) <= timedelta(hours=1) else now


@blueprint.route("/number", methods=["GET", "POST"], endpoint="number")
@caller_webhook
def number_choice(session, call, params):
    return on_number_choice(session, call, params.get("Digits"), menu_attempt())


@blueprint.route("/keyed", methods=["GET", "POST"], endpoint="keyed")
@caller_webhook
def keyed(session, call, params):
    return on_keyed_number(session, call, params.get("Digits"), menu_attempt())


@blueprint.route("/window", methods=["GET", "POST"], endpoint="window")
@caller_webhook
def window(session, call, params):
    return on_window(session, call, params.get("Digits"), menu_attempt(), _asked_at())


# Whatever goes wrong, the caller hears an apology, not Twilio's "application error".
answer_faults_with_twiml(blueprint, apology)
