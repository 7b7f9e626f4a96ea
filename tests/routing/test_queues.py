"""Queues per language x topic, as plain functions: positions, estimated wait, the next caller for a
consultant (skills, urgency, widening, accepted languages), the claim race, and the live figures."""
from __future__ import annotations

import random
import threading
from datetime import timedelta
from itertools import count

from sqlalchemy import select

import routing
from hotline.models import Call, QueueEntry, StaffSkill, utcnow
from routing import figures, pick_next, queues, takers
from tests.conftest import services_of
from tests.support.helpers import add_consultant

NOW = utcnow().replace(microsecond=0)
WIDEN_AFTER = timedelta(minutes=3)
_sids = count(1)


def _queued(db, language: str = "en", topic: str = "health", *, rang: float, entered: float | None = None,
            urgent: bool = False) -> QueueEntry:
    """A caller who rang `rang` minutes before NOW and entered the queue `entered` minutes before NOW
    (default: half a minute after ringing, the time the menus take)."""
    entered = rang - 0.5 if entered is None else entered
    call = Call(call_sid=f"CAq{next(_sids):06d}", office_code="sofia", language_code=language,
                topic_code=topic, stage="queue", started_at=NOW - timedelta(minutes=rang))
    db.add(call)
    db.commit()
    return queues.enqueue(db, call, urgent=urgent, now=NOW - timedelta(minutes=entered))


def _bridged(db, language: str, topic: str, minutes_ago: float) -> QueueEntry:
    entry = _queued(db, language, topic, rang=minutes_ago + 2)
    assert routing.mark_bridged(db, entry.id, NOW - timedelta(minutes=minutes_ago))
    return entry


def _pick(db, staff, now=NOW) -> QueueEntry | None:
    return pick_next.next_caller_for(db, staff, now, WIDEN_AFTER)


def _reread(db, entry: QueueEntry) -> QueueEntry:
    db.expire_all()
    return db.get(QueueEntry, entry.id)


def test_enqueue_is_idempotent_per_call(app, db):
    entry = _queued(db, "ru", "social", rang=4)
    again = queues.enqueue(db, db.get(Call, entry.call_id), now=NOW)
    assert again.id == entry.id
    assert db.scalar(select(QueueEntry.state).where(QueueEntry.id == entry.id)) == "waiting"
    assert (entry.language_code, entry.topic_code, entry.office_code) == ("ru", "social", "sofia")
    assert entry.first_rang_at == NOW - timedelta(minutes=4)
    assert entry.entered_at == NOW - timedelta(minutes=3.5)


def test_a_callback_keeps_the_place_of_the_first_ring(app, db):
    call = Call(call_sid="CAcallback", office_code="sofia", language_code="en", topic_code="health",
                started_at=NOW)
    db.add(call)
    db.commit()
    entry = queues.enqueue(db, call, now=NOW, first_rang_at=NOW - timedelta(hours=2))
    assert entry.first_rang_at == NOW - timedelta(hours=2)
    assert routing.position(db, entry) == 1


def test_positions_urgent_first_then_first_rang(app, db):
    first = _queued(db, rang=10)
    second = _queued(db, rang=8)
    third = _queued(db, rang=6)
    urgent = _queued(db, rang=1, urgent=True)
    older_urgent = _queued(db, rang=2, urgent=True)
    _queued(db, "en", "social", rang=30)  # another queue
    _queued(db, "bg", "health", rang=30)
    assert [routing.position(db, e) for e in (older_urgent, urgent, first, second, third)] == [1, 2, 3, 4, 5]

    assert queues.claim(db, first.id, add_consultant(app, db, "Ana").id, NOW)
    assert routing.position(db, second) == 4  # a caller being offered is still ahead
    routing.mark_left(db, first.call_sid, "hangup", NOW)
    assert routing.position(db, second) == 3


def test_no_estimated_wait_without_recent_answers(app, db):
    _bridged(db, "en", "health", minutes_ago=45)  # too long ago
    _bridged(db, "en", "social", minutes_ago=5)  # another queue
    entry = _queued(db, rang=3)
    assert figures.estimated_wait(db, entry, NOW) is None


def test_estimated_wait_follows_the_recent_answer_rate(app, db):
    for minutes_ago in (1, 5, 10, 15, 20, 29):  # six answers in 30 minutes: one every 5 minutes
        _bridged(db, "en", "health", minutes_ago)
    _bridged(db, "en", "health", minutes_ago=40)
    _queued(db, rang=9)
    entry = _queued(db, rang=3)
    assert routing.position(db, entry) == 2
    assert figures.estimated_wait(db, entry, NOW) == 2 * 5 * 60
    # 17 minutes later only the answers of the last 13 minutes are still in the window: three.
    assert figures.estimated_wait(db, entry, NOW + timedelta(minutes=17)) == 2 * 10 * 60


def test_the_longest_waiting_caller_across_the_consultants_queues(app, db):
    maria = add_consultant(app, db, "Maria", languages=["en", "ru"], topics=["health", "social"])
    _queued(db, "en", "health", rang=2)
    oldest = _queued(db, "ru", "social", rang=2.5)
    _queued(db, "en", "social", rang=1)
    _queued(db, "bg", "health", rang=9)  # not her language
    _queued(db, "en", "education", rang=2.4, entered=2.4)  # not her topic, not yet widened
    assert _pick(db, maria).id == oldest.id


def test_urgent_callers_go_first(app, db):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health", "social"])
    _queued(db, "en", "health", rang=9)
    urgent = _queued(db, "en", "social", rang=1, urgent=True)
    assert _pick(db, maria).id == urgent.id


def test_only_the_consultants_skills_before_widening(app, db):
    # English health and Russian social: not English social, not Russian health.
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    maria.skills.append(StaffSkill(language_code="ru", topic_code="social"))
    db.commit()
    en_social = _queued(db, "en", "social", rang=2.5)
    _queued(db, "ru", "health", rang=2)
    assert _pick(db, maria) is None
    # Once en_social has waited WIDEN_AFTER in the queue, anyone with English may take it.
    widened = NOW + WIDEN_AFTER - timedelta(minutes=2)
    assert _pick(db, maria, widened).id == en_social.id
    assert _pick(db, maria, widened - timedelta(seconds=1)) is None


def test_widening_counts_from_entering_the_queue_and_keeps_the_order(app, db):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    _queued(db, "en", "social", rang=20, entered=1)  # rang long ago, but queued only a minute ago
    waited = _queued(db, "en", "education", rang=6)
    own = _queued(db, "en", "health", rang=4)
    assert _pick(db, maria).id == waited.id
    assert queues.claim(db, waited.id, maria.id, NOW)
    assert _pick(db, maria).id == own.id


def test_never_a_caller_without_the_consultants_language(app, db):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    arabic = _queued(db, "ar", "health", rang=60)
    assert _pick(db, maria, NOW + timedelta(hours=1)) is None
    routing.accept_languages(db, arabic.id, ["bg"])
    assert _pick(db, maria) is None
    routing.accept_languages(db, arabic.id, ["en"])
    assert _reread(db, arabic).accepts_languages == "bg,en"
    assert _pick(db, maria).id == arabic.id


def test_a_caller_who_accepts_a_language_keeps_their_place(app, db):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    own = _queued(db, "en", "health", rang=5)
    farsi = _queued(db, "fa", "social", rang=7, urgent=False)
    routing.accept_languages(db, farsi.id, ["en"])
    assert _pick(db, maria).id == farsi.id
    queues.claim(db, farsi.id, maria.id, NOW)
    assert _pick(db, maria).id == own.id


def test_nothing_for_a_consultant_without_skills_or_callers(app, db):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    assert _pick(db, maria) is None
    maria.skills.clear()
    db.commit()
    _queued(db, rang=3)
    assert _pick(db, maria) is None


def test_claim_is_won_exactly_once_under_concurrency(app, db):
    entries = [_queued(db, rang=10 - i) for i in range(4)]
    consultants = [add_consultant(app, db, f"C{i}").id for i in range(20)]
    sessions = services_of(app).db.sessions
    start = threading.Barrier(len(consultants))
    wins: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def race(staff_id: int) -> None:
        order = [e.id for e in entries]
        random.shuffle(order)
        session = sessions()
        try:
            start.wait()
            for entry_id in order:
                if queues.claim(session, entry_id, staff_id, NOW):
                    wins.append((entry_id, staff_id))
        except BaseException as error:  # reported below, a thread cannot fail the test itself
            errors.append(error)
        finally:
            session.close()

    threads = [threading.Thread(target=race, args=(staff_id,)) for staff_id in consultants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(entry_id for entry_id, _ in wins) == sorted(e.id for e in entries)
    db.expire_all()
    for entry_id, staff_id in wins:
        stored = db.get(QueueEntry, entry_id)
        assert (stored.state, stored.offered_staff_id, stored.offered_at) == ("offered", staff_id, NOW)


def test_unclaim_puts_the_caller_back_in_their_place(app, db):
    ana, boris = add_consultant(app, db, "Ana"), add_consultant(app, db, "Boris")
    first, _second = _queued(db, rang=5), _queued(db, rang=4)
    assert queues.claim(db, first.id, ana.id, NOW)
    assert not queues.claim(db, first.id, boris.id, NOW)
    assert _pick(db, boris).id == _second.id
    assert not routing.unclaim(db, first.id, staff_id=boris.id)  # not Boris's offer
    assert routing.unclaim(db, first.id, staff_id=ana.id)
    assert not routing.unclaim(db, first.id)
    stored = _reread(db, first)
    assert (stored.state, stored.offered_staff_id, stored.offered_at) == ("waiting", None, None)
    assert _pick(db, boris).id == first.id


def test_an_offer_never_answered_goes_back_to_waiting(app, db):
    ana = add_consultant(app, db, "Ana")
    entry = _queued(db, rang=5)
    queues.claim(db, entry.id, ana.id, NOW)
    assert queues.unclaim_stale(db, NOW + timedelta(seconds=30)) == 0
    assert queues.unclaim_stale(db, NOW + timedelta(minutes=5)) == 1
    assert _reread(db, entry).state == "waiting"


def test_a_caller_is_bridged_once(app, db):
    ana = add_consultant(app, db, "Ana")
    entry = _queued(db, rang=5)
    queues.claim(db, entry.id, ana.id, NOW)
    assert routing.mark_bridged(db, entry.id, NOW + timedelta(seconds=20))
    assert not routing.mark_bridged(db, entry.id, NOW + timedelta(seconds=25))
    assert not queues.claim(db, entry.id, ana.id, NOW)
    assert not routing.mark_left(db, entry.call_sid, "hangup", NOW + timedelta(minutes=9))
    stored = _reread(db, entry)
    assert (stored.state, stored.result) == ("bridged", "bridged")
    assert stored.ended_at == NOW + timedelta(seconds=20)


def test_leaving_the_queue(app, db):
    hung_up, pressed, bridged, offered = (_queued(db, rang=5 - i) for i in range(4))
    queues.claim(db, offered.id, add_consultant(app, db, "Ana").id, NOW)
    assert routing.mark_left(db, hung_up.call_sid, "hangup", NOW)
    assert routing.mark_left(db, pressed.call_sid, "leave", NOW)
    assert routing.mark_left(db, bridged.call_sid, "bridged", NOW)
    assert routing.mark_left(db, offered.call_sid, "hangup", NOW)
    assert not routing.mark_left(db, hung_up.call_sid, "leave", NOW)  # already out
    assert not routing.mark_left(db, "CAunknown", "hangup", NOW)
    db.expire_all()
    assert [(e.state, e.result) for e in db.scalars(select(QueueEntry).order_by(QueueEntry.id))] == [
        ("abandoned", "hangup"), ("left", "leave"), ("bridged", "bridged"), ("abandoned", "hangup")]


def test_widen_entry_records_each_level_once(app, db):
    waiting = _queued(db, rang=10)
    left = _queued(db, rang=10)
    routing.mark_left(db, left.call_sid, "hangup", NOW)
    assert routing.widen_entry(db, waiting.id) is True
    assert routing.widen_entry(db, waiting.id) is False  # told once
    assert routing.widen_entry(db, waiting.id, 2) is True
    assert routing.widen_entry(db, waiting.id, 1) is False  # never back down
    assert routing.widen_entry(db, left.id) is False  # gone from the queue
    assert [_reread(db, e).widen_level for e in (waiting, left)] == [2, 0]


def test_queue_figures(app, db):
    add_consultant(app, db, "Ana", languages=["en"], topics=["health"])
    add_consultant(app, db, "Boris", languages=["en", "ru"], topics=["health"], status="busy")
    wrapped = add_consultant(app, db, "Vera", languages=["en"], topics=["health", "social"], status="wrap_up")
    wrapped.wrap_up_until = NOW - timedelta(seconds=1)
    db.commit()
    _queued(db, "en", "health", rang=6, entered=5)
    claimed = _queued(db, "en", "health", rang=2)
    _queued(db, "ru", "health", rang=1, entered=0.5)
    gone = _queued(db, "ru", "health", rang=20)
    queues.claim(db, claimed.id, wrapped.id, NOW)
    routing.mark_left(db, gone.call_sid, "hangup", NOW)
    assert routing.queue_figures(db, NOW, takers.PickRules(WIDEN_AFTER, None)) == [
        {"language": "en", "topic": "health", "waiting": 2, "offered": 1, "longest_wait_seconds": 300,
         "available_consultants": 2},
        {"language": "ru", "topic": "health", "waiting": 1, "offered": 0, "longest_wait_seconds": 30,
         "available_consultants": 0},
    ]
    an_hour_before = NOW - timedelta(hours=1)
    assert routing.queue_figures(db, an_hour_before, takers.PickRules(WIDEN_AFTER, None))[0][
        "longest_wait_seconds"] == 0


def test_accepted_languages_are_matched_whole_and_urgent_first(app, db):
    maria = add_consultant(app, db, "Maria", languages=["en"], topics=["health"])
    accepting = {}
    for values, rang, urgent in [("bg", 50, False), ("bg,en", 40, False), ("en", 30, False),
                                 ("ru,uk", 60, False), ("en", 10, True)]:
        entry = _queued(db, "ar", "social", rang=rang, entered=rang, urgent=urgent)
        routing.accept_languages(db, entry.id, values.split(","))
        accepting[(values, urgent)] = entry
    assert _pick(db, maria).id == accepting[("en", True)].id
    queues.claim(db, accepting[("en", True)].id, maria.id, NOW)
    assert _pick(db, maria).id == accepting[("bg,en", False)].id
    queues.claim(db, accepting[("bg,en", False)].id, maria.id, NOW)
    assert _pick(db, maria).id == accepting[("en", False)].id
    queues.claim(db, accepting[("en", False)].id, maria.id, NOW)
    assert _pick(db, maria) is None
