"""The live queues for supervisors (GET /api/queues) and marking a waiting caller urgent
(PATCH /api/queue-entries/<id>)."""
from __future__ import annotations

from datetime import timedelta
from itertools import count

import pytest
from sqlalchemy import select

import routing
from dashboards import queries
from hotline import accounts
from hotline.models import Call, CallEvent, QueueEntry, Staff, utcnow
from routing import pick_next, queues
from tests.conftest import services_of
from tests.dashboards.api.test_api import assert_json_error, bearer
from tests.support.helpers import add_consultant, add_staff_with_token

_sids = count(1)


def queued(db, language: str = "en", topic: str = "health", *, minutes_ago: float, urgent: bool = False,
           now=None) -> QueueEntry:
    """A caller who rang a minute before entering the queue `minutes_ago` minutes before `now`."""
    now = now or utcnow()
    call = Call(call_sid=f"CAlive{next(_sids):05d}", caller_number="+359888555666", office_code="sofia",
                language_code=language, topic_code=topic, stage="queued",
                started_at=now - timedelta(minutes=minutes_ago + 1))
    db.add(call)
    db.commit()
    return queues.enqueue(db, call, urgent=urgent, now=now - timedelta(minutes=minutes_ago))


def reread(db, entry: QueueEntry) -> QueueEntry:
    db.expire_all()
    return db.get(QueueEntry, entry.id)


def journal(db, entry: QueueEntry) -> list[tuple[str, int | None]]:
    db.expire_all()
    events = db.scalars(select(CallEvent).where(CallEvent.call_id == entry.call_id).order_by(CallEvent.id))
    return [(event.kind, event.consultant_id) for event in events]


@pytest.fixture
def supervisor(app, db) -> tuple[Staff, str]:
    return add_staff_with_token(app, db, "Desislava", role="supervisor")


@pytest.fixture
def consultant(app, db) -> tuple[Staff, str]:
    staff = add_consultant(app, db, "Maria", languages=["en"], topics=["health"], status="busy")
    return staff, accounts.issue_token(db, staff)


# --- live figures -----------------------------------------------------------------------------

def test_live_queues_per_language_and_topic_with_a_summary(app, db):
    now = utcnow()
    ana = add_consultant(app, db, "Ana", languages=["en"], topics=["health"])
    add_consultant(app, db, "Boris", languages=["en"], topics=["health"], status="busy")
    vera = add_consultant(app, db, "Vera", languages=["ar"], topics=["residence"], status="wrap_up")
    vera.wrap_up_until = now - timedelta(seconds=10)  # wrap-up over: available again
    still = add_consultant(app, db, "Gergana", languages=["ru"], topics=["social"], status="wrap_up")
    still.wrap_up_until = now + timedelta(seconds=60)
    add_consultant(app, db, "Hristo", languages=["ru"], topics=["social"], status="offered")
    add_consultant(app, db, "Iva", languages=["ru"], topics=["social"], status="break")
    add_consultant(app, db, "Kalin", languages=["ru"], topics=["social"], status="offline")
    add_consultant(app, db, "Left us", status="available").active = False
    add_staff_with_token(app, db, "Supervisor without a phone")  # never rung: not counted
    db.commit()

    oldest = queued(db, minutes_ago=5, now=now)
    queued(db, minutes_ago=1, now=now)
    assert queues.claim(db, oldest.id, ana.id, now)  # Ana's phone rings for the oldest caller
    queued(db, "ar", "residence", minutes_ago=10, now=now)
    gone = queued(db, "ru", "social", minutes_ago=20, now=now)
    assert routing.mark_left(db, gone.call_sid, "hangup", now)  # abandoned: no longer a queue
    bridged = queued(db, "en", "social", minutes_ago=3, now=now)
    assert routing.mark_bridged(db, bridged.id, now)

    with app.app_context():  # the catalogue's rules of who may take a caller
        figures = queries.live_queues(db, now)
    assert figures["queues"] == [
        {"language": "ar", "topic": "residence", "waiting": 1, "offered": 0, "longest_wait_seconds": 600,
         "available_consultants": 1},
        {"language": "en", "topic": "health", "waiting": 2, "offered": 1, "longest_wait_seconds": 300,
         "available_consultants": 1},
    ]
    assert figures["summary"] == {
        "waiting": 3, "offered": 1, "longest_wait_seconds": 600,
        "consultants": {"available": 2, "offered": 1, "busy": 1, "wrap_up": 1, "break": 1, "offline": 1},
    }


def test_no_callers_no_queues(app, db):
    add_consultant(app, db, "Ana")
    with app.app_context():
        figures = queries.live_queues(db, utcnow())
    assert figures == {"queues": [], "summary": {
        "waiting": 0, "offered": 0, "longest_wait_seconds": None,
        "consultants": {"available": 1, "offered": 0, "busy": 0, "wrap_up": 0, "break": 0, "offline": 0}}}


def test_any_staff_member_reads_the_live_queues_without_personal_data(client, db, supervisor, consultant):
    queued(db, minutes_ago=2)
    for _, token in (supervisor, consultant):
        response = client.get("/api/queues", headers=bearer(token))
        assert response.status_code == 200
        data = response.get_json()
        [queue] = data["queues"]
        assert (queue["language"], queue["topic"], queue["waiting"]) == ("en", "health", 1)
        assert 120 <= queue["longest_wait_seconds"] <= 180  # timed by the server's clock
        assert data["summary"]["waiting"] == 1
        assert data["summary"]["consultants"]["busy"] == 1
        text = response.get_data(as_text=True)
        assert "555666" not in text and consultant[0].phone not in text


def test_live_queues_need_a_token(client):
    assert_json_error(client.get("/api/queues"), 401)
    assert_json_error(client.get("/api/queues", headers=bearer("nonsense")), 401)


# --- marking a caller urgent ------------------------------------------------------------------

def test_supervisor_marks_a_caller_urgent_and_they_are_served_first(app, client, db, supervisor):
    first = queued(db, minutes_ago=6)
    queued(db, minutes_ago=4)
    last = queued(db, minutes_ago=1)
    assert routing.position(db, last) == 3

    response = client.patch(f"/api/queue-entries/{last.id}", json={"urgent": True},
                            headers=bearer(supervisor[1]))
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    assert (data["id"], data["urgent"], data["state"], data["position"]) == (last.id, True, "waiting", 1)
    assert reread(db, last).urgent is True
    assert routing.position(db, reread(db, first)) == 2
    ana = add_consultant(app, db, "Ana", languages=["en"], topics=["health"])
    assert pick_next.next_caller_for(db, ana, utcnow(), timedelta(minutes=3)).id == last.id
    assert journal(db, last) == [("marked_urgent", supervisor[0].id)]


def test_unmarking_puts_the_caller_back_in_order_of_ringing(client, db, supervisor):
    queued(db, minutes_ago=6)
    urgent = queued(db, minutes_ago=1, urgent=True)
    assert routing.position(db, urgent) == 1
    response = client.patch(f"/api/queue-entries/{urgent.id}", json={"urgent": False},
                            headers=bearer(supervisor[1]))
    assert response.status_code == 200
    assert (response.get_json()["urgent"], response.get_json()["position"]) == (False, 2)
    assert reread(db, urgent).urgent is False
    assert journal(db, urgent) == [("unmarked_urgent", supervisor[0].id)]


def test_repeating_the_same_mark_changes_and_journals_nothing_more(client, db, supervisor):
    entry = queued(db, minutes_ago=2)
    for _ in range(2):
        response = client.patch(f"/api/queue-entries/{entry.id}", json={"urgent": True},
                                headers=bearer(supervisor[1]))
        assert response.status_code == 200
        assert response.get_json()["urgent"] is True
    assert journal(db, entry) == [("marked_urgent", supervisor[0].id)]


def test_admin_may_mark_and_a_caller_being_offered_may_be_marked(app, client, db):
    admin, token = add_staff_with_token(app, db, "Admin", role="admin")
    entry = queued(db, minutes_ago=2)
    assert queues.claim(db, entry.id, add_consultant(app, db, "Ana").id, utcnow())
    response = client.patch(f"/api/queue-entries/{entry.id}", json={"urgent": True}, headers=bearer(token))
    assert response.status_code == 200
    assert response.get_json()["state"] == "offered"
    assert reread(db, entry).urgent is True
    assert journal(db, entry) == [("marked_urgent", admin.id)]


def test_a_consultant_may_not_mark_callers_urgent(client, db, consultant):
    entry = queued(db, minutes_ago=2)
    response = client.patch(f"/api/queue-entries/{entry.id}", json={"urgent": True},
                            headers=bearer(consultant[1]))
    assert_json_error(response, 403)
    assert reread(db, entry).urgent is False
    assert journal(db, entry) == []
    # Not even learning whether an entry exists.
    assert_json_error(client.patch("/api/queue-entries/999999", json={"urgent": True},
                                   headers=bearer(consultant[1])), 403)


def test_marking_needs_a_token(client, db):
    entry = queued(db, minutes_ago=2)
    assert_json_error(client.patch(f"/api/queue-entries/{entry.id}", json={"urgent": True}), 401)
    assert reread(db, entry).urgent is False


def test_unknown_queue_entry_is_404_json(client, supervisor):
    headers = bearer(supervisor[1])
    assert_json_error(client.patch("/api/queue-entries/999999", json={"urgent": True}, headers=headers), 404)
    huge = 10**20  # beyond the id column
    assert_json_error(client.patch(f"/api/queue-entries/{huge}", json={"urgent": True}, headers=headers), 404)
    assert_json_error(client.patch("/api/queue-entries/abc", json={"urgent": True}, headers=headers), 404)


def test_urgent_must_be_a_boolean(client, db, supervisor):
    entry = queued(db, minutes_ago=2)
    path = f"/api/queue-entries/{entry.id}"
    for body in ({"urgent": 1}, {"urgent": "true"}, {"urgent": None}, {}, {"urgent": [True]}, [True], True):
        assert_json_error(client.patch(path, json=body, headers=bearer(supervisor[1])), 400)
    form = client.patch(path, data="urgent=true", headers=bearer(supervisor[1]),
                        content_type="application/x-www-form-urlencoded")
    assert_json_error(form, 415)
    assert reread(db, entry).urgent is False
    assert journal(db, entry) == []


@pytest.mark.parametrize("leave", ["bridged", "hangup", "leave"])
def test_a_caller_who_left_the_queue_cannot_be_marked(client, db, supervisor, leave):
    entry = queued(db, minutes_ago=2)
    assert routing.mark_left(db, entry.call_sid, leave, utcnow())
    for urgent in (True, False):
        response = client.patch(f"/api/queue-entries/{entry.id}", json={"urgent": urgent},
                                headers=bearer(supervisor[1]))
        assert_json_error(response, 409)
    assert reread(db, entry).urgent is False
    assert journal(db, entry) == []


def test_set_urgent_refuses_a_caller_who_left_meanwhile(app, db, supervisor):
    # The view found the entry still waiting, but the caller hung up before the change.
    entry = queued(db, minutes_ago=2)
    with services_of(app).db.session() as other:
        assert routing.mark_left(other, entry.call_sid, "hangup", utcnow())
    assert queries.set_urgent(db, entry.id, True, supervisor[0].id, utcnow()) is False
    assert reread(db, entry).urgent is False
    assert journal(db, entry) == []


# --- the list of waiting callers ------------------------------------------------------------------

def test_supervisors_list_waiting_callers_in_serving_order_with_their_places(client, db, supervisor):
    first = queued(db, minutes_ago=6)
    second = queued(db, minutes_ago=4)
    urgent = queued(db, minutes_ago=1, urgent=True)
    other_queue = queued(db, "ru", "social", minutes_ago=2)
    gone = queued(db, minutes_ago=8)
    routing.mark_left(db, gone.call_sid, "hangup", utcnow())

    response = client.get("/api/queue-entries", headers=bearer(supervisor[1]))
    assert response.status_code == 200
    entries = response.get_json()["entries"]
    assert [(e["id"], e["position"]) for e in entries] == [
        (urgent.id, 1), (first.id, 2), (second.id, 3), (other_queue.id, 1)]
    assert entries[1]["waited_seconds"] >= 6 * 60 and entries[1]["urgent"] is False
    assert "+359" not in response.get_data(as_text=True)  # no caller numbers


def test_consultants_may_not_list_waiting_callers(client, db, consultant):
    queued(db, minutes_ago=1)
    response = client.get("/api/queue-entries", headers=bearer(consultant[1]))
    assert_json_error(response, 403)
