"""The caller's side of the queue: entering it, the wait loop, keys pressed while waiting, and
leaving it (being put through to the consultant who accepted is ivr.bridge's).

Callers wait in Twilio's <Enqueue> (one Twilio queue per language x topic, named "en-health"), with
our own wait URL. Twilio's FIFO order is not ours (urgent callers, widening, callbacks that keep
their place), so a caller is never taken with <Dial><Queue>: when a consultant accepts, the caller
is redirected through the REST API into a conference named after their call, which the consultant
joins too.
"""
from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from twilio.twiml.voice_response import Gather, VoiceResponse

import routing
from hotline import calls, runtime
from hotline.models import Call, QueueEntry, QueueState, utcnow
from hotline.telephony import external_url
from hotline.voice import spoken_fields
from hotline.voice.speaking import speak
from ivr import nobody_free, way_out
from ivr.menus import language_menu, topic_menu

log = logging.getLogger(__name__)

# A caller still asking for the wait URL this long after being bridged was never redirected.
BRIDGE_GRACE = timedelta(seconds=30)
# Twilio's QueueResult values after which the call is driven elsewhere: nothing to say.
TAKEN_ELSEWHERE = {"bridged", "bridging-in-process", "redirected", "redirected-from-bridged"}
# Every QueueResult Twilio sends (https://www.twilio.com/docs/voice/twiml/enqueue#action); anything
# else, or none, is taken as "error" (and never reaches the 40-character result column).
QUEUE_RESULTS = TAKEN_ELSEWHERE | {"error", "hangup", "leave", "queue-full", "system-error"}


def queue_name(call: Call) -> str:
    return f"{call.language_code}-{call.topic_code}"


def ask_for_missing_choice(call: Call, resp: VoiceResponse) -> VoiceResponse | None:
    """What to answer instead of routing or queuing a call that cannot be: the menu that asks for
    what the call lacks, its language or its topic. None when it can be routed. For a webhook that
    comes retried or out of order: the caller is asked, not hung up on with an apology. (A call that
    has ended never gets here: hotline.webhooks.caller_webhook answers it with a hang-up.)"""
    if call.language_code is None:
        language_menu(resp, attempt=0)
        return resp
    if call.topic_code is None:
        topic_menu(resp, call.language_code, attempt=0)
        return resp
    return None


def enter(session: Session, call: Call, resp: VoiceResponse) -> VoiceResponse:
    """Nobody suitable is free: queue the caller, or, if their queue is full, offer the ways out."""
    asked = ask_for_missing_choice(call, resp)
    if asked is not None:
        return asked
    rules = runtime.catalogue().queue
    lang = call.language_code
    # Read with the call (routing.ROUTING_LOADS) when the topic menu routes it: "" for no entry.
    existing = None if call.queue_state == "" else routing.entry_for_call(session, call.call_sid)
    if existing is None and rules.max_size == 0:
        return ways_out(session, call, resp)  # this hotline does not queue callers
    if existing is not None and existing.state not in routing.IN_QUEUE:
        return ways_out(session, call, resp)  # left the queue already: it does not start again
    if existing is None:
        urgent = call.topic_code in rules.urgent_topics
        # The queue's size is checked by the INSERT itself: no room, no entry (entry_id None).
        entry_id, inserted = routing.insert_entry(session, call, urgent=urgent,
                                                  accepts_languages=call.accepts_languages, now=utcnow(),
                                                  max_size=rules.max_size)
        if entry_id is None:
            calls.journal(session, call, "queue_full", queue_name(call))
            speak(resp, lang, "queue_full")
            return ways_out(session, call, resp)
        if inserted:  # journalled once, by whichever of the twins queued the caller
            calls.journal(session, call, "queued", queue_name(call))
    else:
        entry_id = existing.id
        if call.accepts_languages and not existing.accepts_languages:
            routing.accept_languages(session, entry_id, call.accepts_languages.split(","))
    # By a twin or a retry of this webhook too (the entry found, inserted or not): the topic menu
    # set the stage to "routing" on its way here, and its commit must not leave it there.
    calls.change(session, call, stage="queued")
    speak(resp, lang, "queue_entered")
    resp.enqueue(queue_name(call), wait_url=external_url("ivr.queue_wait"), wait_url_method="POST",
                 action=external_url("ivr.queue_left"), method="POST")
    session.commit()  # the step's one commit: a pairing job must find the entry
    # A consultant freed since routing looked may have missed this caller (their pairing job read
    # the queue before this commit): look again now the entry is committed, and ask a worker to
    # pair only if someone is free. Race-free: a consultant freed after this look is paired by
    # their own job, which reads the queue after this commit. The look is one SELECT; the job it
    # spares cost the web process about three times as much CPU (issue 11).
    try:
        someone_free = _someone_free_for(session, call)
    except SQLAlchemyError as error:  # the caller is queued (committed): they hear so, and a worker looks
        log.warning("could not look for a free consultant after queueing call %s (%s): pairing asked for",
                    call.call_sid, type(error).__name__)
        session.rollback()
        someone_free = True
    if someone_free:
        routing.caller_may_be_served(entry_id)
    return resp


def _someone_free_for(session: Session, call: Call) -> bool:
    """Whether a consultant who could take the call, just queued, is free now: one of its tiers
    (routing.tiers, for a caller who has waited nothing yet: its language or one it accepts, its
    topic, its own office only while routing keeps it there)."""
    return any(routing.anyone_free(session, language, topic, call.office_code, only_office=own_office)
               for language, topic, own_office in tiers_at_once(call, utcnow()))


def tiers_at_once(call: Call, now: datetime) -> list[tuple[str, str | None, bool]]:
    """routing.tiers of `call` (a Call with its language and topic chosen) as a caller who has
    waited nothing yet, at `now` (aware, UTC): whom routing may ring for them straight away, best
    first, as (language, topic or None for any, own office only). The one rule for the first ring
    (ivr.flow.connect), the look after queueing and the queue's pick (routing.takers)."""
    queued = QueueEntry(language_code=call.language_code, topic_code=call.topic_code, entered_at=now,
                        office_code=call.office_code, accepts_languages=call.accepts_languages)
    return [tier for tier in routing.tiers(queued, now, *routing.pick_rules(now)) if tier[0]]


def wait(session: Session, call: Call) -> VoiceResponse:
    """The wait URL, requested each time its TwiML runs out: where the caller stands and how long
    it should take, the choices they have, then hold music or silence until the next turn."""
    resp = VoiceResponse()
    entry = routing.entry_for_call(session, call.call_sid)
    if entry is None:
        resp.leave()  # its row is lost: the Enqueue action routes the call afresh
        return resp
    if entry.state == QueueState.bridged.value and _bridge_still_coming(session, call, entry):
        resp.pause(length=5)  # being put through by the REST API any moment now
        return resp
    if entry.state not in routing.IN_QUEUE:
        resp.leave()  # left already (a retried request): on to the Enqueue action
        return resp
    rules = runtime.catalogue().queue
    now = utcnow()
    waited = now - entry.entered_at
    if waited >= rules.max_wait and routing.leave(session, entry.id, "max_wait", now):
        calls.record_event(session, call, "left_queue", "max_wait")
        resp.leave()
        return resp
    lang = call.language_code
    gather = Gather(num_digits=1, timeout=1, action=external_url("ivr.queue_key"), method="POST")
    pick_rules = routing.pick_rules(now)
    _widen_and_announce(session, call, gather, entry, waited, pick_rules.office_rule, rules)
    _announce_position(session, gather, lang, entry, now, pick_rules, rules)
    if _may_offer_languages(entry, waited, rules):
        speak(gather, lang, "queue_offer_languages", digit=rules.keys["other_languages"],
              languages=spoken_fields.other_languages(entry.language_code))
    for key, way in way_out.offered():
        speak(gather, lang, way.prompt, digit=key)
    until_next = _until_next_step(entry, waited, pick_rules.office_rule, rules)
    if rules.hold_music_url and until_next >= rules.announce_seconds:
        gather.play(rules.hold_music_url)
    else:  # a track lasts as long as it lasts: a step due sooner is waited for in silence
        gather.pause(length=min(rules.announce_seconds, until_next))
    resp.append(gather)
    return resp


def _until_next_step(entry: QueueEntry, waited: timedelta, office_rule, rules) -> int:
    """Whole seconds (at least 1) until the next step of this caller's wait is due: widening to any
    topic, to the other office (while their office is open and the rule keeps them to it), the
    offer of other languages, the longest wait. The turn ends then, so that the wait URL is asked
    for again and the step happens when its time comes (issue 17), not a whole turn later. A large
    number when no step is left."""
    steps = [rules.widen_after, rules.max_wait]
    if office_rule is not None and entry.office_code in office_rule.open_offices:
        steps.append(office_rule.after)
    if _may_offer_languages(entry, rules.offer_languages_after, rules):
        steps.append(rules.offer_languages_after)
    ahead = [step - waited for step in steps if step > waited]
    if not ahead:
        return 24 * 3600
    return max(1, math.ceil(min(ahead).total_seconds()))


def _bridge_still_coming(session: Session, call: Call, entry: QueueEntry) -> bool:
    """A bridged caller asking for the wait URL: True (keep them paused) while the REST redirect may
    still be on its way, or if the entry cannot be unbridged. Still asking after BRIDGE_GRACE, the
    redirect never happened: the entry is unbridged and the caller waits again (False)."""
    if (utcnow() - entry.ended_at < BRIDGE_GRACE
            or not routing.unbridge(session, entry.id, entry.offered_staff_id)):
        return True
    session.refresh(entry)
    calls.record_event(session, call, "bridge_failed")
    routing.caller_may_be_served(entry.id)
    return False


def _widen_and_announce(session: Session, call: Call, gather: Gather, entry: QueueEntry, waited,
                        office_rule, rules) -> None:
    """Widen the entry once it has waited long enough: to any consultant with the caller's language
    (rules.widen_after), then to the other office too (the office rule); the caller hears each once.
    A level the entry (read in this request) has already is not written again: the turns after a
    widening write nothing. A level newly reached is committed with its journal event, and one
    pairing is asked for, after the commit, however many levels this turn reached."""
    lang, level = call.language_code, entry.widen_level
    widened = False
    if (waited >= rules.widen_after and level < 1
            and routing.widen_entry(session, entry.id, 1, commit=False)):
        calls.record_event(session, call, "widened", call.language_code)
        speak(gather, lang, "queue_widened")
        widened = True
    rule = office_rule if level < 2 else None
    if (rule is not None and waited >= rule.after and entry.office_code in rule.open_offices
            and routing.widen_entry(session, entry.id, 2, commit=False)):
        calls.record_event(session, call, "widened", "other_office")
        speak(gather, lang, "queue_widened_office")
        widened = True
    if widened:
        session.commit()  # (record_event commits already; this says that the hint comes after)
        routing.caller_may_be_served(entry.id)


def _announce_position(session: Session, gather: Gather, lang: str, entry: QueueEntry, now, pick_rules,
                       rules) -> None:
    place, expected = routing.wait_figures(session, entry, now, rules=pick_rules,
                                           min_answers=rules.estimate_min_answers)
    speak(gather, lang, "queue_position", position=place)
    if expected is None:
        return  # too few recent answers to estimate from: better nothing than a made-up figure
    if expected < 90:
        speak(gather, lang, "queue_wait_short")
    else:
        speak(gather, lang, "queue_wait", minutes=spoken_fields.minutes(round(expected / 60)))


def _may_offer_languages(entry: QueueEntry, waited, rules) -> bool:
    others = [code for code in rules.other_languages if code != entry.language_code]
    accepted = set(entry.accepts_languages.split(",")) if entry.accepts_languages else set()
    return ("other_languages" in rules.keys and bool(others) and waited >= rules.offer_languages_after
            and not set(others) <= accepted)


def on_key(session: Session, call: Call, digits: str | None) -> VoiceResponse:
    """A key pressed while waiting: a way out leaves the queue (the Enqueue action takes over);
    agreeing to other languages keeps the caller's place. Anything else: back to waiting."""
    resp = VoiceResponse()
    entry = routing.entry_for_call(session, call.call_sid)
    rules = runtime.catalogue().queue
    key = (digits or "").strip()
    if entry is not None and entry.state in routing.IN_QUEUE:
        way = way_out.by_key(key)
        if way is not None and routing.leave(session, entry.id, way.name, utcnow()):
            calls.record_event(session, call, "left_queue", way.name)
            resp.leave()
            return resp
        if (key == rules.keys.get("other_languages")
                and _may_offer_languages(entry, utcnow() - entry.entered_at, rules)):
            others = [code for code in rules.other_languages if code != entry.language_code]
            routing.accept_languages(session, entry.id, others)
            calls.record_event(session, call, "languages_accepted", ",".join(others))
            speak(resp, call.language_code, "queue_languages_accepted",
                  languages=spoken_fields.other_languages(entry.language_code))
            routing.caller_may_be_served(entry.id)
    resp.redirect(external_url("ivr.queue_wait"), method="POST")
    return resp


def on_left(session: Session, call: Call, queue_result: str | None) -> VoiceResponse:
    """The Enqueue action: the caller is out of the queue. Say what comes next."""
    resp = VoiceResponse()
    result = queue_result if queue_result in QUEUE_RESULTS else "error"
    if result in TAKEN_ELSEWHERE:
        return resp
    if result == "hangup":
        routing.call_ended(session, call.call_sid)
        return resp
    asked = ask_for_missing_choice(call, resp)
    if asked is not None:
        return asked
    entry = routing.entry_for_call(session, call.call_sid)
    if entry is None:  # the row was lost: queue the caller again
        return enter(session, call, resp)
    reason = (entry.leave_reason if result == "leave" else None) or result
    if routing.mark_left(session, call.call_sid, reason, utcnow()):  # not journalled yet
        calls.record_event(session, call, "left_queue", reason)
    way = way_out.by_name(reason)
    if way is not None:
        return way.handler(session, call, resp)
    lang = call.language_code
    if reason == "max_wait":
        speak(resp, lang, "queue_too_long")
    elif result == "queue-full":
        speak(resp, lang, "queue_full")
    return ways_out(session, call, resp)


def ways_out(session: Session, call: Call, resp: VoiceResponse) -> VoiceResponse:
    """Offer the ways out there are (callback, voicemail); without any, say when to call again."""
    offered = way_out.offered()
    if not offered:
        return nobody_free.all_busy(session, call, resp)
    gather = Gather(num_digits=1, timeout=8, action_on_empty_result=True, method="POST",
                    action=external_url("ivr.queue_way_out"))
    for key, way in offered:
        speak(gather, call.language_code, way.prompt, digit=key)
    resp.append(gather)
    return resp


def on_way_out(session: Session, call: Call, digits: str | None) -> VoiceResponse:
    """The caller's answer to ways_out(): the way they chose, or when to call again."""
    resp = VoiceResponse()
    asked = ask_for_missing_choice(call, resp)
    if asked is not None:
        return asked
    way = way_out.by_key(digits)
    if way is not None:
        calls.record_event(session, call, "way_out", way.name)
        return way.handler(session, call, resp)
    return nobody_free.all_busy(session, call, resp)
