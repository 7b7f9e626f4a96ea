"""What one request of the queue's wait URL costs, counted at the database and in Redis: a turn with
nothing new to do reads and writes nothing else (no widening re-applied, no commit, no job), and a
turn that widens the caller commits once per level and asks the worker for one pairing, not one per
level. Counts, not timings (bench/wait_ramp.py times the wait URL under load): a statement or job
added to every turn of every waiting caller fails here."""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

import routing
from hotline.models import utcnow
from tests.conftest import services_of
from tests.support.clock import set_clock
from tests.support.helpers import add_consultant
from tests.support.journeys import journal, prompt, route, texts
from tests.support.queueing import enqueued, entry_of, run_jobs, rung, wait_turn

# A turn with nothing new: the call (hotline.webhooks), the queue entry, and one SELECT of the
# caller's position and the queue's recent answers (routing.wait_figures).
QUIET_TURN_STATEMENTS = 3


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)
    commits: int = 0


@contextmanager
def counting(app):
    """Every SQL statement and COMMIT the app's engine sends while the block runs."""
    engine = services_of(app).db.engine
    counted = Counted()

    def statement(conn, cursor, text, parameters, context, executemany) -> None:
        counted.statements.append(" ".join(text.split())[:120])

    def commit(conn) -> None:
        counted.commits += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield counted
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


def jobs_queued(app) -> int:
    return services_of(app).queue().count


def test_a_turn_of_the_wait_with_nothing_new_reads_three_statements_and_writes_nothing(
        app, db, twilio, twilio_api, monkeypatch):
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    run_jobs(app)  # the entry's own pairing job: nobody free
    set_clock(monkeypatch, utcnow() + timedelta(seconds=200))  # past both widenings
    wait_turn(call, enqueue)
    assert entry_of(db, call).widen_level == 2
    run_jobs(app)

    for _ in range(2):
        with counting(app) as counted:
            turn = wait_turn(call, enqueue)
        assert texts(turn)[0] == prompt(app, "en", "queue_position", position=1)
        assert len(counted.statements) <= QUIET_TURN_STATEMENTS, counted.statements
        assert counted.commits == 0, counted.statements
        assert not any(s.startswith(("UPDATE", "INSERT", "DELETE")) for s in counted.statements)
        assert jobs_queued(app) == 0


def test_a_turn_in_the_first_minutes_reads_as_much_and_writes_nothing(app, db, twilio, twilio_api):
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    run_jobs(app)
    with counting(app) as counted:
        turn = wait_turn(call, enqueue)
    assert prompt(app, "en", "queue_widened") not in texts(turn)
    assert len(counted.statements) <= QUIET_TURN_STATEMENTS, counted.statements
    assert counted.commits == 0 and jobs_queued(app) == 0


def test_a_turn_that_widens_twice_commits_each_level_with_its_event_and_queues_one_pairing(
        app, db, twilio, twilio_api, monkeypatch):
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    run_jobs(app)
    set_clock(monkeypatch, utcnow() + timedelta(seconds=200))
    with counting(app) as counted:
        turn = wait_turn(call, enqueue)
    assert texts(turn)[:2] == [prompt(app, "en", "queue_widened"), prompt(app, "en", "queue_widened_office")]
    assert counted.commits <= 2, counted.statements
    assert [event for event in journal(db, call) if event[0] == "widened"] == [
        ("widened", "en", None), ("widened", "other_office", None)]
    assert jobs_queued(app) == 1  # one pairing for both levels


def test_a_pairing_asked_for_while_one_is_queued_is_not_queued_twice_but_is_once_that_one_started(
        app, db, twilio, twilio_api, monkeypatch):
    call = route(twilio, "en", "health")
    enqueue = enqueued(call)
    assert jobs_queued(app) == 0  # nobody free as the caller entered the queue: no pairing asked
    set_clock(monkeypatch, utcnow() + timedelta(seconds=130))
    wait_turn(call, enqueue)  # widened: a pairing is asked for
    assert ("widened", "en", None) in journal(db, call)
    assert jobs_queued(app) == 1
    set_clock(monkeypatch, utcnow() + timedelta(seconds=200))
    wait_turn(call, enqueue)  # widened again while that pairing is still queued: it will see this
    assert ("widened", "other_office", None) in journal(db, call)
    assert jobs_queued(app) == 1
    run_jobs(app)
    with app.app_context():  # asked again after that job ran: queued again
        routing.caller_may_be_served(entry_of(db, call).id)
    assert jobs_queued(app) == 1


def test_a_consultant_freed_while_the_caller_was_being_queued_is_paired_at_once(
        app, db, twilio, twilio_api, monkeypatch):
    """Routing found nobody free; by the time the caller's queue entry is committed, Maria is free
    (freed in between, her own pairing job having read the queue before the entry was there). The
    topic webhook looks once more after its commit and asks for a pairing: she rings now, not at
    the next sweep."""
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    monkeypatch.setattr("routing.reserve_for_call", lambda *args, **kwargs: (None, False))
    call = route(twilio, "en", "health")
    enqueued(call)
    assert jobs_queued(app) == 1
    run_jobs(app)
    assert [leg.staff_id for leg in rung(twilio, twilio_api)] == [maria.id]


def test_a_database_fault_in_the_look_after_queueing_keeps_the_caller_queued_and_asks_for_a_pairing(
        app, db, twilio, twilio_api, monkeypatch):
    """The entry is committed before the look: a fault there must not turn it into an apology and a
    hang-up. The caller hears they are queued, and a worker is asked to pair as before the look."""
    add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")

    def fails(*args, **kwargs):
        raise OperationalError("SELECT", {}, Exception("server closed the connection"))

    monkeypatch.setattr("routing.anyone_free", fails)  # only the look after queueing uses it
    call = route(twilio, "en", "health")
    enqueued(call)
    assert entry_of(db, call).state == "waiting"
    assert jobs_queued(app) == 1
