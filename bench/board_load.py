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
127.0.0.1 and a fresh `hotline worker`, it sends the same kind of webhook load at a fixed rate
(--rate requests/s, whole calls of four signed webhooks as ivr_throughput.py writes them, new
CallSids for each run) and records each webhook's latency from when it was due (open loop: a
sender held up by a slow answer sends its next request late, and that wait counts). Each board is
a logged-in supervisor's session that fetches /board/live, waits a second after each answer
starts (as static/board.js: one request in flight at a time, every second), and records how long
the fragment took.

The day's calls have the journals the IVR writes (answered, answered from the queue, abandoned in
each menu or the queue, waiting now). Twilio's REST API is a stand-in on this machine
(bench/stand_ins.py); the silent-call check is off (the seeded waiting callers are not live
calls). Every failure counted (webhook answers, board polls, errors in the server's and the
worker's logs, the stand-in's error answers) is printed with its reason.

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
from bench import stand_ins  # noqa: E402
from dashboards.reports import FUNNEL_KINDS  # noqa: E402

PASSWORD = "bench board password"
LAG = 16  # a call's next step comes 4 x LAG requests later (as ivr_throughput)
SENDERS = 16  # threads sending webhooks; the rate, not their number, sets the load


# --- the throwaway hotline's day so far -------------------------------------------------------

# The calls of the day, by what happened to them (weights of the seed): each gets the journal the
# IVR writes for such a call (_journal; tests/bench/test_board_load.py compares it with a call of
# each kind made through the signed webhooks), so the board reads the rows it reads on a real day.
OUTCOMES = {"answered": 0.35, "answered_from_queue": 0.25, "abandoned_in_language_menu": 0.10,
            "abandoned_in_topic_menu": 0.10, "abandoned_in_queue": 0.19, "waiting": 0.01}
# The kinds of the funnel's steps, as the board's funnel reads them (dashboards.reports).
LANGUAGE, TOPIC, QUEUED, OFFERED = (FUNNEL_KINDS[step] for step in
                                    ("reached_topic_menu", "chose_topic", "queued", "offered"))


def seed_day(url: str, calls_today: int, boards: int) -> None:
    """Supervisors who log in, and a day of calls so far: journals, queue entries, abandonments at
    every stage, callers waiting now, open and unreachable callbacks."""
    from sqlalchemy import insert, select

    from hotline.accounts import create_staff, set_password
    from hotline.catalogue import load_catalogue
    from hotline.db import Database
    from hotline.models import Call, Callback, CallEvent, QueueEntry, Staff, utcnow

    catalogue = load_catalogue(str(ivr.ALWAYS_OPEN))
    db = Database(url)
    rng = random.Random(7)
    now = utcnow()
    languages, topics = [lang.code for lang in catalogue.languages], [t.code for t in catalogue.topics]
    with db.session() as session:
        consultants = list(session.scalars(select(Staff.id).where(Staff.role == "consultant")))
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
            calls.append(_seed_call(n, started, rng.choice(languages), rng.choice(topics), rng,
                                    rng.choice(consultants)))
        session.execute(insert(Call), [{k: v for k, v in c.items() if not k.startswith("_")} for c in calls])
        ids = dict(session.execute(Call.__table__.select().with_only_columns(Call.call_sid, Call.id)).all())
        for call in calls:
            events += _seed_events(ids[call["call_sid"]], call)
            if QUEUED in (kind for kind, _, _ in _journal(call)):
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


def _seed_call(n: int, started, language: str, topic: str, rng: random.Random, consultant: int) -> dict:
    """Call number `n` of the day, its `_outcome` drawn by OUTCOMES' weights; `consultant` answers it
    if it is answered."""
    outcome = rng.choices(list(OUTCOMES), weights=list(OUTCOMES.values()))[0]
    answered = started + timedelta(seconds=rng.uniform(5, 90)) if outcome.startswith("answered") else None
    waiting = outcome == "waiting"
    return {"call_sid": f"CAseed{n:08d}", "caller_number": None, "caller_key": f"{n:032x}",
            "office_code": "sofia", "language_code": language, "topic_code": topic,
            "stage": "queued" if waiting else "ended", "started_at": started, "answered_at": answered,
            "consultant_id": consultant if answered else None,
            "ended_at": None if waiting else started + timedelta(seconds=rng.uniform(30, 600)),
            "outcome": None if waiting else "answered" if answered else "abandoned",
            "_waiting": waiting, "_outcome": outcome}


def _journal(call: dict) -> list[tuple[str, str | None, int | None]]:
    """What the IVR journals for `call` (a _seed_call), in order: (kind, detail, consultant id)."""
    outcome, consultant = call["_outcome"], call.get("consultant_id")
    steps = [("incoming", call["office_code"], None), (LANGUAGE, call["language_code"], None),
             (TOPIC, call["topic_code"], None)]
    queued = (QUEUED, f"{call['language_code']}-{call['topic_code']}", None)
    if outcome == "answered":
        return steps + [(OFFERED, None, consultant), ("accepted", None, consultant),
                        ("ended", "answered", consultant)]
    if outcome == "answered_from_queue":
        waited = str(int((call["answered_at"] - call["started_at"]).total_seconds()))
        return steps + [queued, (OFFERED, None, consultant), ("accepted", None, consultant),
                        ("bridged", waited, consultant), ("ended", "answered", consultant)]
    if outcome == "waiting":
        return steps + [queued]
    # The stage a caller hung up at is the call's stage then (hotline.calls.close_call).
    stage, reached = {"abandoned_in_language_menu": ("language_menu", 1),
                      "abandoned_in_topic_menu": ("topic_menu", 2),
                      "abandoned_in_queue": ("queued", 4)}[outcome]
    return (steps + [queued])[:reached] + [("abandoned", stage, None), ("ended", "abandoned", None)]


def _seed_events(call_id: int, call: dict) -> list[dict]:
    """The rows of `call`'s journal (_journal), a second apart from its start."""
    return [{"call_id": call_id, "at": call["started_at"] + timedelta(seconds=i), "kind": kind,
             "detail": detail, "consultant_id": consultant}
            for i, (kind, detail, consultant) in enumerate(_journal(call))]


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
    """A supervisor's open board: logs in, then fetches /board/live every second until `stop`, one
    request in flight at a time, as static/board.js does (so a fragment's time is from its request)."""

    def __init__(self, port: int, name: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.port, self.name, self.stop = port, name, stop
        self.latencies: list[float] = []
        self.errors: list[str] = []  # every failed poll's reason

    def run(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            cookie = self._log_in(conn)
        except (OSError, http.client.HTTPException, ValueError) as error:
            self.errors.append(f"{self.name} could not log in: {error}")
            return
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                conn.request("GET", "/board/live", headers={"Cookie": cookie})
                response = conn.getresponse()
                body = response.read()
                text = " ".join(body[:200].decode(errors="replace").split())
                failed = None if response.status == 200 and b'class="board"' in body else \
                    f"/board/live answered {response.status}: {text}"
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                failed = f"/board/live: {type(error).__name__}: {error}"
            if failed:
                self.errors.append(failed)
            else:
                self.latencies.append(time.monotonic() - started)
            self.stop.wait(max(0.0, 1.0 - (time.monotonic() - started)))

    def _log_in(self, conn: http.client.HTTPConnection) -> str:
        conn.request("GET", "/login")
        response = conn.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie", "").split(";", 1)[0]
        token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page)
        if token is None:
            raise ValueError(f"no CSRF token in /login ({response.status})")
        body = urllib.parse.urlencode({"name": self.name, "password": PASSWORD, "csrf_token": token.group(1)})
        conn.request("POST", "/login", body, {"Cookie": cookie,
                                              "Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        response.read()
        if response.status != 302:
            raise ValueError(f"POST /login answered {response.status}")
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
    """Send `requests` in order, request i due at start + i/rate, from SENDERS threads (open loop).
    Returns each request's latency in s measured from when it was due, not from when a sender got
    to send it (a sender held up by a slow answer sends late: timing from the send would leave that
    wait out, the coordinated omission), how late each was sent, and every failure with its reason."""
    start = time.monotonic() + 0.2
    latencies: list[float] = []
    late: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    position = iter(range(len(requests)))

    def sender() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while True:
            with lock:
                i = next(position, None)
            if i is None:
                conn.close()
                return
            due = start + i / rate
            time.sleep(max(0.0, due - time.monotonic()))
            path, body, headers = requests[i]
            sent = time.monotonic()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                text = response.read().decode(errors="replace")
                failed = None if response.status == 200 and "<Response" in text and marker not in text else \
                    f"{path} answered {response.status}: {' '.join(text[:200].split())}"
            except (OSError, http.client.HTTPException) as error:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                failed = f"{path}: {type(error).__name__}: {error}"
            with lock:
                latencies.append(time.monotonic() - due)
                late.append(sent - due)
                if failed:
                    failures.append(failed)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"latencies": sorted(latencies), "late": sorted(late), "failures": failures,
            "bad": len(failures), "seconds": time.monotonic() - start}


def quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def stop_worker(worker: subprocess.Popen, timeout: float = 15) -> str | None:
    """SIGTERM, then wait for the worker to finish its job and exit; killed after `timeout` s (an
    idle `hotline worker` took about 60 s to exit after SIGTERM here, after its last job). Returns a
    note when it had to be killed, else None. The measurement was over by then."""
    worker.terminate()
    try:
        worker.wait(timeout)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()
        return f"the hotline worker still ran {timeout:.0f} s after SIGTERM (after the measurement): killed"
    return None


def run(boards: int, args, url: str, api: stand_ins.TwilioStandIn, tmp: Path, marker: str, seed: int) -> dict:
    """One measurement on a fresh gunicorn and worker: the webhook load with `boards` boards polling."""
    port = ivr.free_port()
    base_url = f"http://127.0.0.1:{port}"
    calls = int(args.rate * args.duration) // (4 * ivr.STREAMS) + 4 * LAG
    ivr.write_streams(tmp / f"warm{seed}", tmp / f"load{seed}", base_url, calls, LAG, warmup_ticks=4 * LAG,
                      seed=seed)
    env = stand_ins.hotline_env(url, api.url, redis_url=args.redis, instance=tmp / "instance",
                                config=stand_ins.config_file(tmp, stand_ins.NO_SILENT_CALL_CHECK),
                                public_base_url=base_url, app_dir=REPO)
    logs = (tmp / f"gunicorn-{seed}.log", tmp / f"worker-{seed}.log")
    with open(logs[0], "w") as log:
        proc = subprocess.Popen(ivr.gunicorn_command("hotline.wsgi:app", port), cwd=REPO, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    # The Procfile's other half: the worker, which runs the jobs (pairing, and the board's rendering).
    with open(logs[1], "w") as log:
        worker = subprocess.Popen([str(Path(sys.executable).with_name("hotline")), "worker"], cwd=REPO,
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
    stop = threading.Event()
    open_boards = [Board(port, f"Bench supervisor {n}", stop) for n in range(boards)]
    problems: list[str] = []
    note = None
    try:
        ivr.wait_ready(proc, port)
        warm = send_paced(port, read_stream(tmp / f"warm{seed}"), args.rate, marker)
        problems += [f"warm-up: {failure}" for failure in warm["failures"]]
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
        note = stop_worker(worker)
    problems += [error for path in logs for error in stand_ins.log_failures(path)]
    fragments = sorted(latency for board in open_boards for latency in board.latencies)
    return {"boards": boards, "webhooks": load, "fragments": fragments,
            "fragment_errors": [error for board in open_boards for error in board.errors],
            "problems": problems, "notes": [note] if note else []}


HEADER = (f"{'boards':>6} {'hooks/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'late99':>7} "
          f"{'failed':>6}   "
          f"{'polls':>6} {'p50 ms':>8} {'p99 ms':>8} {'failed':>6}")


def report(result: dict) -> str:
    hooks, fragments = result["webhooks"], result["fragments"]
    line = (f"{result['boards']:>6} {len(hooks['latencies']) / hooks['seconds']:>8.1f} "
            f"{quantile(hooks['latencies'], 0.5):>8.1f} {quantile(hooks['latencies'], 0.99):>8.1f} "
            f"{quantile(hooks['latencies'], 1.0):>8.1f} {quantile(hooks['late'], 0.99):>7.1f} "
            f"{hooks['bad']:>6}")
    if result["boards"]:
        line += (f"   {len(fragments):>6} {quantile(fragments, 0.5):>8.1f} {quantile(fragments, 0.99):>8.1f} "
                 f"{len(result['fragment_errors']):>6}")
    return line


def failures(result: dict) -> list[str]:
    """Every failure of one run, with its reason (the first 10 of each kind, and how many more)."""
    lines = []
    for what, found in (("webhook", result["webhooks"]["failures"]),
                        ("board poll", result["fragment_errors"]), ("other", result["problems"])):
        lines += [f"{result['boards']} boards, {what}: {text[:300]}" for text in found[:10]]
        if len(found) > 10:
            lines.append(f"{result['boards']} boards, {what}: ... and {len(found) - 10} more")
    return lines


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
    load_before = os.getloadavg()[0]
    print(f"gunicorn gthread {ivr.WORKERS} workers x {ivr.THREADS} threads + 1 hotline worker, PostgreSQL + "
          f"Redis, {os.cpu_count()} CPUs (load average {load_before:.2f} before); {args.calls_today} calls "
          f"today seeded; webhooks at {args.rate:.0f}/s for {args.duration} s per run, open loop: a "
          f"webhook's latency is from when it was due to its answer; late99: p99 of how late it was sent "
          f"(ms); polls: each board's /board/live, one a second, timed from its request", flush=True)
    print(HEADER, flush=True)
    try:
        with stand_ins.TwilioStandIn() as api:
            url, drop = ivr.make_database(args.postgres, tmp)
            seed_day(url, args.calls_today, args.boards)
            marker = ivr.apology_marker()
            for _ in range(args.rounds):
                for boards in (0, args.boards):
                    results.append(run(boards, args, url, api, tmp, marker, seed=len(results) + 1))
                    print(report(results[-1]), flush=True)
            stand_in = api.summary()
    finally:
        try:
            drop()
        finally:
            redis.Redis.from_url(args.redis).flushdb()
            shutil.rmtree(tmp, ignore_errors=True)
    found = [line for result in results for line in failures(result)]
    print(f"failures: {len(found) if found else 'none'}")
    for line in found:
        print("  " + line)
    for line in stand_in:
        print(line)
    for line in (f"{r['boards']} boards: {note}" for r in results for note in r["notes"]):
        print("note: " + line)
    return 1 if found or api.failures else 0


if __name__ == "__main__":
    sys.exit(main())
