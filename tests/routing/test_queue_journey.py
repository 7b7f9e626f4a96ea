"""Whole calls through the queue: nobody free, the caller waits and hears their place; a consultant
becomes free, is rung through the REST API, accepts, and the caller is put through to them."""
from __future__ import annotations

from datetime import timedelta

from hotline.models import utcnow
from tests.support.helpers import add_consultant, add_staff_with_token
from tests.support.journeys import hang_up, journal, prompt, record_of, route, status_of, stored_call, texts
from tests.support.queueing import enqueued, entry_of, redirect_of, run_jobs, rung, wait_turn


def _set_status(client, token: str, staff_id: int, status: str) -> None:
    response = client.put(f"/api/consultants/{staff_id}/status", json={"status": status},
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_json()


def test_nobody_free_queues_the_caller_in_their_language_and_topic(app, db, twilio, twilio_api):
    add_consultant(app, db, "On a call", languages=["ru"], topics=["health"], status="busy")
    call = route(twilio, "ru", "health")
    enqueue = enqueued(call)
    assert enqueue.text == "ru-health"
    assert texts(call.last) == [prompt(app, "ru", "connecting"), prompt(app, "ru", "queue_entered")]
    assert entry_of(db, call).state == "waiting"
    assert [kind for kind, _, _ in journal(db, call)][-1] == "queued"
    assert stored_call(db, call).stage == "queued"


def test_the_wait_tells_each_caller_their_place_in_their_language(app, db, twilio, twilio_api):
    add_consultant(app, db, "On a call", languages=["en", "uk"], topics=["health"], status="busy")
    first = route(twilio, "en", "health")
    second = route(twilio, "uk", "health")
    third = route(twilio, "en", "health")
    heard_first = wait_turn(first, enqueued(first))
    heard_third = wait_turn(third, enqueued(third))
    heard_second = wait_turn(second, enqueued(second))
    assert texts(heard_first)[0] == prompt(app, "en", "queue_position", position=1)
    assert texts(heard_third)[0] == prompt(app, "en", "queue_position", position=2)
    # Ukrainian health is a queue of its own.
    assert texts(heard_second)[0] == prompt(app, "uk", "queue_position", position=1)
    # Between announcements: silence for the configured interval, inside a <Gather> for the keys.
    pause = heard_first.find("Gather/Pause")
    assert pause is not None and pause.attrib["length"] == "45"


def test_a_consultant_who_becomes_available_is_rung_and_bridged_to_the_longest_waiting_caller(
        app, db, client, twilio, twilio_api):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    first = route(twilio, "en", "health")
    second = route(twilio, "en", "health")
    run_jobs(app)
    assert rung(twilio, twilio_api) == []  # nobody free yet

    _set_status(client, token, maria.id, "available")
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    assert leg.phone == maria.phone and leg.staff_id == maria.id
    assert status_of(db, maria) == ("offered", first.call_sid)
    assert entry_of(db, first).state == "offered" and entry_of(db, second).state == "waiting"

    whisper = leg.answer()  # in English, the language she lists
    assert texts(whisper) == [prompt(app, "en", "whisper", language="English", topic="health")]
    joined = leg.press("1")
    conference = joined.find("Dial/Conference")
    assert conference is not None and conference.text == f"hotline-{first.call_sid}"
    assert status_of(db, maria) == ("busy", first.call_sid)

    # The caller is taken out of the queue through the REST API into the same conference.
    bridge_url = redirect_of(twilio_api, first)
    assert bridge_url is not None
    bridged = first.follow(bridge_url)
    assert texts(bridged) == [prompt(app, "en", "queue_connecting")]
    assert bridged.find("Dial/Conference").text == conference.text
    assert entry_of(db, first).state == "bridged"
    kinds = [kind for kind, _, _ in journal(db, first)]
    assert kinds[-4:] == ["queued", "offered", "accepted", "bridged"]

    # The consultant hangs up: goodbye to the caller, wrap-up for the consultant, one record.
    goodbye = first.dial_ends("completed", duration=300)
    assert texts(goodbye) == [prompt(app, "en", "goodbye")]
    hang_up(first, duration=400)
    assert status_of(db, maria)[0] == "wrap_up"
    record = record_of(db, first)
    assert (record.outcome, record.consultant_id) == ("answered", maria.id)
    # The second caller still waits, now first in line.
    assert texts(wait_turn(second, enqueued(second)))[0] == prompt(app, "en", "queue_position", position=1)


def test_a_caller_who_hangs_up_while_waiting_is_abandoned_and_leaves_the_queue(app, db, twilio, twilio_api):
    add_consultant(app, db, "On a call", languages=["en"], topics=["health"], status="busy")
    first = route(twilio, "en", "health")
    second = route(twilio, "en", "health")
    hang_up(first, duration=95)
    assert entry_of(db, first).state == "abandoned"
    assert record_of(db, first).outcome == "abandoned"
    assert ("abandoned", "queued", None) in journal(db, first)
    assert texts(wait_turn(second, enqueued(second)))[0] == prompt(app, "en", "queue_position", position=1)


def test_the_end_of_a_wrap_up_puts_the_next_waiting_caller_through(app, db, client, twilio, twilio_api):
    """After a call the consultant is in wrap-up; a job scheduled (RQ's scheduler) for its end rings
    them for the next caller."""
    from rq.job import Job

    from routing import jobs
    from tests.conftest import services_of

    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    _, token = add_staff_with_token(app, db, "Supervisor")
    first = route(twilio, "en", "health")
    second = route(twilio, "en", "health")
    _set_status(client, token, maria.id, "available")
    run_jobs(app)
    [leg] = rung(twilio, twilio_api)
    leg.answer()
    leg.press("1")
    first.follow(redirect_of(twilio_api, first))
    first.dial_ends("completed", duration=200)
    hang_up(first)

    db.expire_all()
    wrap_up_until = db.get(type(maria), maria.id).wrap_up_until
    queue = services_of(app).queue()
    registry = queue.scheduled_job_registry
    [job_id] = registry.get_job_ids()
    job = Job.fetch(job_id, connection=services_of(app).redis)
    assert job.func is jobs.offer_next_caller_job and job.args == (maria.id,)
    # Never before the wrap-up ends (RQ keeps whole seconds, rounded down: a job armed for
    # :07.6 that ran at :07 would find Maria still in wrap-up and leave her to the sweep).
    scheduled = registry.get_scheduled_time(job)
    assert wrap_up_until <= scheduled < wrap_up_until + timedelta(seconds=1), (scheduled, wrap_up_until)
    run_jobs(app)
    assert len(rung(twilio, twilio_api)) == 1  # not due yet: still scheduled

    # Its time comes: the job runs (as RQ's scheduler would start it) and rings Maria for the next caller.
    db.get(type(maria), maria.id).wrap_up_until = utcnow()
    db.commit()
    with app.app_context():
        jobs.offer_next_caller_job(maria.id)
    second_leg = rung(twilio, twilio_api)[-1]
    assert second_leg.staff_id == maria.id and status_of(db, maria) == ("offered", second.call_sid)
