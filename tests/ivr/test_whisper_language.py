"""The language a consultant hears (the whisper before accepting, and what they are told after it)
is one they list: their own whisper language if set, else the configured staff_language when they
list it, else the first language they list (issue 17: Bulgarian was whispered to consultants who
do not speak it). Driven through the signed webhooks, rung by a <Dial> and from the queue."""
from __future__ import annotations

from hotline.dev.twilio_stand_in import ConsultantLeg
from tests.conftest import services_of
from tests.support.helpers import add_consultant, add_staff_with_token
from tests.support.journeys import answer_and_press, prompt, route, texts, verbs
from tests.support.queueing import enqueued, run_jobs, rung, wait_turn


def _whisper(app, lang: str, caller_language: str, topic: str) -> str:
    """The whisper's words in `lang` for a caller of `caller_language` x `topic`."""
    catalogue = services_of(app).catalogue
    return prompt(app, lang, "whisper", language=catalogue.term(lang, "languages", caller_language),
                  topic=catalogue.term(lang, "topics", topic))


def test_a_consultant_who_lists_only_russian_hears_the_whisper_and_its_refusal_in_russian(app, db, twilio):
    add_consultant(app, db, "Olga", languages=["ru"], topics=["health"])
    call = route(twilio, "ru", "health")
    leg = ConsultantLeg.from_dial(call)
    assert texts(leg.answer()) == [_whisper(app, "ru", "ru", "health")]
    declined = leg.press("9")
    assert texts(declined) == [prompt(app, "ru", "whisper_declined")] and verbs(declined) == ["Say", "Hangup"]


def test_the_first_language_a_consultant_lists_is_the_one_they_hear(app, db, client, twilio, twilio_api):
    """Rung from the queue: Ukrainian first, Russian second, no Bulgarian: Ukrainian."""
    olena = add_consultant(app, db, "Olena", languages=["uk", "ru"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    call = route(twilio, "ru", "health")
    wait_turn(call, enqueued(call))
    assert client.put(f"/api/consultants/{olena.id}/status", json={"status": "available"},
                      headers={"Authorization": f"Bearer {token}"}).status_code == 200
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    assert texts(leg.answer()) == [_whisper(app, "uk", "ru", "health")]


def test_a_consultant_who_lists_bulgarian_hears_bulgarian_the_configured_staff_language(app, db, twilio):
    add_consultant(app, db, "Maria", languages=["en", "bg"], topics=["health"])
    call = route(twilio, "en", "health")
    assert texts(answer_and_press(call, "9")) == [prompt(app, "bg", "whisper_declined")]
