"""Widening, announced to the caller: after widen_after_seconds any consultant with the caller's
language (whatever the topic); never one without it, unless the caller agrees to English or
Bulgarian when offered, in the queue or at once when their language has nobody on duty."""
from __future__ import annotations

from datetime import timedelta

from hotline.models import utcnow
from tests.support.clock import set_clock
from tests.support.helpers import add_consultant, new_call
from tests.support.journeys import (
    LANGUAGE_KEYS,
    TOPIC_KEYS,
    dialled,
    journal,
    prompt,
    route,
    status_of,
    texts,
)
from tests.support.queueing import enqueued, entry_of, run_jobs, rung, wait_turn


def test_after_the_widening_wait_any_consultant_with_the_language_is_rung_and_the_caller_told(
        app, db, twilio, twilio_api, monkeypatch):
    other_topic = add_consultant(app, db, "Social only", languages=["en"], topics=["social"])
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    run_jobs(app)
    assert rung(twilio, twilio_api) == []  # the right language, not the topic: not yet

    first_turn = wait_turn(call, enqueue)
    assert prompt(app, "en", "queue_widened") not in texts(first_turn)

    set_clock(monkeypatch, utcnow() + timedelta(seconds=121))
    widened = wait_turn(call, enqueue)
    assert texts(widened)[0] == prompt(app, "en", "queue_widened")
    assert prompt(app, "en", "queue_widened") not in texts(wait_turn(call, enqueue))  # said once
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    assert leg.staff_id == other_topic.id
    assert entry_of(db, call).widen_level == 1
    assert ("widened", "en", None) in journal(db, call)


def test_widening_never_reaches_a_consultant_without_the_callers_language(app, db, twilio, twilio_api,
                                                                          monkeypatch):
    russian = add_consultant(app, db, "Russian", languages=["ru"], topics=["health"])
    call = route(twilio, "ar", "health")
    enqueue = enqueued(call)
    set_clock(monkeypatch, utcnow() + timedelta(seconds=200))
    wait_turn(call, enqueue)
    run_jobs(app)
    assert rung(twilio, twilio_api) == []
    assert status_of(db, russian) == ("available", None)


def test_a_long_wait_offers_english_or_bulgarian_and_agreeing_reaches_an_english_consultant(
        app, db, twilio, twilio_api, monkeypatch):
    english = add_consultant(app, db, "English", languages=["en"], topics=["health"])
    call = route(twilio, "uk", "health")
    enqueue = enqueued(call)
    offer = "Якщо ви можете розмовляти також англійською або болгарською, натисніть 3."
    assert offer not in texts(wait_turn(call, enqueue))

    set_clock(monkeypatch, utcnow() + timedelta(seconds=241))
    turn = wait_turn(call, enqueue)
    assert offer in texts(turn)
    agreed = call.press("3")
    assert texts(agreed) == [prompt(app, "uk", "queue_languages_accepted",
                                    languages="англійською або болгарською")]
    assert agreed.find("Redirect").text == enqueue.attrib["waitUrl"]  # back to waiting, same place
    assert offer not in texts(wait_turn(call, enqueue))  # asked once agreed: not again
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    assert leg.staff_id == english.id
    whisper = leg.answer()
    assert texts(whisper) == [prompt(app, "en", "whisper_other_language", language="Ukrainian",
                                     other="English", topic="health")]
    assert ("languages_accepted", "en,bg", None) in journal(db, call)


def test_an_english_caller_is_offered_only_bulgarian_and_a_bulgarian_caller_only_english(
        app, db, twilio, twilio_api, monkeypatch):
    english, bulgarian = route(twilio, "en", "health"), route(twilio, "bg", "health")
    queued = [(english, enqueued(english)), (bulgarian, enqueued(bulgarian))]
    set_clock(monkeypatch, utcnow() + timedelta(seconds=241))
    heard = [texts(wait_turn(call, enqueue)) for call, enqueue in queued]
    assert "If you can also speak Bulgarian, press 3." in heard[0]
    assert "Ако можете да говорите и на английски, натиснете 3." in heard[1]
    assert not any("English" in text for text in heard[0])
    assert texts(english.press("3")) == [
        "Thank you. A consultant who speaks Bulgarian may now take your call too."]
    assert ("languages_accepted", "bg", None) in journal(db, english)


def test_other_keys_while_waiting_change_nothing(app, db, twilio, twilio_api):
    call = route(twilio, "uk", "health")
    enqueue = enqueued(call)
    wait_turn(call, enqueue)
    answer = call.press("3")  # not offered yet: keeps waiting, agrees to nothing
    assert texts(answer) == [] and answer.find("Redirect") is not None
    assert entry_of(db, call).accepts_languages is None


def _nobody_on_duty_in(db, languages_on_duty, code: str) -> None:
    for staff in languages_on_duty:
        if staff.skills[0].language_code == code:
            staff.status = "offline"
    db.commit()


def test_a_language_with_nobody_on_duty_is_told_at_once_and_english_or_bulgarian_offered(
        app, db, twilio, twilio_api, languages_on_duty):
    _nobody_on_duty_in(db, languages_on_duty, "ar")
    english = add_consultant(app, db, "English", languages=["en"], topics=["health"])
    call = new_call(twilio)
    call.ring()
    told = call.press(LANGUAGE_KEYS["ar"])
    assert texts(told) == [prompt(app, "ar", "language_unstaffed", language="العربية"),
                           prompt(app, "ar", "language_alternatives", digit="3",
                                  languages="بالإنجليزية أو بالبلغارية")]
    menu = call.press("3")
    assert texts(menu)[0] == prompt(app, "ar", "topic_intro")
    call.press(TOPIC_KEYS["health"])
    assert dialled(call) == english.phone  # rung straight away, in English
    assert ("languages_accepted", "en,bg", None) in journal(db, call)


def test_a_bulgarian_caller_with_nobody_on_duty_is_offered_only_english(app, db, twilio, twilio_api,
                                                                       languages_on_duty):
    _nobody_on_duty_in(db, languages_on_duty, "bg")
    call = new_call(twilio)
    call.ring()
    told = call.press(LANGUAGE_KEYS["bg"])
    assert "Ако можете да говорите на английски, натиснете 3 и първият свободен консултант ще приеме " \
           "обаждането Ви. Иначе, моля, останете на линия." in texts(told)


def test_a_caller_who_lets_the_offer_pass_waits_for_their_own_language(app, db, twilio, twilio_api,
                                                                         languages_on_duty):
    _nobody_on_duty_in(db, languages_on_duty, "ar")
    add_consultant(app, db, "English", languages=["en"], topics=["health"])
    call = new_call(twilio)
    call.ring()
    call.press(LANGUAGE_KEYS["ar"])
    menu = call.silence()
    assert texts(menu)[0] == prompt(app, "ar", "topic_intro")
    call.press(TOPIC_KEYS["health"])
    assert enqueued(call).text == "ar-health"
    run_jobs(app)
    assert rung(twilio, twilio_api) == []

