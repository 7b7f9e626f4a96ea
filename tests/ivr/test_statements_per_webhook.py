"""What each webhook of a call costs the database: SQL statements sent and transactions ended
(commits and rollbacks), counted with SQLAlchemy's engine events while one signed webhook is
answered. Every statement is a round trip to PostgreSQL and a commit a WAL flush; a webhook's CPU
went mostly to SQLAlchemy and the driver (issue 11), so the counts are what keeps it cheap.

Each menu webhook is one transaction: read the call, write what changed, append its journal
events; the status callback likewise plus the consultation record. On PostgreSQL the call's
changes, its journal events and its record are written by one statement (a WITH of several
writes); SQLite has no writing WITH, so there each is a statement of its own, calls within the
process rather than round trips to a server. The ceilings below are tight: a change that adds a
statement or a commit to a step fails here, on both backends."""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event

from tests.conftest import services_of
from tests.support.helpers import STATUS_URL, add_consultant, new_call
from tests.support.journeys import LANGUAGE_KEYS, TOPIC_KEYS, journal, record_of, status_of


@dataclass
class Cost:
    statements: list[str] = field(default_factory=list)
    commits: int = 0
    rollbacks: int = 0

    def __str__(self) -> str:
        listed = "\n  ".join(s.split("\n")[0][:120] for s in self.statements)
        return (f"{len(self.statements)} statements, {self.commits} commits, {self.rollbacks} rollbacks:"
                f"\n  {listed}")


@contextmanager
def cost_of(app) -> Iterator[Cost]:
    """Count what the app's engine sends while the block runs."""
    engine = services_of(app).db.engine
    cost = Cost()

    def statement(conn, cursor, sql, parameters, context, executemany) -> None:
        cost.statements.append(sql)

    def commit(conn) -> None:
        cost.commits += 1

    def rollback(conn) -> None:
        cost.rollbacks += 1

    hooks: list[tuple[str, Callable]] = [("before_cursor_execute", statement), ("commit", commit),
                                         ("rollback", rollback)]
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        yield cost
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)


def within(cost: Cost, statements: int, commits: int = 1, rollbacks: int = 0) -> None:
    """At most `statements` statements, exactly `commits` commits and `rollbacks` rollbacks."""
    assert (len(cost.statements) <= statements and cost.commits == commits
            and cost.rollbacks == rollbacks), str(cost)


def step(app, action: Callable[[], object]) -> Cost:
    with cost_of(app) as cost:
        action()
    return cost


def apart(app) -> int:
    """The statements a step's writes take beyond PostgreSQL's one: on SQLite the call's UPDATE,
    its journal's INSERT (and at the end its record's) are each a statement."""
    return 0 if services_of(app).db.engine.dialect.name == "postgresql" else 1


def test_each_menu_webhook_is_one_transaction_of_at_most_three_statements(app, db, twilio):
    call = new_call(twilio)
    voice = step(app, call.ring)
    language = step(app, lambda: call.press(LANGUAGE_KEYS["en"]))
    print("voice", voice, "\nlanguage", language)
    within(voice, 2)  # the call's INSERT (no SELECT first) and its journal's
    within(language, 2 + apart(app))  # the call read with who is on duty, its change with its journal
    assert [kind for kind, _, _ in journal(db, call)] == ["incoming", "language"]


def hang_up(call) -> None:
    status, _ = call.hang_up(STATUS_URL)
    assert status == 200


def test_the_status_callback_of_a_call_that_hung_up_in_a_menu(app, db, twilio):
    call = new_call(twilio)
    call.ring()
    call.press(LANGUAGE_KEYS["en"])
    ended = step(app, lambda: hang_up(call))
    print("status", ended)
    within(ended, 2 + 2 * apart(app))  # the call read, then closed with its record and journal
    assert record_of(db, call).outcome == "abandoned"


def test_a_topic_that_rings_a_free_consultant_then_the_status_callback(app, db, twilio):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    call = new_call(twilio)
    call.ring()
    call.press(LANGUAGE_KEYS["en"])
    topic = step(app, lambda: call.press(TOPIC_KEYS["health"]))
    print("topic, dialled", topic)
    assert call.dialled_number() == maria.phone
    ended = step(app, lambda: hang_up(call))
    print("status, after a dial", ended)
    # The call read, the reservation (pick and compare-and-set), the call's change with its journal.
    within(topic, 3 + apart(app))
    within(ended, 3 + 2 * apart(app))  # the read, the consultant into wrap-up, the close
    assert status_of(db, maria) == ("available", None)


def test_a_topic_that_queues_the_caller_then_the_status_callback(app, db, twilio):
    add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    call = new_call(twilio)
    call.ring()
    call.press(LANGUAGE_KEYS["en"])
    topic = step(app, lambda: call.press(TOPIC_KEYS["health"]))
    print("topic, queued", topic)
    assert call.last.find("Enqueue") is not None
    ended = step(app, lambda: hang_up(call))
    print("status, queued", ended)
    # The entry's INSERT checks the queue's size itself; after the commit one look for a consultant
    # freed meanwhile (ivr.on_hold.enter), a read ended by a rollback, in place of a pairing job.
    within(topic, 4 + apart(app) + 1, rollbacks=1)
    within(ended, 3 + 2 * apart(app))  # the read, the queue entry abandoned, the close


def test_the_steps_that_reserve_a_consultant_hold_the_calls_row_lock_first(app, db, twilio):
    """Twin copies of a step that reserves a consultant serialize on the call's row (ivr.flow.connect):
    the topic webhook reads the call FOR NO KEY UPDATE (no statement more), the Dial's result, which has
    committed the missed offer before it tries the next consultant, locks it again first. SQLite
    has no row locks (its writers are serialized): no statement there."""
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], idle_minutes=9)
    anna = add_consultant(app, db, "Anna", languages=["en"], topics=["health"], idle_minutes=1)
    call = new_call(twilio)
    call.ring()
    call.press(LANGUAGE_KEYS["en"])
    topic = step(app, lambda: call.press(TOPIC_KEYS["health"]))
    assert call.dialled_number() == maria.phone
    result = step(app, lambda: call.dial_ends("no-answer"))
    print("topic", topic, "\ndial result", result)
    assert call.dialled_number() == anna.phone
    locks = [n for n, sql in enumerate(result.statements) if "FOR NO KEY UPDATE" in sql]
    if apart(app):
        assert locks == [] and all(" FOR " not in sql for sql in topic.statements)
    else:
        assert "FOR NO KEY UPDATE OF calls" in topic.statements[0]
        reservation = next(n for n, sql in enumerate(result.statements) if sql.startswith("WITH picked"))
        assert len(locks) == 1 and locks[0] < reservation
