"""The supervisor's live board (/board) and its fragment (/board/live, polled every second by
static/board.js), and the board's actions: marking a waiting caller urgent, and reassigning,
rescheduling and canceling callbacks. Thin views over dashboards.board and the same functions as
the JSON API (dashboards.queries.set_urgent, callbacks.schedule through dashboards.callback_actions)."""
from __future__ import annotations

import logging
from datetime import datetime

import redis
from flask import current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from dashboards import board as board_data
from dashboards import callback_actions, days, queries
from dashboards.web.access import allow
from dashboards.web.i18n import LANGUAGES, page_language, term
from dashboards.web.pages import blueprint
from hotline import clock, permissions, runtime
from hotline.models import Callback, utcnow

log = logging.getLogger(__name__)
MAX_ID = 2**31 - 1  # ids are 32-bit INTEGER columns
# Every open board polls each second, but the live part is the same for all of them: it is rendered
# at most once per FRAGMENT_CACHE_SECONDS for all boards of all web processes (in Redis, per page
# language), with a placeholder where each session's CSRF token goes. The rendering is a job for
# the worker (dashboards.jobs), so a board never takes a web process's CPU (and its GIL) from the
# webhooks; meanwhile boards get the last rendering, unless it is older than STALE_SECONDS (no
# worker kept up), when the request renders it itself. A change shows within about two seconds.
FRAGMENT_CACHE_SECONDS = 0.5
STALE_SECONDS = 1.5
FRESH_KEY, LAST_KEY, LOCK_KEY = "hotline:board:live", "hotline:board:live:last", "hotline:board:live:lock"
CSRF_PLACEHOLDER = "__board_csrf_token__"


def passive(view):
    """Mark a view that a page calls by itself (polling): it does not count as the person being
    active, so an open board does not keep an idle session alive (see auth._end_idle_session)."""
    view.passive = True
    return view


def _context() -> dict:
    """What the board's templates need: the snapshot and a few formatting helpers."""
    catalogue = runtime.catalogue()
    return {"board": board_data.snapshot(runtime.session(), catalogue, utcnow()),
            "duration": duration, "language_name": lambda code: _term(catalogue, "languages", code)}


def duration(seconds: float | None) -> str:
    """Seconds as "m:ss" (or "h:mm:ss" from an hour); "–" for None."""
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _term(catalogue, table: str, code: str | None) -> str:
    """A language's name in the page's language (the code if the catalogue has none)."""
    try:
        return term(catalogue, table, code)
    except KeyError:
        return code or "–"


def _keys(language: str) -> tuple[str, str, str]:
    """The shared rendering's keys (fresh, last, lock) for the page language."""
    return f"{FRESH_KEY}:{language}", f"{LAST_KEY}:{language}", f"{LOCK_KEY}:{language}"


def live_part() -> str:
    """The board's live part as HTML for this session: the shared rendering in the page's language
    (see FRAGMENT_CACHE_SECONDS) with this session's CSRF token put in. While the worker renders it
    afresh, boards get the last rendering; without Redis, each request renders its own."""
    return _shared_rendering().replace(CSRF_PLACEHOLDER, generate_csrf())


def _render_live() -> str:
    return render_template("board_live.html", csrf_token=lambda: CSRF_PLACEHOLDER, **_context())


def _shared_rendering() -> str:
    if FRAGMENT_CACHE_SECONDS <= 0:
        return _render_live()
    language = page_language()
    fresh_key, last_key, lock_key = _keys(language)
    store = runtime.current().redis
    try:
        cached = store.get(fresh_key)
        if cached is not None:
            return cached.decode()
        if store.set(lock_key, b"1", nx=True, px=int(STALE_SECONDS * 1000)):
            runtime.enqueue_hint("dashboards.jobs.render_board_job", language)
        last = store.get(last_key)
    except redis.RedisError as error:
        log.warning("board cache unavailable (%s): rendering for this request", type(error).__name__)
        return _render_live()
    if last is not None:
        stamp, _, html = last.partition(b"|")
        if clock.timestamp() - float(stamp) < STALE_SECONDS:
            return html.decode()
    return store_rendering(_render_live(), language)  # no worker kept up: render here


def store_rendering(html: str, language: str) -> str:
    """Keep `html`, the live part rendered in `language`, as every board's for FRAGMENT_CACHE_SECONDS
    (and as the last rendering, with when it was made, for a minute); returns `html`."""
    fresh_key, last_key, lock_key = _keys(language)
    try:
        runtime.current().redis.pipeline().set(fresh_key, html, px=int(FRAGMENT_CACHE_SECONDS * 1000)) \
            .set(last_key, f"{clock.timestamp()}|{html}", ex=60).delete(lock_key).execute()
    except redis.RedisError as error:
        log.warning("board cache unavailable (%s): not stored", type(error).__name__)
    return html


def render_for_boards(language: str) -> None:
    """The worker's part (dashboards.jobs.render_board_job): render the live part in `language`
    for every open board. Needs an app context; makes its own request context for the URLs."""
    with current_app.test_request_context("/board/live"), force_locale(language):
        store_rendering(_render_live(), language)


def _changed() -> None:
    """After a board action: the next poll renders afresh, so the person who acted sees it."""
    try:
        store = runtime.current().redis
        store.delete(*(key for language in LANGUAGES for key in _keys(language)[:2]))
    except redis.RedisError:
        pass  # the cached copy expires within FRAGMENT_CACHE_SECONDS anyway


@blueprint.get("/board")
@allow(permissions.WATCH_BOARD)
def board():
    """The supervisor's live board: queues, consultants, coverage, today, callbacks."""
    return render_template("board.html", live_part=live_part(), duration=duration)


@blueprint.get("/board/live")
@allow(permissions.WATCH_BOARD)
@passive
def board_live():
    """The board's live part alone, for static/board.js to put in place (never cached by browsers)."""
    response = make_response(live_part())
    response.headers["Cache-Control"] = "no-store"
    return response


def _back():
    _changed()
    return redirect(url_for("web.board"), code=303)


@blueprint.post(f"/board/queue-entries/<int(max={MAX_ID}):entry_id>/urgent")
@allow(permissions.MARK_URGENT)
def mark_urgent(entry_id: int):
    """Form: urgent=1 moves a waiting caller to the front of their queue, urgent=0 back."""
    urgent = request.form.get("urgent") == "1"
    if queries.set_urgent(runtime.session(), entry_id, urgent, current_user.id, utcnow()):
        flash(gettext("Marked urgent.") if urgent else gettext("No longer urgent."), "info")
    else:
        flash(gettext("That caller is no longer in the queue."), "error")
    return _back()


@blueprint.post(f"/board/callbacks/<int(max={MAX_ID}):callback_id>/reassign")
@allow(permissions.CHANGE_CALLBACKS)
def reassign_callback(callback_id: int):
    """Form: staff_id (a consultant's id, or empty for anyone suitable)."""
    raw = request.form.get("staff_id", "")
    staff_id = int(raw) if raw.isdecimal() and int(raw) <= MAX_ID else None
    if raw and staff_id is None:
        flash(gettext("Choose a consultant from the list."), "error")
        return _back()
    return _act(lambda session, now: callback_actions.reassign(session, callback_id, staff_id,
                                                               current_user.id, now),
                gettext("Callback given to the consultant.") if staff_id
                else gettext("Callback given to anyone suitable."))


@blueprint.post(f"/board/callbacks/<int(max={MAX_ID}):callback_id>/reschedule")
@allow(permissions.CHANGE_CALLBACKS)
def reschedule_callback(callback_id: int):
    """Form: due_at, a local date and time (datetime-local) in the callback's office's time zone."""
    session = runtime.session()
    callback = session.get(Callback, callback_id)
    try:
        local = datetime.fromisoformat(request.form.get("due_at", ""))
    except ValueError:
        local = None
    if callback is None or local is None or local.tzinfo is not None:
        flash(gettext("Give the new date and time.") if callback else gettext("There is no such callback."),
              "error")
        return _back()
    due_at = local.replace(tzinfo=days.zone_of(runtime.catalogue(), callback.office_code))
    return _act(lambda session, now: callback_actions.reschedule(session, callback_id, due_at,
                                                                 current_user.id, now),
                gettext("Callback moved."))


@blueprint.post(f"/board/callbacks/<int(max={MAX_ID}):callback_id>/cancel")
@allow(permissions.CHANGE_CALLBACKS)
def cancel_callback(callback_id: int):
    """Cancel a callback (the form carries only its CSRF token)."""
    return _act(lambda session, now: callback_actions.cancel(session, callback_id, current_user.id, now),
                gettext("Callback canceled."))


def _act(action, done: str):
    """Run a callback action; flash what happened (or why it was refused) and go back to the board."""
    try:
        action(runtime.session(), utcnow())
    except callback_actions.Refused as refused:
        # The reason comes from dashboards.callback_actions (shared with the API), in English.
        flash(gettext("Not changed: %(reason)s.", reason=refused), "error")
    else:
        flash(done, "info")
    return _back()
