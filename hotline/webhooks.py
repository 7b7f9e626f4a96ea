"""What the Twilio-facing views of every area share: their parameters, whole numbers from them, the
caller's call a webhook belongs to, the apology, and the conference both parties of a call meet in.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from flask import request
from sqlalchemy.orm import Session
from sqlalchemy.sql.base import ExecutableOption
from twilio.twiml.voice_response import VoiceResponse

from hotline import calls, runtime
from hotline.models import Call
from hotline.telephony import twilio_webhook, twiml
from hotline.voice.speaking import speak_to_unknown_language

# The largest value of a 32-bit INTEGER column: any id, duration or Unix time (seconds) we send
# or are sent fits; a larger number is garbage.
MAX_WHOLE_NUMBER = 2**31 - 1

# A view answers TwiML, or its text when it was built once for every call (ivr.fixed_twiml).
CallerView = Callable[[Session, Call, dict[str, str]], VoiceResponse | str]


def params() -> dict[str, str]:
    """The webhook's parameters (form and query string; the first value of a repeated key)."""
    return {key: value for key, value in request.values.items()}


def whole_number(raw: str | None) -> int | None:
    """`raw` as a whole number from 0 to MAX_WHOLE_NUMBER, in ASCII digits; else None.

    isdecimal(), not isdigit(): "²".isdigit() is true, yet int() refuses it; and only ASCII digits,
    since int() also takes Arabic-Indic ones, which Twilio never sends in a parameter."""
    raw = raw or ""
    if not (raw.isdecimal() and raw.isascii() and len(raw) <= len(str(MAX_WHOLE_NUMBER))):
        return None
    value = int(raw)
    return value if value <= MAX_WHOLE_NUMBER else None


def query_number(name: str) -> int | None:
    """whole_number() of query-string parameter `name` (the ids our own URLs carry)."""
    return whole_number(request.args.get(name))


def menu_attempt() -> int:
    """How many times a menu was asked already (the `attempt` of its action URL), 0 to 99."""
    return min(query_number("attempt") or 0, 99)


def apology() -> VoiceResponse:
    """A technical problem, said in every greeting language, then hang up: the answer to a caller
    whose call cannot be found or made."""
    resp = VoiceResponse()
    speak_to_unknown_language(resp, "technical_problem")
    resp.hangup()
    return resp


def ended() -> VoiceResponse:
    """The answer to a webhook of a call that is over: hang up (Twilio ignores it on a call that has
    ended, and it ends a leg that somehow has not)."""
    resp = VoiceResponse()
    resp.hangup()
    return resp


def caller_webhook(view: CallerView | None = None, *, loads: Sequence[ExecutableOption] = (),
                   opens: bool = False, locks: bool = False):
    """A webhook of the caller's own call leg: checked as Twilio's (403 if forged), its parameters
    read, the caller's Call found (or opened, if its row is missing), and `view(session, call,
    params)`'s TwiML answered. Without a CallSid the caller hears the apology. `loads`: what the
    view needs read with the call (hotline.calls.find_call); used as @caller_webhook(loads=...).
    `opens`: the webhook that opens calls (the Voice URL): the call is inserted without being looked
    for first (hotline.calls.open_call's `new`). `locks`: the call is read with its row locked
    (hotline.calls.find_call's `lock`), for a step that reserves a consultant for it.

    The step is one transaction: what the view changed and journalled without committing is
    committed once it has answered, and a step that changed nothing commits nothing (a view that
    must commit earlier, to enqueue a job after it, commits itself).

    A webhook that arrives after the call's final status (a key pressed as the caller hung up, a
    late retry) gets <Hangup/> and changes nothing: the call is over, so nobody may be reserved,
    rung or queued for it."""
    if view is None:
        return functools.partial(caller_webhook, loads=loads, opens=opens, locks=locks)

    @functools.wraps(view)
    @twilio_webhook
    def answer():
        values = params()
        if not values.get("CallSid"):
            return twiml(apology())
        session = runtime.session()
        call = calls.open_call(session, runtime.catalogue(), values, loads, new=opens, lock=locks)
        if call.ended_at is not None:
            return twiml(ended())
        resp = view(session, call, values)
        if calls.has_changes(session):  # a step that only read ends its transaction unwritten
            session.commit()
        return twiml(resp)

    return answer


def join_conference(resp: VoiceResponse, name: str, action: str | None = None) -> VoiceResponse:
    """Dial into conference `name`, which starts when either party enters and ends when either
    leaves (no beep, no hold music); `action`: the URL Twilio asks when this party's Dial ends."""
    dial = resp.dial(action=action, method="POST") if action else resp.dial()
    dial.conference(name, start_conference_on_enter=True, end_conference_on_exit=True, beep=False,
                    wait_url="")
    return resp
