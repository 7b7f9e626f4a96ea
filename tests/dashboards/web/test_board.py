"""The supervisor's live board: the page and its polled fragment, for supervisors and admins only;
a caller queued through the signed webhooks, a consultant's status and a due callback appear in the
fragment; marking urgent and the callback actions work through the board's forms (CSRF checked);
a long wait is highlighted in words; the fragment costs a fixed number of statements."""
from __future__ import annotations

import re
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import routing
from dashboards.web import board_views
from hotline.catalogue import CatalogueError
from hotline.config import board
from hotline.models import CallEvent, QueueEntry, Staff, utcnow
from tests.conftest import services_of
from tests.dashboards.api.test_api_statements import counting_statements
from tests.dashboards.api.test_callbacks_api import booked, reread
from tests.dashboards.api.test_queues_api import queued
from tests.dashboards.web.conftest import add_person, csrf_token, https_client, log_in
from tests.support.clock import set_clock
from tests.support.helpers import add_consultant
from tests.support.journeys import route
from tests.support.queueing import enqueued


@pytest.fixture(autouse=True)
def _languages_on_duty(languages_on_duty):
    """Every language is staffed (on a break), so calls reach the topic menu and the queue."""
    return languages_on_duty


@pytest.fixture(autouse=True)
def _fragment_not_shared(monkeypatch, request):
    """Each poll renders afresh (tests check what one change shows at once), unless a test is of
    the rendering shared between boards."""
    if not request.node.name.startswith("test_open_boards_share"):
        monkeypatch.setattr(board_views, "FRAGMENT_CACHE_SECONDS", 0)


@pytest.fixture
def supervisor(app, db, web):
    person = add_person(app, db, "Desislava", "supervisor")
    assert log_in(web, "Desislava").status_code == 302
    return person


def live(web) -> str:
    response = web.get("/board/live")
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def post_form(web, action: str, **fields) -> str:
    """Submit one of the board's forms as a browser would: the token from the page, then the
    redirect back to the board followed. Returns the board's HTML."""
    token = csrf_token(web.get("/board").get_data(as_text=True))
    response = web.post(action, data={"csrf_token": token, **fields})
    assert response.status_code == 303 and response.headers["Location"].endswith("/board")
    return web.get("/board").get_data(as_text=True)


def row_of(html: str, heading: str) -> str:
    """The table row whose header cell starts with `heading` (a name in it isolated, as typed text is)."""
    cell = r"<tr[^>]*>\s*<th scope=\"row\">(?:<span dir=\"auto\">)?"
    found = re.search(cell + re.escape(heading) + r".*?</tr>", html, re.S)
    assert found, f"no row for {heading!r}"
    return found.group(0)


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_the_board_and_its_fragment(app, db, web, role):
    add_person(app, db, "Lead", role)
    log_in(web, "Lead")
    page = web.get("/board").get_data(as_text=True)
    assert 'aria-live="polite"' in page and 'id="board-live"' in page and "board.js" in page
    assert "<h2 id=\"queues-title\">Queues</h2>" in live(web)


def test_consultants_are_refused_the_board_its_fragment_and_its_actions(app, db, web):
    add_person(app, db, "Maria", "consultant")
    log_in(web, "Maria")
    token = csrf_token(web.get("/desk").get_data(as_text=True))
    assert web.get("/board").status_code == 403
    assert web.get("/board/live").status_code == 403
    urgent = web.post("/board/queue-entries/1/urgent", data={"csrf_token": token, "urgent": "1"})
    assert urgent.status_code == 403
    assert web.post("/board/callbacks/1/cancel", data={"csrf_token": token}).status_code == 403


def test_without_a_session_the_fragment_sends_to_the_login_page(web):
    response = web.get("/board/live")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_caller_queued_through_the_webhooks_appears_in_the_fragment(app, db, web, twilio, supervisor):
    add_consultant(app, db, "On a call", languages=["ru"], topics=["health"], status="busy")
    before = live(web)
    assert "Nobody is waiting." in before
    call = route(twilio, "ru", "health")
    assert enqueued(call).text == "ru-health"
    html = live(web)
    row = row_of(html, "sofia")
    assert "Russian" in row and "health" in row and "<td>1</td>" in row
    assert call.call_sid not in html and call.caller not in html  # nothing personal
    assert "1 waiting" in re.search(r'data-summary="([^"]*)"', html).group(1)


def test_a_consultants_status_change_appears_in_the_fragment(app, db, web, client, supervisor):
    maria = add_consultant(app, db, "Maria", languages=["ar"], topics=["residence"], status="break")
    assert "<td>break</td>" in row_of(live(web), "Maria")
    assert routing.set_status(db, db.get(Staff, maria.id), "available")
    row = row_of(live(web), "Maria")
    assert "<td>available</td>" in row and "Arabic" in row and "residence" in row


def test_marking_a_waiting_caller_urgent_through_the_form(app, db, web, supervisor):
    entry = queued(db, "en", "health", minutes_ago=1)
    html = post_form(web, f"/board/queue-entries/{entry.id}/urgent", urgent="1")
    assert "Marked urgent." in html and "(1 urgent)" in html
    db.expire_all()
    assert db.get(QueueEntry, entry.id).urgent
    kinds = db.scalars(select(CallEvent.kind).where(CallEvent.call_id == entry.call_id)).all()
    assert "marked_urgent" in kinds
    post_form(web, f"/board/queue-entries/{entry.id}/urgent", urgent="0")
    db.expire_all()
    assert not db.get(QueueEntry, entry.id).urgent


def test_a_form_without_the_csrf_token_is_refused(app, db, web, supervisor):
    entry = queued(db, "en", "health", minutes_ago=1)
    assert web.post(f"/board/queue-entries/{entry.id}/urgent", data={"urgent": "1"}).status_code == 400
    db.expire_all()
    assert not db.get(QueueEntry, entry.id).urgent


def test_a_long_wait_is_highlighted_in_words_past_the_threshold(app, db, web, supervisor):
    queued(db, "en", "health", minutes_ago=1)
    assert "Long wait" not in live(web)
    queued(db, "ar", "health", minutes_ago=3)  # past the default 120 s
    html = live(web)
    assert "Long wait:" in html and "longer than 2:00" in html
    assert "⚠ over 2:00" in row_of(html, "sofia</th><td>Arabic")
    assert "Alert:" in re.search(r'data-summary="([^"]*)"', html).group(1)


def test_bad_thresholds_are_refused():
    with pytest.raises(CatalogueError, match="board.longest_wait_alert_seconds"):
        board.parse({"longest_wait_alert_seconds": 0})
    assert board.parse({}) == board.BoardRules(30, 120)


def test_a_due_callback_appears_and_overdue_is_said_in_words(app, db, web, supervisor):
    booked(db, due_in=timedelta(minutes=-5), language="uk")
    html = live(web)
    assert "⚠ overdue" in html and "Ukrainian" in row_of(html, "Ukrainian")
    assert "callbacks overdue" in html
    assert "+359888777666" not in html


def test_the_callback_actions_work_through_the_forms(app, db, web, supervisor):
    ana = add_consultant(app, db, "Ana", languages=["en"], topics=["health"], status="break")
    callback = booked(db, due_in=timedelta(hours=2))
    html = post_form(web, f"/board/callbacks/{callback.id}/reassign", staff_id=str(ana.id))
    assert "Callback given to the consultant." in html
    assert reread(db, callback).assigned_staff_id == ana.id

    zone = ZoneInfo(services_of(app).catalogue.offices[0].timezone)
    later = (utcnow() + timedelta(days=1)).astimezone(zone).replace(second=0, microsecond=0)
    html = post_form(web, f"/board/callbacks/{callback.id}/reschedule",
                     due_at=later.strftime("%Y-%m-%dT%H:%M"))
    assert "Callback moved." in html
    assert reread(db, callback).due_at == later

    html = post_form(web, f"/board/callbacks/{callback.id}/cancel")
    assert "Callback canceled." in html and reread(db, callback).state == "canceled"
    kinds = db.scalars(select(CallEvent.kind).where(CallEvent.call_id == callback.call_id)
                       .order_by(CallEvent.id)).all()
    assert kinds[-3:] == ["callback_reassigned", "callback_rescheduled", "callback_canceled"]

    html = post_form(web, f"/board/callbacks/{callback.id}/cancel")
    assert "Not changed: the callback cannot be canceled now: it is canceled." in html


def test_callback_actions_refuse_what_the_api_refuses(app, db, web, supervisor):
    callback = booked(db, due_in=timedelta(hours=2), language="en")
    nobody = add_consultant(app, db, "Olena", languages=["uk"], topics=["health"])
    html = post_form(web, f"/board/callbacks/{callback.id}/reassign", staff_id=str(nobody.id))
    assert "cannot take a callback in en" in html
    html = post_form(web, f"/board/callbacks/{callback.id}/reschedule", due_at="2001-01-01T10:00")
    assert "must be in the future" in html
    html = post_form(web, f"/board/callbacks/{callback.id}/reschedule", due_at="soon")
    assert "Give the new date and time." in html
    assert reread(db, callback).assigned_staff_id is None


def _statements(app, web) -> int:
    with counting_statements(app) as statements:
        live(web)
    return len(statements)


def test_the_fragment_costs_the_same_statements_however_busy(app, db, web, supervisor):
    add_consultant(app, db, "Ana", languages=["en"], topics=["health"], status="busy")
    queued(db, "en", "health", minutes_ago=1)
    booked(db)
    few = _statements(app, web)
    for n in range(10):
        add_consultant(app, db, f"More {n}", languages=["ar", "en"], topics=["health"], status="available")
        queued(db, "ar", "residence", minutes_ago=n)
        booked(db, language="ar")
    many = _statements(app, web)
    assert many == few, f"{few} statements with a few rows, {many} with many"
    assert few <= 16


def test_open_boards_share_one_rendering_with_their_own_csrf_tokens(app, db, web, supervisor):
    other = https_client(app)
    add_person(app, db, "Vasil", "admin")
    log_in(other, "Vasil")
    entry = queued(db, "en", "health", minutes_ago=1)
    first = live(web)
    with counting_statements(app) as statements:
        second = live(other)
    assert len(statements) <= 3, statements  # the session's staff member, not the board's queries
    token = re.compile(r'name="csrf_token" value="([^"]+)"')
    assert token.sub("", first) == token.sub("", second)
    assert token.findall(first)[0] != token.findall(second)[0] and board_views.CSRF_PLACEHOLDER not in first
    # An action on the board renders afresh at once; the form's token is the session's own.
    html = post_form(web, f"/board/queue-entries/{entry.id}/urgent", urgent="1")
    assert "(1 urgent)" in html and "(1 urgent)" in live(other)


def test_polling_the_board_does_not_keep_an_idle_session_alive(app, db, web, supervisor, monkeypatch):
    assert web.get("/board").status_code == 200
    later = utcnow() + timedelta(minutes=services_of(app).settings.staff_idle_minutes, seconds=-5)
    set_clock(monkeypatch, later)
    assert web.get("/board/live").status_code == 200  # still within the idle time
    set_clock(monkeypatch, later + timedelta(seconds=10))
    response = web.get("/board/live")  # idle too long: the polls did not count as activity
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_worker_renders_the_live_part_and_boards_are_served_its_rendering(app, db, web, monkeypatch):
    """Open boards do not take a web process's CPU: a board whose shared rendering has expired is
    served the last one (a second old at most) and asks the worker for a new one."""
    from tests.support.queueing import run_jobs

    monkeypatch.setattr(board_views, "FRAGMENT_CACHE_SECONDS", 0.5)  # shared, as in production
    add_person(app, db, "Svetla", "supervisor")
    log_in(web, "Svetla")
    assert web.get("/board/live").status_code == 200  # cold: rendered here, once
    services_of(app).redis.delete(board_views._keys("en")[0])  # the fresh copy expired
    rendered_here: list[int] = []
    real_render = board_views._render_live
    monkeypatch.setattr(board_views, "_render_live", lambda: rendered_here.append(1) or real_render())

    assert web.get("/board/live").status_code == 200
    assert rendered_here == []  # the last rendering, not a new one in the web process
    queued_jobs = [job.func_name for job in services_of(app).queue().jobs]
    assert "dashboards.jobs.render_board_job" in queued_jobs
    before_jobs = time.time()
    run_jobs(app)  # the worker renders it (the cold poll's job too: a job is a hint, run late or twice)
    assert rendered_here
    # Its rendering is shared: the last-rendering key (the fresh one lives about a second, which a
    # loaded machine may take before the next line) carries the time the worker rendered it.
    last = services_of(app).redis.get(board_views._keys("en")[1])
    assert float(last.split(b"|", 1)[0]) >= before_jobs
