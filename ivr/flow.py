"""The caller's journey, as plain functions: each takes the call and the caller's input and
returns the TwiML to answer with. Views only parse the request and call these."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

import routing
from hotline import calls, hours, runtime
from hotline.models import Call, utcnow
from hotline.telephony import external_url
from hotline.voice import spoken_fields
from hotline.voice.speaking import speak, speak_to_unknown_language
from ivr import choices, nobody_free, on_hold, way_out
from ivr.fixed_twiml import fixed
from ivr.menus import language_menu, topic_menu

# The stage of a call that asked for a callback before choosing a topic: the topic menu then books it.
CALLBACK_TOPIC = "callback_topic"


def greet(call: Call) -> str:
    """The welcome in every greeting language, then the language menu (the same for every call)."""
    return fixed("greeting", _greeting)


def _greeting(resp: VoiceResponse) -> None:
    speak_to_unknown_language(resp, "welcome")
    language_menu(resp, attempt=0)


def _retry_or_default(resp: VoiceResponse, had_input: bool, attempt: int, lang: str | None) -> bool:
    """Say what went wrong; True if the menu should be asked again, False to take the default."""
    key = "not_understood" if had_input else "no_input"
    if lang:
        speak(resp, lang, key)
    else:
        speak_to_unknown_language(resp, key)
    return attempt < runtime.catalogue().menu_retries


def on_language(session: Session, call: Call, digits: str | None, speech: str | None,
                attempt: int, heard: str | None = None) -> VoiceResponse | str:
    """The caller's answer to the language menu; `heard` is the language whose locale listened
    (the per-locale menu says it in its action URL), None for the default language's."""
    catalogue = runtime.catalogue()
    options = {lang.digit: lang.code for lang in catalogue.languages}
    heard = heard if catalogue.language(heard) else catalogue.default_language
    chosen = choices.choose(digits, speech, options, choices.language_keywords(catalogue), catalogue, [heard])
    resp = VoiceResponse()
    if chosen is None:
        if _retry_or_default(resp, bool(digits or speech), attempt, None):
            # Speech we could not place: perhaps not the default locale's language, so each option
            # listens in its own language this time.
            language_menu(resp, attempt + 1, each_locale=bool((speech or "").strip() and not digits))
            return resp
        chosen = catalogue.default_language
    calls.change(session, call, language_code=chosen, stage="topic_menu")
    calls.journal(session, call, "language", chosen)
    return _after_language(session, call, resp)


def _after_language(session: Session, call: Call, resp: VoiceResponse) -> VoiceResponse | str:
    now = utcnow()
    if not any(hours.is_open(office, now) for office in runtime.catalogue().offices):
        return closed(session, call, resp, now)
    lang = call.language_code
    if not _on_duty(session, call, lang):
        # Said at once, not after the topic menu and a wait: the caller may choose another way.
        speak(resp, lang, "language_unstaffed",
              language=lambda spoken: runtime.catalogue().term(spoken, "languages", lang))
        duty = runtime.catalogue().duty_hours.get(lang)
        if duty is not None and nobody_free.opening_phrase(lang, now, [duty]):
            speak(resp, lang, "language_next_on_duty",
                  when=lambda spoken: nobody_free.opening_phrase(spoken, now, [duty]))
        key = runtime.catalogue().queue.keys.get("other_languages")
        callback_key = _callback_key()
        if (key and _other_languages(lang)) or callback_key:
            gather = Gather(num_digits=1, timeout=5, action_on_empty_result=True, method="POST",
                            action=external_url("ivr.alternatives"))
            if key and _other_languages(lang):
                speak(gather, lang, "language_alternatives", digit=key,
                      languages=spoken_fields.other_languages(lang))
            if callback_key:
                speak(gather, lang, "queue_exit_callback", digit=callback_key)
            resp.append(gather)
            return resp
    if not resp.verbs:  # the same for every caller of this language
        return fixed(("topic_menu", lang), lambda fresh: topic_menu(fresh, lang, attempt=0))
    topic_menu(resp, lang, attempt=0)
    return resp


def _on_duty(session: Session, call: Call, lang: str) -> bool:
    """routing.language_on_duty, from what was read with the call when it was (LANGUAGES_ON_DUTY)."""
    if call.languages_on_duty is None:  # not read with the call, or nobody at all on duty
        return routing.language_on_duty(session, lang)
    return lang in call.languages_on_duty.split(",")


def _other_languages(lang: str) -> list[str]:
    return [code for code in runtime.catalogue().queue.other_languages if code != lang]


def on_alternatives(session: Session, call: Call, digits: str | None) -> VoiceResponse:
    """The caller pressed the key to be served in English or Bulgarian too, or let it pass."""
    resp = VoiceResponse()
    lang = call.language_code or runtime.catalogue().default_language
    others = _other_languages(lang)
    if _callback_key() and (digits or "").strip() == _callback_key():
        return _topic_for_callback(session, call, resp, lang)
    if (digits or "").strip() == runtime.catalogue().queue.keys.get("other_languages") and others:
        calls.change(session, call, accepts_languages=",".join(others))
        calls.record_event(session, call, "languages_accepted", call.accepts_languages)
    topic_menu(resp, lang, attempt=0)
    return resp


def on_topic(session: Session, call: Call, digits: str | None, speech: str | None,
             attempt: int) -> VoiceResponse:
    catalogue = runtime.catalogue()
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
    calls.change(session, call, language_code=lang, topic_code=chosen)
    calls.journal(session, call, "topic", chosen)
    way = way_out.by_name("callback") if call.stage == CALLBACK_TOPIC else None
    if way is not None:  # asked for a callback before the topic (after hours, language not staffed)
        return way.handler(session, call, resp)
    calls.change(session, call, stage="routing")
    speak(resp, lang, "connecting")
    # Routing reads consultants and queues, never this call's own pending changes: those are
    # written once, at the step's commit, with their final values (not once per read).
    with session.no_autoflush:
        return connect(session, call, resp)


def connect(session: Session, call: Call, resp: VoiceResponse) -> VoiceResponse:
    """Ring the best free consultant, or queue the caller until one is free (or, for a call without
    a language or topic yet, ask for it). The caller holds the call's row lock (read with it, or
    hotline.calls.lock_call): a twin of the webhook reserves after this one's commit, and so finds
    the consultant ringing for the call rather than a second one."""
    asked = on_hold.ask_for_missing_choice(call, resp)
    if asked is not None:
        return asked
    catalogue = runtime.catalogue()
    tried = _offered_consultants(session, call)
    staff, reserved = None, False
    if len(tried) < catalogue.max_consultant_attempts:
        # The caller's own language and topic first, then any language they agreed to when theirs
        # was not staffed (any topic); their own office only, if so configured (the queue widens
        # to the other office later): the queue's tiers, for a caller who has waited nothing yet.
        for language, topic, own_office in on_hold.tiers_at_once(call, utcnow()):
            if staff is None:
                staff, reserved = routing.reserve_for_call(
                    session, call.call_sid, language, topic, call.office_code, exclude=tried,
                    only_office=own_office, commit=False)
    if staff is None:
        return on_hold.enter(session, call, resp)
    if reserved:  # a retried webhook (or its twin) re-dials the consultant already ringing
        calls.journal(session, call, "offered", consultant_id=staff.id)
    dial = resp.dial(action=external_url("ivr.dial_result"), method="POST", timeout=catalogue.dial_timeout,
                     caller_id=call.called_number or runtime.settings().twilio_phone_number)
    dial.number(staff.phone, url=external_url("ivr.whisper", call=call.call_sid, staff=staff.id),
                method="POST")
    return resp


def _offered_consultants(session: Session, call: Call) -> list[int]:
    """calls.offered_consultants, from what was read with the call when it was (ROUTING_LOADS)."""
    if call.offered_to is None:
        return calls.offered_consultants(session, call)
    return [int(staff_id) for staff_id in call.offered_to.split(",") if staff_id]


def on_dial_result(session: Session, call: Call, dial_status: str | None) -> VoiceResponse:
    """The consultant's leg ended: after a conversation say goodbye, otherwise try the next one."""
    resp = VoiceResponse()
    lang = call.language_code or runtime.catalogue().default_language
    if call.answered_at is not None:
        routing.call_ended(session, call.call_sid)
        speak(resp, lang, "goodbye")
        resp.hangup()
        return resp
    # Whoever let it ring out or declined goes on break (if so configured): the caller should not
    # be rung through to an empty desk again.
    missed = routing.holders(session, call.call_sid)
    routing.release(session, call.call_sid, to_status=runtime.catalogue().queue.missed_offer_status)
    calls.record_event(session, call, "not_accepted", dial_status,
                       consultant_id=missed[0] if missed else None)
    asked = on_hold.ask_for_missing_choice(call, resp)
    if asked is not None:  # never dialled by us: nobody to try next
        return asked
    speak(resp, lang, "trying_next")
    calls.lock_call(session, call)  # released by the commits above
    return connect(session, call, resp)


def closed(session: Session, call: Call, resp: VoiceResponse, now: datetime) -> VoiceResponse:
    """After hours: when the centre opens, and, where callbacks are offered, a key to book one."""
    lang = call.language_code
    speak(resp, lang, "closed", when=lambda spoken: nobody_free.opening_phrase(spoken, now))
    calls.change(session, call, outcome="closed", stage="closed")
    calls.journal(session, call, "closed")
    key = _callback_key()
    if key:
        gather = Gather(num_digits=1, timeout=6, action_on_empty_result=True, method="POST",
                        action=external_url("ivr.closed_choice"))
        speak(gather, lang, "closed_callback", digit=key)
        resp.append(gather)
        return resp
    speak(resp, lang, "goodbye")
    resp.hangup()
    return resp


def _callback_key() -> str | None:
    """The key that books a callback, where callbacks are offered."""
    return next((key for key, way in way_out.offered() if way.name == "callback"), None)


def on_closed_choice(session: Session, call: Call, digits: str | None) -> VoiceResponse:
    """After hours, the caller pressed the callback key (then chooses a topic), or let it pass."""
    resp = VoiceResponse()
    lang = call.language_code or runtime.catalogue().default_language
    if _callback_key() and (digits or "").strip() == _callback_key():
        return _topic_for_callback(session, call, resp, lang)
    speak(resp, lang, "goodbye")
    resp.hangup()
    return resp


def _topic_for_callback(session: Session, call: Call, resp: VoiceResponse, lang: str) -> VoiceResponse:
    calls.change(session, call, stage=CALLBACK_TOPIC, outcome=None)
    calls.record_event(session, call, "callback_requested")
    topic_menu(resp, lang, attempt=0)
    return resp
