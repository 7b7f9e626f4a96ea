"""The rules of the queue ([queue] in the configuration), driven through the signed webhooks as
Twilio drives them: urgent topics first, the longest wait across a consultant's queues, the size
and wait limits, the ways out other areas register, the estimated wait, and every way Twilio's
<Enqueue> action can come back (QueueResult)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

import routing
from hotline.dev.twilio_stand_in import new_sid
from hotline.models import QueueEntry, utcnow
from ivr import way_out
from tests.conftest import PUBLIC_BASE_URL, config_with
from tests.support.clock import set_clock
from tests.support.helpers import add_consultant, add_staff_with_token
from tests.support.journeys import hang_up, heard, journal, prompt, record_of, route, status_of, texts, verbs
from tests.support.queueing import enqueued, entry_of, leaves_queue, run_jobs, rung, wait_turn

QUEUE_LEFT_URL = PUBLIC_BASE_URL + "/ivr/queue/left"
QUEUE_WAIT_URL = PUBLIC_BASE_URL + "/ivr/queue/wait"


# -- configuration -----------------------------------------------------------------------------------

@pytest.fixture
def queue_rules() -> str:
    """Lines of the [queue] table for this test (over the packaged defaults); see with_rules()."""
    return ""


@pytest.fixture
def app_config(app_config, tmp_path, queue_rules):
    if not queue_rules:
        return app_config
    return {**app_config, "HOTLINE_CONFIG": config_with(tmp_path, "[queue]\n" + queue_rules)}


def with_rules(toml: str):
    """Run the test with these [queue] lines in the configuration."""
    return pytest.mark.parametrize("queue_rules", [toml], ids=["rules"])


# -- helpers -------------------------------------------------------------------------------------------

def _set_status(client, token: str, staff_id: int, status: str) -> None:
    response = client.put(f"/api/consultants/{staff_id}/status", json={"status": status},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()


def _becomes_available(app, client, token: str, staff) -> None:
    """The consultant sets themselves available through the API, and the pairing job runs."""
    _set_status(client, token, staff.id, "available")
    run_jobs(app)


def _rung_for(leg) -> str:
    """The caller's CallSid a consultant's phone was rung for (the `call` of its whisper URL)."""
    return parse_qs(urlsplit(leg.request.data["Url"]).query)["call"][0]


def _position_heard(call) -> str:
    """The first thing a waiting caller hears on their next turn of the wait."""
    return texts(wait_turn(call, enqueued(call)))[0]


def _backdate(db, call, minutes: int) -> None:
    """The caller first rang `minutes` ago (as a caller whose place was kept would have): only the
    order of service moves; entered_at stays, so nobody is widened by this."""
    db.execute(update(QueueEntry).where(QueueEntry.call_sid == call.call_sid)
               .values(first_rang_at=utcnow() - timedelta(minutes=minutes)))
    db.commit()


def _ends_call(root: ET.Element) -> bool:
    return verbs(root)[-1] == "Hangup"


# -- urgent topics ---------------------------------------------------------------------------------

@with_rules('urgent_topics = ["residence"]')
def test_an_urgent_caller_goes_before_callers_queued_earlier_and_is_rung_first(
        app, db, client, twilio, twilio_api):
    """Two callers queued before residence was made urgent (the rule changed with a restart while
    they waited): a residence caller arriving after them is number 1 and gets the consultant."""
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["residence"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    first = route(twilio, "en", "residence")
    second = route(twilio, "en", "residence")
    assert entry_of(db, first).urgent  # the rule applies to every residence caller now
    db.execute(update(QueueEntry).where(QueueEntry.call_sid.in_([first.call_sid, second.call_sid]))
               .values(urgent=False))
    db.commit()

    urgent = route(twilio, "en", "residence")
    assert entry_of(db, urgent).urgent
    assert _position_heard(urgent) == prompt(app, "en", "queue_position", position=1)
    assert _position_heard(first) == prompt(app, "en", "queue_position", position=2)
    assert _position_heard(second) == prompt(app, "en", "queue_position", position=3)

    run_jobs(app)
    assert rung(twilio, twilio_api) == []
    _becomes_available(app, client, token, maria)
    [leg] = rung(twilio, twilio_api)
    assert (leg.staff_id, _rung_for(leg)) == (maria.id, urgent.call_sid)
    assert status_of(db, maria) == ("offered", urgent.call_sid)
    assert entry_of(db, urgent).state == "offered" and entry_of(db, first).state == "waiting"


@with_rules('urgent_topics = ["residence"]')
def test_urgent_callers_are_served_before_other_topics_and_among_themselves_in_order(
        app, db, client, twilio, twilio_api):
    """A consultant with residence and health: the health callers waited longer, yet the urgent
    residence callers are rung for first, in their own order of arrival."""
    ivan = add_consultant(app, db, "Ivan", languages=["en"], topics=["health", "residence"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    health = [route(twilio, "en", "health"), route(twilio, "en", "health")]
    residence = [route(twilio, "en", "residence"), route(twilio, "en", "residence")]
    assert not entry_of(db, health[0]).urgent
    assert [_position_heard(call) for call in residence] == [
        prompt(app, "en", "queue_position", position=1), prompt(app, "en", "queue_position", position=2)]
    run_jobs(app)

    _becomes_available(app, client, token, ivan)
    [leg] = rung(twilio, twilio_api)
    assert _rung_for(leg) == residence[0].call_sid
    assert entry_of(db, health[0]).state == "waiting"


# -- across a consultant's queues ------------------------------------------------------------------

@pytest.mark.parametrize("oldest_topic", ["health", "social"])
def test_a_consultant_with_two_skills_gets_the_longest_waiting_caller_of_either_queue(
        app, db, client, twilio, twilio_api, oldest_topic):
    """Callers of en-health and en-social arrive alternately; the first caller rang 9 minutes ago
    in one queue or the other: each consultant who becomes free gets the longest wait left."""
    first = add_consultant(app, db, "First", languages=["en"], topics=["health", "social"], status="busy")
    second = add_consultant(app, db, "Second", languages=["en"], topics=["social", "health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    callers = {topic: [route(twilio, "en", topic) for _ in range(2)] for topic in ("health", "social")}
    other_topic = "social" if oldest_topic == "health" else "health"
    # Oldest first: the head of `oldest_topic`, then the other queue's head, then the next of each.
    order = [callers[oldest_topic][0], callers[other_topic][0],
             callers[oldest_topic][1], callers[other_topic][1]]
    for minutes, call in zip((9, 7, 5, 3), order, strict=True):
        _backdate(db, call, minutes)
    run_jobs(app)

    _becomes_available(app, client, token, first)
    _becomes_available(app, client, token, second)
    legs = rung(twilio, twilio_api)
    assert [(leg.staff_id, _rung_for(leg)) for leg in legs] == [
        (first.id, order[0].call_sid), (second.id, order[1].call_sid)]
    assert [entry_of(db, call).state for call in order] == ["offered", "offered", "waiting", "waiting"]


# -- max size ---------------------------------------------------------------------------------------

@with_rules("max_size = 2")
def test_a_full_queue_turns_the_next_caller_away_with_the_all_busy_message(app, db, twilio, twilio_api):
    add_consultant(app, db, "On a call", languages=["en"], topics=["health", "social"], status="busy")
    queued = [route(twilio, "en", "health"), route(twilio, "en", "health")]
    assert all(enqueued(call) is not None for call in queued)

    turned_away = route(twilio, "en", "health")
    assert turned_away.last.find("Enqueue") is None
    assert texts(turned_away.last) == [prompt(app, "en", "connecting"), prompt(app, "en", "queue_full"),
                                       prompt(app, "en", "all_busy_later"), prompt(app, "en", "goodbye")]
    assert _ends_call(turned_away.last)
    assert entry_of(db, turned_away) is None
    kinds = [(kind, detail) for kind, detail, _ in journal(db, turned_away)]
    assert ("queue_full", "en-health") in kinds and kinds[-1] == ("no_consultant", None)
    hang_up(turned_away, duration=20)
    assert record_of(db, turned_away).outcome == "no_consultant"

    # Another topic, or another language, is a queue of its own with its own room.
    assert enqueued(route(twilio, "en", "social")).text == "en-social"
    assert enqueued(route(twilio, "uk", "health")).text == "uk-health"
    # A caller who gives up makes room for the next.
    hang_up(queued[0], duration=40)
    assert enqueued(route(twilio, "en", "health")).text == "en-health"


@with_rules("max_size = 0")
def test_max_size_zero_queues_nobody(app, db, twilio, twilio_api):
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    assert call.last.find("Enqueue") is None
    assert texts(call.last) == [prompt(app, "en", "connecting"), prompt(app, "en", "all_busy_later"),
                                prompt(app, "en", "goodbye")]
    assert _ends_call(call.last)
    assert entry_of(db, call) is None
    assert "queue_full" not in [kind for kind, _, _ in journal(db, call)]


# -- max wait ---------------------------------------------------------------------------------------

@with_rules("max_wait_seconds = 60")
def test_a_caller_past_the_longest_wait_leaves_the_queue_and_hears_the_all_busy_message(
        app, db, twilio, twilio_api, monkeypatch):
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    assert texts(wait_turn(call, enqueue))[0] == prompt(app, "en", "queue_position", position=1)

    later = utcnow() + timedelta(seconds=61)
    set_clock(monkeypatch, later)
    assert verbs(wait_turn(call, enqueue)) == ["Leave"]
    left = leaves_queue(call, enqueue, "leave")
    assert texts(left) == [prompt(app, "en", "queue_too_long"), prompt(app, "en", "all_busy_later"),
                           prompt(app, "en", "goodbye")]
    assert _ends_call(left)
    entry = entry_of(db, call)
    assert (entry.state, entry.result, entry.ended_at) == ("left", "max_wait", later)
    assert ("left_queue", "max_wait", None) in journal(db, call)


@with_rules("max_wait_seconds = 60")
def test_a_caller_whose_consultant_is_ringing_is_not_sent_away_at_the_longest_wait(
        app, db, client, twilio, twilio_api, monkeypatch):
    """The consultant picking up any second now should find the caller still there."""
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    call = route(twilio, "en", "health")
    run_jobs(app)
    _becomes_available(app, client, token, maria)
    assert entry_of(db, call).state == "offered"

    set_clock(monkeypatch, utcnow() + timedelta(seconds=61))
    heard = wait_turn(call, enqueued(call))
    assert "Leave" not in verbs(heard)
    assert texts(heard)[0] == prompt(app, "en", "queue_position", position=1)
    assert entry_of(db, call).state == "offered"


# -- ways out other areas register -------------------------------------------------------------------

@pytest.fixture
def callback_way_out(app):
    """A callback way out, as the callbacks area would register it: the calls it was given."""
    taken: list[str] = []

    def handler(session, call, resp):
        taken.append(call.call_sid)
        resp.say("We will call you back.")
        resp.hangup()
        return resp

    way_out.register(app, "callback", "queue_exit_callback", handler)
    yield taken
    way_out.unregister(app, "callback")


def test_without_a_registered_way_out_the_wait_offers_none_and_its_key_does_nothing(
        app, db, twilio, twilio_api):
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    heard = wait_turn(call, enqueue)
    assert texts(heard) == [prompt(app, "en", "queue_position", position=1)]
    # The callback key ([queue.keys] callback = "1") keeps the caller waiting.
    pressed = call.press("1")
    assert verbs(pressed) == ["Redirect"] and pressed.find("Redirect").text == QUEUE_WAIT_URL
    entry = entry_of(db, call)
    assert (entry.state, entry.leave_reason) == ("waiting", None)


def test_a_registered_way_out_is_offered_and_taken_from_the_wait(
        app, db, twilio, twilio_api, callback_way_out):
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    heard = wait_turn(call, enqueue)
    # Voicemail has a key too, but nobody registered it: only the callback is offered.
    assert texts(heard) == [prompt(app, "en", "queue_position", position=1),
                            prompt(app, "en", "queue_exit_callback", digit="1")]

    assert verbs(call.press("1")) == ["Leave"]
    assert callback_way_out == []  # the way out runs in the Enqueue action, not at the key
    left = leaves_queue(call, enqueue, "leave")
    assert texts(left) == ["We will call you back."] and _ends_call(left)
    assert callback_way_out == [call.call_sid]
    entry = entry_of(db, call)
    assert (entry.state, entry.result) == ("left", "callback")
    assert ("left_queue", "callback", None) in journal(db, call)


@with_rules("max_wait_seconds = 60")
@pytest.mark.parametrize("why", ["callback", "max_wait"])
def test_a_consultant_is_not_left_ringing_for_a_caller_who_has_just_left_the_queue(
        app, db, client, twilio, twilio_api, monkeypatch, callback_way_out, why):
    start = utcnow()
    set_clock(monkeypatch, start)  # however long the test takes, the caller waits 60 s only below
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    run_jobs(app)
    if why == "callback":
        wait_turn(call, enqueue)
        assert verbs(call.press("1")) == ["Leave"]
    else:
        set_clock(monkeypatch, start + timedelta(seconds=61))
        assert verbs(wait_turn(call, enqueue)) == ["Leave"]
    # Maria becomes free before Twilio has requested the Enqueue action.
    _becomes_available(app, client, token, maria)
    leaves_queue(call, enqueue, "leave")
    assert entry_of(db, call).state == "left"

    for leg in rung(twilio, twilio_api):
        assert {"Status": "canceled"} in twilio_api.updates_of(leg.request.sid)
        leg.ends("canceled")
    assert status_of(db, maria) == ("available", None)


@with_rules("max_size = 0")
def test_a_caller_who_cannot_be_queued_is_offered_the_registered_ways_out(app, db, twilio, twilio_api,
                                                                           callback_way_out):
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    assert texts(call.gather()) == [prompt(app, "en", "queue_exit_callback", digit="1")]
    taken = call.press("1")
    assert texts(taken) == ["We will call you back."]
    assert callback_way_out == [call.call_sid]
    assert ("way_out", "callback", None) in journal(db, call)


# -- estimated wait ---------------------------------------------------------------------------------

def test_without_recent_answers_the_wait_tells_the_position_only(app, db, twilio, twilio_api):
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    heard = texts(wait_turn(call, enqueued(call)))
    assert heard == [prompt(app, "en", "queue_position", position=1)]


def test_the_wait_estimate_follows_the_queues_answers_of_the_last_half_hour(app, db, twilio, twilio_api):
    """4 callers of en-health bridged in the last 30 minutes: one answer per 450 s, so the
    caller at number 2 expects 900 s, "about 15 minutes". Older answers and other queues' do not count."""
    add_consultant(app, db, "On a call", languages=["en"], topics=["health", "social"], status="busy")
    now = utcnow()
    answered = [route(twilio, "en", "health") for _ in range(5)]
    for minutes, call in zip((1, 10, 20, 29, 31), answered, strict=True):  # the last: outside the window
        assert routing.mark_bridged(db, entry_of(db, call).id, now - timedelta(minutes=minutes))
    other_queue = route(twilio, "en", "social")
    assert routing.mark_bridged(db, entry_of(db, other_queue).id, now - timedelta(minutes=1))

    first, second = route(twilio, "en", "health"), route(twilio, "en", "health")
    heard = texts(wait_turn(second, enqueued(second)))
    assert heard == [prompt(app, "en", "queue_position", position=2),
                     "Your expected wait is about 15 minutes."]
    # Number 1: 450 s, said as whole minutes (8).
    assert texts(wait_turn(first, enqueued(first)))[1] == "Your expected wait is about 8 minutes."
    # The social caller's queue has a single recent answer: too few to say a wait from (issue 17:
    # this said "about 30 minutes"; tests/routing/test_wait_estimate.py).
    social = route(twilio, "en", "social")
    assert texts(wait_turn(social, enqueued(social))) == [prompt(app, "en", "queue_position", position=1)]


@pytest.mark.parametrize("lang, said", [("ru", "Примерное время ожидания — 30 минут."),
                                        ("ar", "مدة الانتظار المتوقعة: 30 دقيقة تقريباً."),
                                        ("fa", "زمان انتظار شما حدود 30 دقیقه است.")])
def test_the_wait_is_said_in_minutes_of_the_callers_language(app, db, twilio, twilio_api, lang, said):
    """Three answers in the last half hour and two callers ahead: 30 minutes, in the plural form of
    the language (Farsi, with no voice, in audio its speech engine renders from the text signed in
    the <Play>'s URL)."""
    add_consultant(app, db, "On a call", languages=[lang], topics=["health"], status="busy")
    for minutes in (1, 2, 3):
        answered = route(twilio, lang, "health")
        assert routing.mark_bridged(db, entry_of(db, answered).id, utcnow() - timedelta(minutes=minutes))
    ahead = [route(twilio, lang, "health") for _ in range(2)]
    assert all(enqueued(call) is not None for call in ahead)
    call = route(twilio, lang, "health")
    assert heard(app, wait_turn(call, enqueued(call)))[1] == said


def test_a_fast_queue_promises_about_a_minute(app, db, twilio, twilio_api):
    """21 answers in 30 minutes: number 1 expects under 90 s, said as "about a minute"."""
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    now = utcnow()
    for n in range(21):
        call = route(twilio, "en", "health")
        assert routing.mark_bridged(db, entry_of(db, call).id, now - timedelta(seconds=30 + n))
    call = route(twilio, "en", "health")
    assert texts(wait_turn(call, enqueued(call))) == [prompt(app, "en", "queue_position", position=1),
                                                      prompt(app, "en", "queue_wait_short")]


# -- QueueResult: how the caller came out of <Enqueue> ------------------------------------------------

def test_a_caller_who_hangs_up_in_the_queue_is_abandoned_once(app, db, twilio, twilio_api):
    """Twilio requests the Enqueue action (hangup) and then the status callback: the second must
    not touch the entry again."""
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    gone = leaves_queue(call, enqueued(call), "hangup")
    assert len(gone) == 0
    entry = entry_of(db, call)
    assert (entry.state, entry.result) == ("abandoned", "hangup")
    ended_at = entry.ended_at
    assert ended_at is not None

    hang_up(call, duration=70)
    entry = entry_of(db, call)
    assert (entry.state, entry.result, entry.ended_at) == ("abandoned", "hangup", ended_at)
    assert record_of(db, call).outcome == "abandoned"


def test_a_caller_who_hangs_up_while_their_consultant_rings_frees_the_consultant_for_the_next(
        app, db, client, twilio, twilio_api):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    first, second = route(twilio, "en", "health"), route(twilio, "en", "health")
    run_jobs(app)
    _becomes_available(app, client, token, maria)
    [leg] = rung(twilio, twilio_api)
    assert _rung_for(leg) == first.call_sid

    assert len(leaves_queue(first, enqueued(first), "hangup")) == 0
    assert entry_of(db, first).state == "abandoned"
    assert {"Status": "canceled"} in twilio_api.updates_of(leg.request.sid)  # her phone stops ringing
    run_jobs(app)
    assert [_rung_for(leg) for leg in rung(twilio, twilio_api)] == [first.call_sid, second.call_sid]
    assert status_of(db, maria) == ("offered", second.call_sid)


@pytest.mark.parametrize("result", ["bridged", "bridging-in-process", "redirected",
                                    "redirected-from-bridged"])
def test_a_caller_taken_out_of_the_queue_elsewhere_gets_an_empty_response(
        app, db, twilio, twilio_api, result):
    """The REST redirect drives the call now: the Enqueue action must add nothing to it."""
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    answer = leaves_queue(call, enqueued(call), result)
    assert answer.tag == "Response" and len(answer) == 0


@pytest.mark.parametrize("result", [None, "", "error", "system-error", "no-such-result", "queue-full"])
def test_an_unexpected_or_missing_queue_result_still_ends_the_call_with_the_all_busy_message(
        app, db, twilio, twilio_api, result):
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    call = route(twilio, "en", "health")
    params = {"QueueSid": "QU" + "1" * 32, "QueueTime": "30"}
    if result is not None:
        params["QueueResult"] = result
    answer = call.follow(enqueued(call).attrib["action"], **params)
    assert texts(answer)[-2:] == [prompt(app, "en", "all_busy_later"), prompt(app, "en", "goodbye")]
    assert _ends_call(answer)
    assert entry_of(db, call).state == "left"


def _unknown_call_params(twilio, call_sid: str | None, **extra: str) -> dict[str, str]:
    params = {"CallSid": call_sid, "AccountSid": twilio.account_sid, "From": "+359888123456",
              "To": "+35924916000", "CallStatus": "in-progress", **extra}
    return {key: value for key, value in params.items() if value is not None}


def _twiml(twilio, url: str, params: dict[str, str]) -> ET.Element:
    status, body = twilio.request(url, params)
    assert status == 200 and body.strip(), (status, body[:300])
    root = ET.fromstring(body)
    assert root.tag == "Response"
    return root


@pytest.mark.parametrize("result", ["leave", "error", None])
def test_the_enqueue_action_without_a_call_sid_still_ends_the_call_in_words(app, db, twilio, twilio_api,
                                                                           result):
    """Never a 500 or an empty body (the caller would hear "an application error")."""
    root = _twiml(twilio, QUEUE_LEFT_URL, _unknown_call_params(twilio, None, QueueResult=result))
    assert texts(root) and _ends_call(root)


@pytest.mark.parametrize("result", ["leave", "error", None])
def test_the_enqueue_action_for_a_call_it_does_not_know_asks_for_the_language(app, db, twilio, twilio_api,
                                                                             result):
    """A call without a language and topic is asked for them, not queued (nor apologised to)."""
    sid = new_sid()
    root = _twiml(twilio, QUEUE_LEFT_URL, _unknown_call_params(twilio, sid, QueueResult=result))
    assert root.find("Gather").attrib["action"].endswith("/ivr/language?attempt=0")
    assert db.scalar(select(QueueEntry).where(QueueEntry.call_sid == sid)) is None


def test_the_enqueue_action_after_an_unknown_caller_hung_up_answers_an_empty_response(
        app, twilio, twilio_api):
    root = _twiml(twilio, QUEUE_LEFT_URL, _unknown_call_params(twilio, new_sid(), QueueResult="hangup"))
    assert len(root) == 0


def test_the_wait_url_for_a_call_without_an_entry_sends_it_to_the_enqueue_action(app, twilio, twilio_api):
    """<Leave/>: the Enqueue action then decides what the caller hears."""
    assert verbs(_twiml(twilio, QUEUE_WAIT_URL, _unknown_call_params(twilio, new_sid()))) == ["Leave"]
    root = _twiml(twilio, QUEUE_WAIT_URL, _unknown_call_params(twilio, None))
    assert texts(root) and _ends_call(root)
