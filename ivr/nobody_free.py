"""Telling a caller who cannot be put through when to call again: the closing time today, or
when the centre next opens, in their language."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import VoiceResponse

from hotline import calls, hours, runtime
from hotline.catalogue import Office
from hotline.models import Call, utcnow
from hotline.voice import spoken_fields
from hotline.voice.speaking import speak


def all_busy(session: Session, call: Call, resp: VoiceResponse) -> VoiceResponse:
    now = utcnow()
    offices = runtime.catalogue().offices
    closing = max((end for end in (hours.closes_at(office, now) for office in offices) if end), default=None)
    lang = call.language_code
    if closing and closing.date() == now.astimezone(closing.tzinfo).date():
        speak(resp, lang, "all_busy", time=spoken_fields.clock_time(closing.time()))
    elif closing:  # open past midnight (around the clock): no closing time to give
        speak(resp, lang, "all_busy_later")
    else:
        speak(resp, lang, "all_busy_closing", when=lambda spoken: opening_phrase(spoken, now))
    calls.change(session, call, outcome="no_consultant")
    calls.record_event(session, call, "no_consultant")
    speak(resp, lang, "goodbye")
    resp.hangup()
    return resp


def opening_phrase(lang: str, now: datetime, schedules: list[Office] | None = None) -> str:
    """When the first of `schedules` (default: the offices) next opens: 'today at 9 AM', 'tomorrow
    at 9 AM' or 'on Monday at 1:30 PM', in `lang` (see hotline.voice.spoken); "" if none opens within
    a month."""
    catalogue = runtime.catalogue()
    schedules = catalogue.offices if schedules is None else schedules
    openings = [o for o in (hours.next_opening(schedule, now) for schedule in schedules) if o]
    if not openings:
        return ""
    opening = min(openings)
    local_now = now.astimezone(opening.tzinfo)
    days = (opening.date() - local_now.date()).days
    time = catalogue.clock_time(lang, opening.time())
    if days == 0:
        return catalogue.prompt(lang, "opens_today", time=time)
    if days == 1:
        return catalogue.prompt(lang, "opens_tomorrow", time=time)
    weekday = catalogue.weekday(lang, opening.date())
    return catalogue.prompt(lang, "opens_on", weekday=weekday, time=time)
