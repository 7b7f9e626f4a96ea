#!/usr/bin/env python3
"""Callbacks: how many one worker places per second, and how long the reconciliation takes.

    .venv/bin/python bench/callbacks_placed.py [--callbacks 1000] [--pending 100000] [--runs 5]
    .venv/bin/python bench/callbacks_placed.py --postgres postgresql+psycopg://postgres@127.0.0.1:5432/test
        # a throwaway database next to the one named, dropped afterwards

(a) Placing. N callbacks are due and N consultants, each with the language and topic of one of
them, are free (always-open offices). One worker then does what placing them takes: each
callback's wake-up job (callbacks.schedule.wake: into the queue, keeping the caller's place) and
the pairing job it enqueues (routing.offers.find_consultant: routing picks and reserves a consultant,
callbacks.consultant_leg.ring_consultant numbers an attempt and rings them through Twilio's REST API,
calls.create, here against Prism's mock of it: tests/contract/prism.py, npm ci first). Timed:
  worker    the jobs in Redis, run by an in-process rq SimpleWorker in one burst, as
            `rq worker` would run them (without its fork per job)
  loop      wake() then find_consultant() called in a loop: the same work without RQ
  loop, one HTTP client   as loop, with one TwilioHttpClient kept for all requests (keep-alive);
            Hotline's rest_client() builds a new client, so a new connection, per request
Each row has a fresh database. The time inside Twilio's HTTP client (the request to Prism, and a
new TCP connection each time) is shown apart from the rest (database, routing, RQ); and Prism's
own floor: the same POST sent N times from one keep-alive session, outside Hotline.
Goal: >= 200 callbacks/s.

(b) Reconciliation (callbacks.reconciliation.reconcile, every minute) over P open callbacks: 97% due
later (within two weeks), 2% in progress (an attempt ringing the caller), 1% due. Median of R runs:
  steady    the due ones are already queued (their wake-up jobs ran): nothing to wake
  catch-up  Redis lost the wake-up jobs: the run wakes a batch (RECONCILE_BATCH); put back after
            each run (not timed)

Logging as the app configures it (INFO, which includes the Twilio client's lines per request),
written to a file in the temp folder rather than the terminal. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import requests  # noqa: E402
from rq import SimpleWorker  # noqa: E402
from seeding import (  # noqa: E402
    ACCOUNT_SID,
    bench_env,
    booked_rows,
    consultant_rows,
    fresh_app,
    insert_rows,
    pairs,
)
from sqlalchemy import delete, event, select, update  # noqa: E402
from throwaway_db import postgres_database  # noqa: E402
from twilio.http.http_client import TwilioHttpClient  # noqa: E402

from callbacks import jobs, reconciliation, schedule  # noqa: E402
from hotline.models import (  # noqa: E402
    Callback,
    CallbackAttempt,
    QueueEntry,
    utcnow,
)
from routing import offers  # noqa: E402
from tests.contract import prism as prism_mock  # noqa: E402

# -- throwaway databases (as bench/routing_pick.py) ------------------------------------------------

@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    path = folder / f"bench-{uuid.uuid4().hex[:8]}.sqlite3"
    try:
        yield f"sqlite:///{path}"
    finally:
        path.unlink(missing_ok=True)


# -- the time spent in Twilio's HTTP client ------------------------------------------------------

@dataclass
class HttpTally:
    seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return sum(self.statuses.values())


TALLY = HttpTally()
_send = TwilioHttpClient.request


def _timed_send(self, *args, **kwargs):
    start = time.perf_counter()
    try:
        response = _send(self, *args, **kwargs)
    finally:
        TALLY.seconds += time.perf_counter() - start
    TALLY.statuses[response.status_code] = TALLY.statuses.get(response.status_code, 0) + 1
    return response


TwilioHttpClient.request = _timed_send


# -- the hotline --------------------------------------------------------------------------------

def make_app(url: str, folder: Path, api_base_url: str, redis_url: str | None = None):
    return fresh_app(bench_env(url, redis_url, api_base_url))


def _log_to(path: Path) -> None:
    """Keep the app's logging (INFO), but into a file: the terminal is for the figures."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.FileHandler(path))
    root.setLevel(logging.INFO)


def add_due_callbacks_and_consultants(app, count: int, rng: random.Random) -> list[int]:
    """`count` callbacks due a minute ago, over every language x topic, each booked on a call that
    rang within the last two hours; and as many available consultants with one skill each, so
    that every callback has one consultant. Returns the callbacks' ids."""
    now = utcnow()
    skills = pairs(app)
    calls, callbacks, staff, staff_skills = [], [], [], []
    for i in range(count):
        language, topic = skills[i % len(skills)]
        rang = now - timedelta(seconds=rng.randrange(600, 7200))
        call, callback = booked_rows(i + 1, language, topic, rang, now - timedelta(minutes=1), "scheduled")
        calls.append(call)
        callbacks.append(callback)
        consultant, skill = consultant_rows(i, language, topic, now, rng)
        staff.append(consultant)
        staff_skills.append(skill)
    insert_rows(app, calls=calls, callbacks=callbacks, staff=staff, skills=staff_skills)
    return [row["id"] for row in callbacks]


@dataclass
class Placed:
    label: str
    count: int
    seconds: float
    http_seconds: float
    http_statuses: dict[int, int]
    statements: int
    commits: int
    prism_cpu: float

    def line(self) -> str:
        per = self.seconds / self.count * 1000
        http = self.http_seconds / self.count * 1000
        return (f"  {self.label:<26} {self.count / self.seconds:>5.0f}/s  {per:>6.2f} ms each: "
                f"{http:>5.2f} in Twilio's HTTP client, {per - http:>5.2f} the rest; "
                f"{self.statements / self.count:.0f} SQL statements, {self.commits / self.count:.0f} commits "
                f"each; Prism's CPU {self.prism_cpu / self.count * 1000:.2f} ms each; "
                f"HTTP {dict(sorted(self.http_statuses.items()))}")


class SqlTally:
    """Statements and commits sent to the database while counting."""

    def __init__(self, engine) -> None:
        self.statements = self.commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_args) -> None:
        self.statements += 1

    def _commit(self, *_args) -> None:
        self.commits += 1


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children that were waited for (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(value) for value in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def place(app, ids: list[int], mode: str) -> tuple[float, int]:
    """Place every callback; returns (seconds, attempts rung)."""
    hotline = app.extensions["hotline"]
    with app.app_context():
        if mode == "worker":
            queue = hotline.queue()
            for callback_id in ids:  # what RQ's scheduler does when they are due (not timed)
                queue.enqueue(jobs.wake_job, callback_id)
            worker = SimpleWorker([queue], connection=hotline.redis)
            start = time.perf_counter()
            worker.work(burst=True, logging_level="WARNING")
            seconds = time.perf_counter() - start
        else:
            start = time.perf_counter()
            for callback_id in ids:
                with hotline.db.session() as session:
                    entry = schedule.wake(session, callback_id, utcnow())
                    offers.find_consultant(session, entry.id)
            seconds = time.perf_counter() - start
    with hotline.db.session() as session:
        unrung = session.scalar(select(CallbackAttempt).where(CallbackAttempt.consultant_leg_sid.is_(None)))
        assert unrung is None, f"attempt {unrung.id} has no consultant leg: Twilio refused?"
        placed = len(list(session.scalars(select(CallbackAttempt.id))))
    return seconds, placed


def bench_placing(database: Callable[[], object], folder: Path, prism: prism_mock.Prism, count: int,
                  seed: int, redis_url: str | None) -> list[Placed]:
    rows = []
    for label, mode, shared_client in (("worker (rq SimpleWorker)", "worker", False), ("loop", "loop", False),
                                       ("loop, one HTTP client", "loop", True)):
        with database() as url:
            app = make_app(url, folder, prism.url, redis_url)
            _log_to(folder / "placing.log")
            hotline = app.extensions["hotline"]
            if shared_client:
                hotline.twilio_http = TwilioHttpClient(timeout=10)
            try:
                ids = add_due_callbacks_and_consultants(app, count, random.Random(seed))
                TALLY.seconds, TALLY.statuses = 0.0, {}
                sql = SqlTally(hotline.db.engine)
                prism_cpu = cpu_seconds(prism.process.pid)
                seconds, placed = place(app, ids, mode)
                prism_cpu = cpu_seconds(prism.process.pid) - prism_cpu
                if placed != count:
                    raise SystemExit(f"{label}: {placed} of {count} callbacks rang a consultant")
                rows.append(Placed(label, count, seconds, TALLY.seconds, dict(TALLY.statuses), sql.statements,
                                   sql.commits, prism_cpu))
                print(rows[-1].line(), flush=True)
            finally:
                if shared_client:
                    hotline.twilio_http.session.close()
                hotline.redis.flushdb()
                hotline.db.dispose()
    return rows


def prism_floor(prism_url: str, count: int) -> tuple[float, float]:
    """ms per Calls.json POST straight to Prism: over one keep-alive session, and a new connection
    each (as Hotline's rest_client() does)."""
    url = f"{prism_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    data = {"To": "+359870000001", "From": "+35924916000", "Method": "POST", "Timeout": "20",
            "Url": "https://hotline.example.org/callbacks/whisper?attempt=1", "StatusCallbackMethod": "POST",
            "StatusCallback": "https://hotline.example.org/callbacks/consultant-status?attempt=1"}
    results = []
    for keep_alive in (True, False):
        with requests.Session() as http:
            start = time.perf_counter()
            for _ in range(count):
                if keep_alive:
                    response = http.post(url, data=data, auth=(ACCOUNT_SID, "bench"), timeout=10)
                else:
                    response = requests.post(url, data=data, auth=(ACCOUNT_SID, "bench"), timeout=10)
                assert response.status_code == 201, response.text
            results.append((time.perf_counter() - start) / count * 1000)
    return results[0], results[1]


# -- (b) the reconciliation -----------------------------------------------------------------------

def add_pending(app, count: int, rng: random.Random) -> tuple[int, int]:
    """`count` open callbacks: 97% due later, 2% in progress, 1% due. Returns (due, in progress)."""
    now = utcnow()
    skills = pairs(app)
    due_count, ringing_count = count // 100, count // 50
    calls, callbacks, attempts = [], [], []
    for i in range(count):
        language, topic = skills[i % len(skills)]
        rang = now - timedelta(seconds=rng.randrange(600, 14 * 86400))
        if i < due_count:
            state, due = "scheduled", now - timedelta(seconds=rng.randrange(60, 3600))
        elif i < due_count + ringing_count:
            state, due = "in_progress", now - timedelta(seconds=rng.randrange(60, 600))
            attempts.append({"callback_id": i + 1, "number": 1, "staff_id": None,
                             "started_at": now - timedelta(seconds=rng.randrange(10, 300)),
                             "consultant_leg_sid": f"CA{i + 1:032x}", "caller_leg_sid": f"CB{i + 1:032x}"})
        else:
            state, due = "scheduled", now + timedelta(seconds=rng.randrange(600, 14 * 86400))
        call, callback = booked_rows(i + 1, language, topic, rang, due, state)
        calls.append(call)
        callbacks.append(callback)
    insert_rows(app, calls=calls, callbacks=callbacks, more=[(CallbackAttempt, attempts)])
    return due_count, ringing_count


def _put_back(app) -> None:
    """As after Redis lost the wake-up jobs: the due callbacks scheduled again, out of the queue."""
    hotline = app.extensions["hotline"]
    with hotline.db.session() as session:
        session.execute(delete(QueueEntry).where(QueueEntry.callback_id.is_not(None)))
        session.execute(update(Callback).where(Callback.state == "due").values(state="scheduled"))
        session.commit()
    hotline.redis.flushdb()


def bench_reconcile(database: Callable[[], object], folder: Path, count: int, runs: int,
                    seed: int, redis_url: str | None) -> dict[str, tuple[float, list[float], list[int]]]:
    results = {}
    with database() as url:
        app = make_app(url, folder, "http://127.0.0.1:9", redis_url)  # nothing is rung: no consultant
        _log_to(folder / "reconcile.log")
        hotline = app.extensions["hotline"]
        try:
            start = time.perf_counter()
            due, ringing = add_pending(app, count, random.Random(seed))
            print(f"  {count:,} open callbacks ({due:,} due, {ringing:,} in progress, the rest later), "
                  f"inserted in {time.perf_counter() - start:.1f} s", flush=True)
            for label in ("catch-up", "steady"):
                times, woken = [], []
                if label == "steady":  # every due one queued first, as its wake-up job would have
                    with app.app_context(), hotline.db.session() as session:
                        while reconciliation.reconcile(session, utcnow()):
                            pass
                        ids = session.scalars(select(Callback.id).where(Callback.state == "scheduled",
                                                                        Callback.due_at <= utcnow()))
                        for callback_id in list(ids):
                            schedule.wake(session, callback_id, utcnow())
                for _ in range(runs):
                    if label == "catch-up":
                        _put_back(app)
                    with app.app_context(), hotline.db.session() as session:
                        start = time.perf_counter()
                        woken.append(reconciliation.reconcile(session, utcnow()))
                        times.append((time.perf_counter() - start) * 1000)
                results[label] = (statistics.median(times), times, woken)
                print(f"  {label:<9} median {statistics.median(times):>8.1f} ms over {runs} runs "
                      f"({', '.join(f'{t:.0f}' for t in times)}); woke {woken}", flush=True)
            with app.app_context(), hotline.db.session() as session:
                _put_back(app)
                first = reconciliation.reconcile(session, utcnow())
                second = reconciliation.reconcile(session, utcnow())
            print(f"  two runs in a row after Redis lost the jobs: woke {first}, then {second} "
                  f"(of {due:,} due)", flush=True)
        finally:
            hotline.redis.flushdb()
            hotline.db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", metavar="URL", help="run on PostgreSQL, in throwaway databases")
    parser.add_argument("--redis", metavar="URL", help="a Redis database for RQ that the bench may empty, "
                        "e.g. redis://127.0.0.1:6379/14 (default: in-process fakeredis, as `hotline run`)")
    parser.add_argument("--callbacks", type=int, default=1000, help="callbacks placed per row of (a)")
    parser.add_argument("--pending", type=int, default=100_000, help="open callbacks for (b)")
    parser.add_argument("--runs", type=int, default=5, help="reconciliation runs per figure")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--skip-placing", action="store_true")
    parser.add_argument("--skip-reconcile", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        def database():
            return postgres_database(args.postgres) if args.postgres else sqlite_database(folder)

        backend = ("PostgreSQL" if args.postgres else "SQLite") + (", Redis" if args.redis else ", fakeredis")
        print(f"{backend}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on "
              f"{os.cpu_count()} CPUs", flush=True)
        if not args.skip_placing:
            try:
                prism = prism_mock.start(folder / "prism.log")
            except (prism_mock.Unavailable, prism_mock.StartFailed) as error:
                raise SystemExit(f"Prism: {error}") from None
            try:
                keep_alive, fresh = prism_floor(prism.url, args.callbacks)
                print(f"(a) {args.callbacks} callbacks placed by one worker against Prism (dynamic mode); "
                      f"Prism alone: {keep_alive:.2f} ms per Calls.json POST over keep-alive, {fresh:.2f} ms "
                      f"on a new connection each", flush=True)
                bench_placing(database, folder, prism, args.callbacks, args.seed, args.redis)
            finally:
                prism.stop()
        if not args.skip_reconcile:
            print(f"(b) the reconciliation over {args.pending:,} open callbacks", flush=True)
            bench_reconcile(database, folder, args.pending, args.runs, args.seed, args.redis)
        print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
