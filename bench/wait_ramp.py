#!/usr/bin/env python3
"""Many callers waiting at once: the queue's wait URL under load, and whether the worker keeps up.

    .venv/bin/python bench/wait_ramp.py --postgres postgresql://postgres@127.0.0.1:5432/postgres \
        --redis redis://127.0.0.1:6379/7 [--steps 250,1000,2500,5000] [--step-seconds 60] \
        [--workers 1] [--announce-seconds 45] [--spread 600] [--burst 2000]

A throwaway hotline on PostgreSQL (a temporary database on the server of --postgres, dropped
afterwards) and Redis (the database of --redis, emptied before and after; use your own), its
offices always open, every queue allowed to hold any number of callers, and every consultant busy
(so the callers stay in the queue, and each pairing job finds nobody and ends: the jobs are there,
the REST requests are not). The Procfile's web process (gunicorn gthread, 2 workers x 4 threads)
and --workers `hotline worker` processes serve it.

For each step, callers are added until that many wait (their calls and queue entries written
straight into the database, as if they had come through the menus: entered up to --spread seconds
ago, uniformly, and widened as far as that wait allows, so during the step callers cross the
widening thresholds at the rate a queue of that size would). Every waiting caller then requests
the wait URL as Twilio does: a signed POST, again each time its TwiML runs out, which is when the
<Say>s have been spoken (estimated at 15 characters a second), the <Gather>'s pause has passed
(--announce-seconds, the catalogue's announce_seconds; 45 by default) and its one-second timeout.
A caller's first request of the step comes at a random moment within one such turn. After
--step-seconds, the step's figures are printed:
  - the wait URL's p50, p99 and max latency, requests/s and bad answers (not a 200 <Response>, or
    the fault answer, a bare <Pause length="10">), and how late requests went out (the load
    generator's own lag: if it grows, the figures understate the load);
  - the RQ backlog (jobs queued), sampled every second: at the start, its maximum, at the end, and
    the slope of a least-squares line through the samples (jobs/s; near 0 is flat);
  - jobs done per second by all workers, and jobs arriving per second (done + backlog growth).
Then (--burst) the callers stop, --burst pairing jobs for waiting callers are queued at once, and
the time the workers take to drain them gives their capacity in jobs/s (with the callers
polling, the same machine's CPUs are shared; this is without them).

--app-dir runs another checkout of Hotline (e.g. an export of main, for a before/after pair): its
gunicorn and workers import from there (cwd and PYTHONPATH); this process's seeding uses this
checkout's models, which must match that schema. Not part of the test suite; about 1.5 minutes per
step with the defaults, and it wants the machine to itself.
"""
from __future__ import annotations

import argparse
import heapq
import http.client
import os
import queue
import random
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from twilio.request_validator import RequestValidator  # noqa: E402

from bench import ivr_throughput as ivr  # noqa: E402
from bench import stand_ins  # noqa: E402

SPOKEN_CHARS_PER_SECOND = 15  # how fast Twilio's voices say a <Say>, roughly
GATHER_TIMEOUT = 1  # the wait's <Gather timeout="1">: after the pause, a second for a key
FAULT_PAUSE = "10"  # ivr.views answers a wait turn that failed with <Pause length="10"/>
QUEUE_PATH = "/ivr/queue/wait"
WIDEN_AFTER, OTHER_OFFICE_AFTER = 120, 180  # the packaged defaults (the bench's config keeps them)


def config_file(tmp: Path, announce_seconds: int) -> Path:
    """The always-open test offices, with queues that hold any number of callers, and no silent-call
    check within the run (the seeded calls have no journal to show they are alive)."""
    return stand_ins.config_file(tmp, stand_ins.NO_SILENT_CALL_CHECK, f"""
[queue]
max_size = 1000000
max_wait_seconds = 100000
announce_seconds = {announce_seconds}
widen_after_seconds = {WIDEN_AFTER}
other_office_after_seconds = {OTHER_OFFICE_AFTER}
""")


def all_busy(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE staff SET status = 'busy'"))
    engine.dispose()


def seed_callers(url: str, first: int, count: int, spread: float, rng: random.Random) -> list[dict]:
    """`count` more waiting callers (numbered from `first`): their calls and queue entries, entered
    up to `spread` seconds ago and widened as far as their wait allows. Returns their webhook params."""
    from sqlalchemy import insert, select

    from hotline.catalogue import load_catalogue
    from hotline.db import Database
    from hotline.models import Call, QueueEntry, utcnow

    catalogue = load_catalogue(str(ivr.ALWAYS_OPEN))
    languages = [lang.code for lang in catalogue.languages]
    topics = [topic.code for topic in catalogue.topics]
    now = utcnow()
    callers, calls = [], []
    for n in range(first, first + count):
        waited = rng.uniform(0, spread)
        office, number = rng.choice((("sofia", ivr.OFFICE_NUMBERS[0]), ("burgas", ivr.OFFICE_NUMBERS[1])))
        params = {"CallSid": "CA" + secrets.token_hex(16), "AccountSid": ivr.ACCOUNT_SID,
                  "From": f"+35988{n:07d}", "To": number, "CallStatus": "in-progress",
                  "ApiVersion": "2010-04-01", "Direction": "inbound", "QueueSid": "QU" + "1" * 32,
                  "QueuePosition": "1", "QueueTime": str(int(waited)), "AvgQueueTime": "60",
                  "CurrentQueueSize": str(first + count)}
        started = now - timedelta(seconds=waited + 20)
        calls.append({"call_sid": params["CallSid"], "caller_number": None, "caller_key": f"{n:032x}",
                      "called_number": number, "office_code": office, "language_code": rng.choice(languages),
                      "topic_code": rng.choice(topics), "stage": "queued", "started_at": started,
                      "direction": "inbound", "twilio_status": "in-progress",
                      "_entered": now - timedelta(seconds=waited), "_waited": waited})
        callers.append(params)
    db = Database(url)
    with db.session() as session:
        session.execute(insert(Call), [{k: v for k, v in c.items() if not k.startswith("_")} for c in calls])
        ids = dict(session.execute(select(Call.call_sid, Call.id).where(
            Call.call_sid.in_([c["call_sid"] for c in calls]))).all())
        session.execute(insert(QueueEntry), [
            {"call_id": ids[c["call_sid"]], "call_sid": c["call_sid"], "language_code": c["language_code"],
             "topic_code": c["topic_code"], "office_code": c["office_code"], "first_rang_at": c["_entered"],
             "entered_at": c["_entered"], "state": "waiting", "urgent": False,
             "widen_level": widen_level(c["_waited"])} for c in calls])
        session.commit()
    db.dispose()
    return callers


def widen_level(waited: float) -> int:
    """How far a caller who has waited `waited` seconds has been widened (ivr.on_hold)."""
    return 2 if waited >= OTHER_OFFICE_AFTER else 1 if waited >= WIDEN_AFTER else 0


class Callers:
    """Every waiting caller's next request of the wait URL, in time order, sent by `senders` threads
    over keep-alive connections; each answer sets that caller's next request."""

    def __init__(self, port: int, base_url: str, senders: int, announce_seconds: int):
        self.port, self.url = port, base_url + QUEUE_PATH
        self.validator = RequestValidator(ivr.AUTH_TOKEN)
        self.turn = announce_seconds + GATHER_TIMEOUT
        self.heap: list[tuple[float, int]] = []
        self.bodies: list[tuple[bytes, str]] = []
        self.lock = threading.Condition()
        self.todo: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.results: list[tuple[float, float, float, str]] = []  # (sent at, latency, lateness, kind)
        self.gone = 0
        self.bad_samples: list[str] = []  # the first few bad answers, for the report
        self.threads = [threading.Thread(target=self._dispatch, daemon=True)]
        self.threads += [threading.Thread(target=self._send, daemon=True) for _ in range(senders)]

    def add(self, callers: list[dict]) -> None:
        """New callers, each first heard from at a random moment within one turn from now."""
        now = time.monotonic()
        with self.lock:
            for params in callers:
                body = urllib.parse.urlencode(params).encode()
                self.bodies.append((body, self.validator.compute_signature(self.url, params)))
                heapq.heappush(self.heap, (now + random.uniform(0, self.turn + 4), len(self.bodies) - 1))
            self.lock.notify()

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _dispatch(self) -> None:
        while not self.stop.is_set():
            with self.lock:
                if not self.heap or self.heap[0][0] > time.monotonic():
                    wait = self.heap[0][0] - time.monotonic() if self.heap else 0.5
                    self.lock.wait(timeout=max(0.001, min(wait, 0.5)))
                    continue
                due, caller = heapq.heappop(self.heap)
            self.todo.put((due, caller))

    def _send(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1"}
        while not self.stop.is_set():
            try:
                due, caller = self.todo.get(timeout=0.5)
            except queue.Empty:
                continue
            body, signature = self.bodies[caller]
            began = time.monotonic()
            for fresh in (False, True):
                try:
                    conn.request("POST", QUEUE_PATH, body, {**headers, "X-Twilio-Signature": signature})
                    response = conn.getresponse()
                    text = response.read().decode("utf-8", "replace")
                    kind, next_in = self._next(response.status, text)
                    break
                except (OSError, http.client.HTTPException) as error:
                    # gunicorn closes a keep-alive connection idle for 2 s: Twilio would open a new
                    # one, and so does this, once, without counting it.
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
                    if fresh:
                        self._keep_bad(f"{type(error).__name__}: {error}")
                        kind, next_in = "bad", 5.0
                    else:
                        began = time.monotonic()
            ended = time.monotonic()
            with self.lock:
                self.results.append((began, ended - began, began - due, kind))
                if next_in is None:
                    self.gone += 1
                else:
                    heapq.heappush(self.heap, (ended + next_in, caller))
                    self.lock.notify()

    def _next(self, status: int, text: str) -> tuple[str, float | None]:
        """What the answer was, and how long until this caller's TwiML runs out (None: they left)."""
        if status != 200 or "<Response" not in text:
            self._keep_bad(f"{status} {text[:200]}")
            return "bad", 5.0
        root = ET.fromstring(text)
        if root.find("Leave") is not None:
            return "left", None
        pause = root.find("Pause")
        if pause is not None and root.find("Gather") is None:
            length = pause.get("length", "1")
            if length == FAULT_PAUSE:
                self._keep_bad(f"fault answer: {text[:200]}")
            return ("fault" if length == FAULT_PAUSE else "paused"), float(length)
        gather = root.find("Gather")
        if gather is None:
            self._keep_bad(f"no <Gather>: {text[:200]}")
            return "bad", 5.0
        spoken = sum(len(say.text or "") for say in gather.iter("Say")) / SPOKEN_CHARS_PER_SECOND
        paused = sum(float(p.get("length", "1")) for p in gather.iter("Pause"))
        return "ok", spoken + paused + float(gather.get("timeout", GATHER_TIMEOUT))

    def _keep_bad(self, text: str) -> None:
        if len(self.bad_samples) < 5:
            self.bad_samples.append(text)

    def close(self) -> None:
        self.stop.set()
        with self.lock:
            self.lock.notify_all()
        for thread in self.threads:
            thread.join(timeout=20)


class Backlog(threading.Thread):
    """Every second: jobs queued, and jobs done so far by all workers (RQ's worker counters)."""

    def __init__(self, redis_url: str):
        super().__init__(daemon=True)
        import redis

        self.redis = redis.Redis.from_url(redis_url)
        self.samples: list[tuple[float, int, int]] = []  # (monotonic, queued, done)
        self.stop = threading.Event()

    def sample(self) -> tuple[float, int, int]:
        queued = self.redis.llen("rq:queue:hotline")
        done = 0
        for key in self.redis.smembers("rq:workers"):
            counts = self.redis.hmget(key, "successful_job_count", "failed_job_count")
            done += sum(int(c) for c in counts if c)
        return time.monotonic(), queued, done

    def run(self) -> None:
        while not self.stop.is_set():
            self.samples.append(self.sample())
            self.stop.wait(1.0)

    def between(self, start: float, end: float) -> list[tuple[float, int, int]]:
        return [s for s in self.samples if start <= s[0] <= end]


def slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of y over x."""
    if len(points) < 2:
        return 0.0
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def step_report(waiting: int, results: list, samples: list, seconds: float) -> dict:
    latencies = sorted(r[1] for r in results)
    late = sorted(r[2] for r in results)
    kinds = {kind: sum(1 for r in results if r[3] == kind)
             for kind in ("ok", "bad", "fault", "left", "paused")}
    t0 = samples[0][0] if samples else 0.0
    queued = [s[1] for s in samples]
    done = (samples[-1][2] - samples[0][2]) if len(samples) > 1 else 0
    span = (samples[-1][0] - samples[0][0]) if len(samples) > 1 else 1.0
    growth = (queued[-1] - queued[0]) if queued else 0
    return {"waiting": waiting, "requests": len(results), "rate": len(results) / seconds,
            "p50": quantile(latencies, 0.5), "p99": quantile(latencies, 0.99),
            "max": quantile(latencies, 1.0),
            "late_p99": quantile(late, 0.99), **kinds,
            "backlog": (queued[0], max(queued), queued[-1]) if queued else (0, 0, 0),
            "slope": slope([(s[0] - t0, s[1]) for s in samples]),
            "done_rate": done / span if span else 0.0,
            "arrival_rate": (done + growth) / span if span else 0.0,
            "series": queued}


def burst(args, url: str, backlog: Backlog) -> tuple[int, float]:
    """Queue --burst pairing jobs for waiting callers at once; seconds until the workers drained them."""
    import redis
    from rq import Queue
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as conn:
        ids = [row[0] for row in conn.execute(text(
            "SELECT id FROM queue_entries WHERE state = 'waiting' ORDER BY id LIMIT :n"), {"n": args.burst})]
    engine.dispose()
    rq_queue = Queue("hotline", connection=redis.Redis.from_url(args.redis))
    _, _, done_before = backlog.sample()
    started = time.monotonic()
    with rq_queue.connection.pipeline() as pipe:
        for entry_id in ids:
            rq_queue.enqueue("routing.jobs.find_consultant_job", entry_id, pipeline=pipe)
        pipe.execute()
    deadline = started + 600
    while time.monotonic() < deadline:
        _, queued, done = backlog.sample()
        if queued == 0 and done - done_before >= len(ids):
            break
        time.sleep(0.05)
    return len(ids), time.monotonic() - started


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--postgres", required=True, metavar="URL", help="a PostgreSQL server (admin URL)")
    parser.add_argument("--redis", required=True, metavar="URL", help="a Redis database, emptied")
    parser.add_argument("--steps", default="250,1000,2500,5000", help="callers waiting at each step")
    parser.add_argument("--step-seconds", type=float, default=60, help="measured seconds per step (60)")
    parser.add_argument("--workers", type=int, default=1, help="`hotline worker` processes (1)")
    parser.add_argument("--announce-seconds", type=int, default=45,
                        help="the pause of each wait turn, the catalogue's announce_seconds (45)")
    parser.add_argument("--spread", type=float, default=600, help="callers entered up to N s ago (600)")
    parser.add_argument("--senders", type=int, default=64, help="load threads (keep-alive connections) (64)")
    parser.add_argument("--burst", type=int, default=2000, help="pairing jobs queued at the end (2000)")
    parser.add_argument("--app-dir", type=Path, default=REPO, help="the Hotline checkout to serve (this one)")
    args = parser.parse_args(argv)
    args.steps = [int(n) for n in args.steps.split(",")]
    if args.steps != sorted(args.steps) or args.steps[0] < 1:
        parser.error("--steps must be increasing numbers of callers")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)

    import redis

    redis.Redis.from_url(args.redis).flushdb()
    tmp = Path(tempfile.mkdtemp(prefix="hotline-wait-ramp-"))
    drop = lambda: None  # noqa: E731
    procs: list[subprocess.Popen] = []
    reports, load_before = [], os.getloadavg()[0]
    rng = random.Random(11)
    app_dir = args.app_dir.resolve()
    api = stand_ins.TwilioStandIn().__enter__()
    try:
        url, drop = ivr.make_database(args.postgres, tmp)
        all_busy(url)
        port = ivr.free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = stand_ins.hotline_env(url, api.url, redis_url=args.redis,
                                    config=config_file(tmp, args.announce_seconds), instance=tmp / "instance",
                                    public_base_url=base_url, app_dir=app_dir)
        with open(tmp / "gunicorn.log", "w") as log:
            procs.append(subprocess.Popen(ivr.gunicorn_command("hotline.wsgi:app", port), cwd=app_dir,
                                          env=env, stdout=log, stderr=subprocess.STDOUT))
        for n in range(args.workers):
            with open(tmp / f"worker-{n}.log", "w") as log:
                procs.append(subprocess.Popen([sys.executable, "-c", "from hotline.cli import main; main()",
                                               "worker"], cwd=app_dir, env=env, stdout=log,
                                              stderr=subprocess.STDOUT))
        ivr.wait_ready(procs[0], port)
        callers = Callers(port, base_url, args.senders, args.announce_seconds)
        backlog = Backlog(args.redis)
        backlog.start()
        callers.start()
        waiting = 0
        for target in args.steps:
            callers.add(seed_callers(url, waiting, target - waiting, args.spread, rng))
            waiting = target
            started = time.monotonic()
            time.sleep(args.step_seconds)
            ended = time.monotonic()
            with callers.lock:
                results = [r for r in callers.results if started <= r[0] < ended]
            reports.append(step_report(waiting, results, backlog.between(started, ended), ended - started))
            print(_row(reports[-1]), flush=True)
        callers.close()
        bad_samples = callers.bad_samples
        drained = burst(args, url, backlog) if args.burst else None
        backlog.stop.set()
        log_errors = [line for path in sorted(tmp.glob("*.log")) for line in stand_ins.log_failures(path)]
    finally:
        for proc in procs:
            ivr.stop(proc)
        api.__exit__(None, None, None)
        try:
            drop()
        finally:
            redis.Redis.from_url(args.redis).flushdb()
            shutil.rmtree(tmp, ignore_errors=True)

    report(args, reports, drained, bad_samples, log_errors, load_before, app_dir)
    for line in api.summary():
        print(line)
    bad = sum(r["bad"] + r["fault"] for r in reports)
    return 1 if bad or log_errors or api.failures else 0


def report(args, reports, drained, bad_samples, log_errors, load_before, app_dir) -> None:
    print()
    print(f"wait URL ramp: gunicorn gthread {ivr.WORKERS} x {ivr.THREADS}, {args.workers} hotline worker(s), "
          f"PostgreSQL + Redis, {os.cpu_count()} CPUs (load average {load_before:.2f} before)")
    print(f"app: {app_dir}")
    print(f"each caller asks again when its TwiML runs out (speech at {SPOKEN_CHARS_PER_SECOND} chars/s + "
          f"{args.announce_seconds} s pause + {GATHER_TIMEOUT} s); callers entered up to {args.spread:.0f} s "
          f"before; {args.step_seconds:.0f} s per step; every consultant busy")
    print(_header())
    for report in reports:
        print(_row(report))
    for report in reports:
        series = report["series"]
        print(f"backlog each second at {report['waiting']:,} waiting: "
              + " ".join(str(q) for q in series[:: max(1, len(series) // 30)]))
    if drained:
        jobs, seconds = drained
        rate = jobs / seconds
        print(f"capacity: {args.workers} worker(s) drained {jobs:,} pairing jobs queued at once in "
              f"{seconds:.1f} s = {rate:,.0f} jobs/s ({rate / args.workers:,.0f} per worker)")
    for text in bad_samples:
        print("  bad answer: " + " ".join(text.split())[:300])
    print(f"server/worker log errors: {len(log_errors)}")
    for line in log_errors[:5]:
        print("  " + line[:300])


def _header() -> str:
    return (f"{'waiting':>7} {'req/s':>6} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'bad':>4} {'late99':>7} "
            f"{'backlog start/max/end':>22} {'slope/s':>7} {'done/s':>7} {'in/s':>6}")


def _row(r: dict) -> str:
    start, top, end = r["backlog"]
    return (f"{r['waiting']:>7,} {r['rate']:>6.1f} {r['p50']:>7.1f} {r['p99']:>7.1f} {r['max']:>7.0f} "
            f"{r['bad'] + r['fault']:>4} {r['late_p99']:>7.0f} {f'{start}/{top}/{end}':>22} "
            f"{r['slope']:>7.2f} {r['done_rate']:>7.1f} {r['arrival_rate']:>6.1f}")


if __name__ == "__main__":
    sys.exit(main())
