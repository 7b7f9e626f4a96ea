"""The caller's journey, as plain functions: each takes the call and the caller's input and
returns the TwiML to answer with. Views only parse the request and call these."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

import routing
from hotline import hours, services
from hotline.models import Call, utcnow
from hotline.telephony import external_url
from hotline.voice import speak
from ivr import calls, choices
from ivr.menus import language_menu, speak_to_unknown_language, topic_menu


def greet(call: Call) -> VoiceResponse:
    resp = VoiceResponse()
    speak_to_unknown_language(resp, "welcome")
    language_menu(resp, attempt=0)
    return resp


def _retry_or_default(resp: VoiceResponse, had_input: bool, attempt: int, lang: str | None) -> bool:
    """Say what went wrong; True if the menu should be asked again, False to take the default."""
    key = "not_understood" if had_input else "no_input"
    if lang:
        speak(resp, lang, key)
    else:
        speak_to_unknown_language(resp, key)
    return attempt < services.catalogue().menu_retries


def on_language(session: Session, call: Call, digits: str | None, speech: str | None, attempt: int) -> VoiceResponse:
    catalogue = services.catalogue()
    options = {lang.digit: lang.code for lang in catalogue.languages}
    chosen = choices.choose(digits, speech, options, choices.language_keywords(catalogue), catalogue,
                            [catalogue.default_language])
    resp = VoiceResponse()
    if chosen is None:
        if _retry_or_default(resp, bool(digits or speech), attempt, None):
            language_menu(resp, attempt + 1)
            return resp
        chosen = catalogue.default_language
    call.language_code = chosen
    call.stage = "topic_menu"
    calls.record_event(session, call, "language", chosen)
    return _after_language(session, call, resp)


def _after_language(session: Session, call: Call, resp: VoiceResponse) -> VoiceResponse:
    now = utcnow()
    if not any(hours.is_open(office, now) for office in services.catalogue().offices):
        return closed(session, call, resp, now)
    topic_menu(resp, call.language_code, attempt=0)
    return resp


def on_topic(session: Session, call: Call, digits: str | None, speech: str | None, attempt: int) -> VoiceResponse:
    catalogue = services.catalogue()
    lang = call.language_code or catalogue.default_language
    options = {topic.digit: topic.code for topic in catalogue.topics}
    chosen = choices.choose(digits, speech, options, choices.topic_keywords(catalogue, lang), catalogue,
                            [lang, "en"])
    resp = VoiceResponse()
    if chosen is None:
        if _retry_or_default(resp, bool(digits or speech), attempt, lang):
            topic_menu(resp, lang, attempt + 1)
            return resp
        chosen = catalogue.default_topic
        speak(resp, lang, "default_topic")
    call.language_code = lang
    call.topic_code = chosen
    call.stage = "routing"
    calls.record_event(session, call, "topic", chosen)
    speak(resp, lang, "connecting")
    return connect(session, call, resp)


def connect(session: Session, call: Call, resp: VoiceResponse) -> VoiceResponse:
    """Ring the best free consultant, or tell the caller nobody is free."""
    catalogue = services.catalogue()
    tried = calls.offered_consultants(session, call)
    staff = None
    if len(tried) < catalogue.max_consultant_attempts:
        staff = routing.offer_call(session, call.call_sid, call.language_code, call.topic_code,
                                   call.office_code, exclude=tried)
    if staff is None:
        return all_busy(session, call, resp)
    if staff.id not in tried:  # a retried webhook re-dials the consultant already ringing
        calls.record_event(session, call, "offered", consultant_id=staff.id)
    dial = resp.dial(action=external_url("ivr.dial_result"), method="POST", timeout=catalogue.dial_timeout,
                     caller_id=call.called_number or services.settings().twilio_phone_number)
    dial.number(staff.phone, url=external_url("ivr.whisper", call=call.call_sid, staff=staff.id), method="POST")
    return resp


def on_dial_result(session: Session, call: Call, dial_status: str | None) -> VoiceResponse:
    """The consultant's leg ended: after a conversation say goodbye, otherwise try the next one."""
    resp = VoiceResponse()
    if call.ended_at is not None:  # the caller has gone: its status callback came first
        resp.hangup()
        return resp
    lang = call.language_code or services.catalogue().default_language
    if call.answered_at is not None:
        routing.finish(session, call.call_sid, services.catalogue().wrap_up_seconds)
        speak(resp, lang, "goodbye")
        resp.hangup()
        return resp
    routing.release(session, call.call_sid)
    calls.record_event(session, call, "not_accepted", dial_status)
    speak(resp, lang, "trying_next")
    return connect(session, call, resp)


def all_busy(session: Session, call: Call, resp: VoiceResponse) -> VoiceResponse:
    now = utcnow()
    offices = services.catalogue().offices
    closing = max((end for end in (hours.closes_at(office, now) for office in offices) if end), default=None)
    lang = call.language_code
    if closing and closing.date() == now.astimezone(closing.tzinfo).date():
        speak(resp, lang, "all_busy", time=closing.strftime("%H:%M"))
    elif closing:  # open past midnight (around the clock): no closing time to give
        speak(resp, lang, "all_busy_later")
    else:
        speak(resp, lang, "all_busy_closing", when=lambda spoken: opening_phrase(spoken, now))
    call.outcome = "no_consultant"
    calls.record_event(session, call, "no_consultant")
    speak(resp, lang, "goodbye")
    resp.hangup()
    return resp


def closed(session: Session, call: Call, resp: VoiceResponse, now: datetime) -> VoiceResponse:
    lang = call.language_code
    speak(resp, lang, "closed", when=lambda spoken: opening_phrase(spoken, now))
    call.outcome = "closed"
    call.stage = "closed"
    calls.record_event(session, call, "closed")
    speak(resp, lang, "goodbye")
    resp.hangup()
    return resp


def opening_phrase(lang: str, now: datetime) -> str:
    """'today at 09:00', 'tomorrow at 09:00' or 'on Monday at 09:00', in `lang`."""
    catalogue = services.catalogue()
    openings = [o for o in (hours.next_opening(office, now) for office in catalogue.offices) if o]
    if not openings:
        return ""
    opening = min(openings)
    local_now = now.astimezone(opening.tzinfo)
    days = (opening.date() - local_now.date()).days
    time = opening.strftime("%H:%M")
    if days == 0:
        return catalogue.prompt(lang, "opens_today", time=time)
    if days == 1:
        return catalogue.prompt(lang, "opens_tomorrow", time=time)
    weekday = catalogue.words(lang, "weekdays")[opening.weekday()]
    return catalogue.prompt(lang, "opens_on", weekday=weekday, time=time)
