#!/usr/bin/env python3
"""Do open supervisor boards slow the IVR webhooks? Webhook latency with 0 and with 20 boards polling.

    .venv/bin/python bench/board_load.py --postgres postgresql://postgres@127.0.0.1:5432/postgres \
        --redis redis://127.0.0.1:6379/12 [--boards 20] [--rate 100] [--duration 20] [--calls-today 2000]

One run builds a throwaway hotline on PostgreSQL (a temporary database on the server of --postgres,
dropped afterwards; Redis on the database of --redis, emptied before and after; always-open
offices; six available consultants, as bench/ivr_throughput.py) and gives it a busy day so far:
--calls-today calls with their journals and queue entries (some abandoned, at each stage), a few
callers still waiting, open and unreachable callbacks. Then, for 0 boards and for --boards boards,
each on a fresh gunicorn with the Procfile's settings (gthread, 2 workers x 4 threads) on
127.0.0.1, it sends the same kind of webhook load at a fixed rate (--rate requests/s, whole calls
of four signed webhooks as ivr_throughput.py writes them, new CallSids for each run) and records
each webhook's latency. Each board is a logged-in supervisor's session that fetches /board/live,
waits a second after each answer starts (as static/board.js: one request in flight at a time,
every second), and records how long the fragment took.

A fixed rate, not "as fast as possible": the question is whether a hotline's webhooks get slower
when boards are open, not how many webhooks a saturated server sustains (ivr_throughput.py).
"""
from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench import ivr_throughput as ivr  # noqa: E402

PASSWORD = "bench board password"
LAG = 16  # a call's next step comes 4 x LAG requests later (as ivr_throughput)
SENDERS = 16  # threads sending webhooks; the rate, not their number, sets the load
STAGES = ("greeting", "language_menu", "topic_menu", "queue")


# --- the throwaway hotline's day so far -------------------------------------------------------

def seed_day(url: str, calls_today: int, boards: int) -> None:
    """Supervisors who log in, and a day of calls so far: journals, queue entries, abandonments at
    every stage, callers waiting now, open and unreachable callbacks."""
    from sqlalchemy import insert

    from hotline.accounts import create_staff, set_password
    from hotline.catalogue import load_catalogue
    from hotline.db import Database
    from hotline.models import Call, Callback, CallEvent, QueueEntry, utcnow

    catalogue = load_catalogue(str(ivr.ALWAYS_OPEN))
    db = Database(url)
    rng = random.Random(7)
    now = utcnow()
    languages, topics = [lang.code for lang in catalogue.languages], [t.code for t in catalogue.topics]
    with db.session() as session:
        for n in range(boards):
            person = create_staff(session, catalogue, name=f"Bench supervisor {n}", role="supervisor",
                                  phone=None, languages=["en"], topics=["other"], office="sofia")
            set_password(session, person, PASSWORD)
        # Earlier today: at most the hours since midnight (Sofia), so they count as today.
        midnight = now.astimezone(ivr_zone(catalogue)).replace(hour=0, minute=0, second=0, microsecond=0)
        span = max(60.0, (now - midnight).total_seconds() - 60)
        calls, events, entries = [], [], []
        for n in range(calls_today):
            started = now - timedelta(seconds=rng.uniform(60, span))
            calls.append(_seed_call(n, started, rng.choice(languages), rng.choice(topics), rng))
        session.execute(insert(Call), [{k: v for k, v in c.items() if not k.startswith("_")} for c in calls])
        ids = dict(session.execute(Call.__table__.select().with_only_columns(Call.call_sid, Call.id)).all())
        for call in calls:
            events += _seed_events(ids[call["call_sid"]], call)
            if call["_stage"] in ("queue", "ended_answered"):
                entries.append(_seed_entry(ids[call["call_sid"]], call, now))
        session.execute(insert(CallEvent), events)
        session.execute(insert(QueueEntry), entries)
        for n in range(80):
            call_id = ids[calls[n]["call_sid"]]
            state = ("scheduled", "unreachable", "due")[n % 3] if n < 60 else "completed"
            session.add(Callback(call_id=call_id, number=None, language_code=calls[n]["language_code"],
                                 topic_code=calls[n]["topic_code"], office_code="sofia",
                                 first_rang_at=calls[n]["started_at"], window_start=now,
                                 window_end=now + timedelta(hours=4), due_at=now + timedelta(minutes=n - 30),
                                 state=state, closed_at=None if state in ("scheduled", "due") else now))
        session.commit()
    db.dispose()


def ivr_zone(catalogue):
    from dashboards.days import zone_of

    return zone_of(catalogue, None)


def _seed_call(n: int, started, language: str, topic: str, rng: random.Random) -> dict:
    """One call of the day: answered (60%), abandoned at a stage (25%), no consultant or still waiting."""
    roll = rng.random()
    stage = ("ended_answered" if roll < 0.6 else rng.choice(STAGES) if roll < 0.85
             else "queue" if roll < 0.86 else "ended")
    answered = started + timedelta(seconds=rng.uniform(5, 90)) if stage == "ended_answered" else None
    waiting = stage == "queue" and roll >= 0.85
    return {"call_sid": f"CAseed{n:08d}", "caller_number": None, "caller_key": f"{n:032x}",
            "office_code": "sofia", "language_code": language, "topic_code": topic,
            "stage": "queued" if waiting else "ended", "started_at": started, "answered_at": answered,
            "ended_at": None if waiting else started + timedelta(seconds=rng.uniform(30, 600)),
            "outcome": None if waiting else "answered" if answered else "abandoned",
            "_waiting": waiting, "_stage": stage}


def _seed_events(call_id: int, call: dict) -> list[dict]:
    at = call["started_at"]
    kinds = ["reached_topic_menu", "chose_topic", "queued"]
    if call["_stage"] in STAGES and not call["_waiting"]:
        kinds = kinds[:STAGES.index(call["_stage"])] + ["abandoned"]
    return [{"call_id": call_id, "at": at, "kind": kind,
             "detail": call["_stage"] if kind == "abandoned" else None} for kind in kinds]


def _seed_entry(call_id: int, call: dict, now) -> dict:
    waiting = call["_waiting"]
    ended = None if waiting else (call["answered_at"] or call["ended_at"])
    return {"call_id": call_id, "call_sid": call["call_sid"], "language_code": call["language_code"],
            "topic_code": call["topic_code"], "office_code": "sofia", "first_rang_at": call["started_at"],
            "entered_at": call["started_at"] if not waiting else now - timedelta(seconds=30),
            "state": "waiting" if waiting else "bridged" if call["answered_at"] else "abandoned",
            "ended_at": ended, "urgent": False, "widen_level": 0}


# --- the boards -------------------------------------------------------------------------------

class Board(threading.Thread):
    """A supervisor's open board: logs in, then fetches /board/live every second until `stop`."""

    def __init__(self, port: int, name: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.name, self.stop = port, name, stop
        self.latencies: list[float] = []
        self.errors = 0

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        cookie = self._log_in(conn)
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                conn.request("GET", "/board/live", headers={"Cookie": cookie})
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200 and b'class="board"' in body
            except OSError:
                conn.close()
                conn, ok = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10), False
            self.latencies.append(time.monotonic() - started) if ok else None
            self.errors += not ok
            self.stop.wait(max(0.0, 1.0 - (time.monotonic() - started)))

    def _log_in(self, conn: http.client.HTTPConnection) -> str:
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({"name": self.name, "password": PASSWORD, "csrf_token": token})
        conn.request("POST", "/login", body, {"Cookie": cookie,
                                              "Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        if response.status != 302:
            raise SystemExit(f"{self.name} could not log in: {response.status}")
        return response.getheader("Set-Cookie", "").split(";", 1)[0]


# --- the webhooks, at a fixed rate ------------------------------------------------------------

def read_stream(prefix: Path) -> list[tuple[str, bytes, dict[str, str]]]:
    """The pre-signed requests of every stream file of `prefix`, interleaved in tick order."""
    streams = []
    for k in range(1, ivr.STREAMS + 1):
        with open(f"{prefix}-{k}.txt") as fh:
            streams.append([line.rstrip("\n").split("\t", 2) for line in fh])
    merged = [request for group in zip(*streams, strict=False) for request in group]
    headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1"}
    return [(path, body.encode(), {**headers, "X-Twilio-Signature": signature})
            for path, signature, body in merged]


def send_paced(port: int, requests: list, rate: float, marker: str) -> dict:
    """Send `requests` in order, request i at start + i/rate, from SENDERS threads; latencies in s."""
    start = time.monotonic() + 0.2
    latencies: list[float] = []
    bad = [0]
    lock = threading.Lock()
    position = iter(range(len(requests)))

    def sender() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                i = next(position, None)
            if i is None:
                return
            time.sleep(max(0.0, start + i / rate - time.monotonic()))
            path, body, headers = requests[i]
            began = time.monotonic()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                text = response.read().decode(errors="replace")
                ok = response.status == 200 and "<Response" in text and marker not in text
            except OSError:
                conn.close()
                conn, ok = http.client.HTTPConnection("127.0.0.1", port, timeout=10), False
            with lock:
                latencies.append(time.monotonic() - began)
                bad[0] += not ok

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": sorted(latencies), "bad": bad[0], "seconds": time.monotonic() - start}


def quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def run(boards: int, args, env: dict, tmp: Path, marker: str, seed: int) -> dict:
    """One measurement on a fresh gunicorn: the webhook load with `boards` boards polling."""
    port = ivr.free_port()
    base_url = f"http://127.0.0.1:{port}"
    calls = int(args.rate * args.duration) // (4 * ivr.STREAMS) + 4 * LAG
    ivr.write_streams(tmp / f"warm{seed}", tmp / f"load{seed}", base_url, calls, LAG, warmup_ticks=4 * LAG,
                      seed=seed)
    env = {**env, "PUBLIC_BASE_URL": base_url}
    with open(tmp / f"gunicorn-{seed}.log", "w") as log:
        proc = subprocess.Popen(ivr.gunicorn_command("hotline.wsgi:app", port), cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    # The Procfile's other half: the worker, which runs the jobs (pairing, and the board's rendering).
    with open(tmp / f"worker-{seed}.log", "w") as log:
        worker = subprocess.Popen([str(Path(sys.executable).with_name("hotline")), "worker"], cwd=REPO,
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
    stop = threading.Event()
    open_boards = [Board(port, f"Bench supervisor {n}", stop) for n in range(boards)]
    try:
        ivr.wait_ready(proc, port)
        send_paced(port, read_stream(tmp / f"warm{seed}"), args.rate, marker)
        for board in open_boards:
            board.start()
            time.sleep(1.0 / max(boards, 1))  # spread over a second, as boards opened at different times
        time.sleep(2)  # every board polling
        load = send_paced(port, read_stream(tmp / f"load{seed}")[:int(args.rate * args.duration)],
                          args.rate, marker)
    finally:
        stop.set()
        for board in open_boards:
            board.join(timeout=15)
        ivr.stop(proc)
        worker.terminate()
        worker.wait(30)
    fragments = sorted(latency for board in open_boards for latency in board.latencies)
    return {"boards": boards, "webhooks": load, "fragments": fragments,
            "fragment_errors": sum(board.errors for board in open_boards)}


def report(result: dict) -> str:
    hooks, fragments = result["webhooks"], result["fragments"]
    line = (f"{result['boards']:>6} {len(hooks['latencies']) / hooks['seconds']:>8.1f} "
            f"{quantile(hooks['latencies'], 0.5):>8.1f} {quantile(hooks['latencies'], 0.99):>8.1f} "
            f"{quantile(hooks['latencies'], 1.0):>8.1f} {hooks['bad']:>6}")
    if fragments:
        line += (f"   {len(fragments):>6} {quantile(fragments, 0.5):>8.1f} {quantile(fragments, 0.99):>8.1f} "
                 f"{result['fragment_errors']:>6}")
    return line


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True, metavar="URL", help="a PostgreSQL server (admin URL)")
    parser.add_argument("--redis", required=True, metavar="URL", help="a Redis database, emptied")
    parser.add_argument("--boards", type=int, default=20, help="boards polling in the second run (20)")
    parser.add_argument("--rate", type=float, default=100, help="webhooks per second (100)")
    parser.add_argument("--duration", type=int, default=20, help="seconds of measured load per run (20)")
    parser.add_argument("--calls-today", type=int, default=2000, help="calls already made today (2000)")
    parser.add_argument("--rounds", type=int, default=1, help="repeat 0 and N boards this often (1)")
    args = parser.parse_args(argv)

    import redis

    redis.Redis.from_url(args.redis).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="hotline-board-bench-"))
    drop = lambda: None  # noqa: E731
    results = []
    try:
        url, drop = ivr.make_database(args.postgres, tmp)
        seed_day(url, args.calls_today, args.boards)
        env = {**os.environ, "DATABASE_URL": url, "TWILIO_AUTH_TOKEN": ivr.AUTH_TOKEN,
               "TWILIO_ACCOUNT_SID": ivr.ACCOUNT_SID, "HOTLINE_CONFIG": str(ivr.ALWAYS_OPEN),
               "HOTLINE_INSTANCE_PATH": str(tmp / "instance"), "REDIS_URL": args.redis, "SECRET_KEY": "bench"}
        for name in ("WEB_CONCURRENCY", "GUNICORN_CMD_ARGS"):
            env.pop(name, None)
        marker, load_before = ivr.apology_marker(), os.getloadavg()[0]
        for _ in range(args.rounds):
            for boards in (0, args.boards):
                results.append(run(boards, args, env, tmp, marker, seed=len(results) + 1))
    finally:
        try:
            drop()
        finally:
            redis.Redis.from_url(args.redis).flushdb()
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"gunicorn gthread {ivr.WORKERS} workers x {ivr.THREADS} threads, PostgreSQL + Redis, "
          f"{os.cpu_count()} CPUs (load average {load_before:.2f} before); {args.calls_today} calls today "
          f"seeded; webhooks at {args.rate:.0f}/s for {args.duration} s per run")
    print(f"{'boards':>6} {'hooks/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'bad':>6}   "
          f"{'polls':>6} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for result in results:
        print(report(result))
    return 1 if any(r["webhooks"]["bad"] or r["fragment_errors"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
