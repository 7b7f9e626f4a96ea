#!/usr/bin/env python3
"""The offices open with callbacks due and consultants free: how long until every consultant rings?

    .venv/bin/python bench/callbacks_at_opening.py --postgres postgresql://postgres@127.0.0.1:5432/postgres \
        --redis redis://127.0.0.1:6379/7 [--callbacks 500] [--consultants 100] [--workers 1,2,4] \
        [--twilio-ms 0] [--app-dir DIR]

For each number of workers in --workers, on a fresh throwaway database (PostgreSQL, dropped
afterwards) and the Redis database of --redis (emptied; use your own): --callbacks callbacks are
booked for the opening (every language x topic in turn, callers who rang up to two hours before),
each with its wake-up job scheduled in RQ for that moment as booking schedules it
(callbacks.schedule.schedule_wake), and --consultants consultants are available, each with the
language and topic of one callback, those callbacks spread evenly over the list. The opening is a
few seconds after the workers are up (`hotline worker` processes, as the Procfile runs them, from
--app-dir: this checkout, or an export of another commit for a before/after pair): the worker that
holds the scheduler lock moves the due wake-up jobs to the queue, and the workers wake each
callback into the queue and pair it (routing, then calls.create to ring the consultant).
Twilio's REST API is a stand-in in this process (as bench/available_to_ring.py) that notes when
each calls.create arrives, after --twilio-ms of delay (0: a local answer; Twilio's own round trip
is tens to hundreds of ms).

Prints, per number of workers: the first and the last consultant rung after the opening, rings per
second (consultants / time to the last ring), and when every callback was woken (callbacks/s).
Goal: every consultant rung within 10 s of the opening. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from http.server import ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import redis  # noqa: E402
from seeding import bench_env, booked_rows, consultant_rows, fresh_app, insert_rows, pairs  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from throwaway_db import postgres_database  # noqa: E402

from bench.available_to_ring import TwilioStandIn  # noqa: E402
from hotline.models import Callback, utcnow  # noqa: E402

LEAD_SECONDS = 8  # from the start of booking (the workers are up) to the opening
TIMEOUT = 90  # seconds after the opening the round gives up waiting


class SlowStandIn(TwilioStandIn):
    """The stand-in, answering each request after `delay` seconds (Twilio's round trip)."""

    delay = 0.0

    def do_POST(self):  # noqa: N802
        if self.delay:
            time.sleep(self.delay)
        super().do_POST()


def book(app, callbacks: int, consultants: int, opening, rng: random.Random) -> None:
    """The callbacks due at `opening`, their wake-up jobs scheduled, and the free consultants."""
    from callbacks import schedule

    skills = pairs(app)
    now = utcnow()
    calls, rows, staff, staff_skills = [], [], [], []
    step = callbacks / consultants
    for i in range(callbacks):
        language, topic = skills[i % len(skills)]
        rang = now - timedelta(seconds=rng.randrange(600, 7200))
        call, callback = booked_rows(i + 1, language, topic, rang, opening, "scheduled")
        calls.append(call)
        rows.append(callback)
    for n in range(consultants):
        consultant, skill = consultant_rows(n, *skills[int(n * step) % len(skills)], now, rng)
        staff.append(consultant)
        staff_skills.append(skill)
    insert_rows(app, calls=calls, callbacks=rows, staff=staff, skills=staff_skills)
    with app.extensions["hotline"].db.session() as session, app.app_context():
        for callback in session.scalars(select(Callback)):
            schedule.schedule_wake(callback)


def listening(connection: redis.Redis, workers: int, timeout: float = 180) -> None:
    """Until `workers` RQ workers have registered (each built its app and listens)."""
    deadline = time.monotonic() + timeout
    while connection.scard("rq:workers") < workers:
        if time.monotonic() > deadline:
            raise SystemExit(f"fewer than {workers} workers registered within {timeout:.0f} s")
        time.sleep(0.2)


def woken(app) -> int:
    with app.extensions["hotline"].db.session() as session:
        return session.scalar(select(func.count()).select_from(Callback).where(Callback.state != "scheduled"))


def run(args, workers: int, api_url: str, folder: Path) -> dict:
    """One opening with `workers` workers on a fresh database."""
    rng = random.Random(5)
    with postgres_database(args.postgres) as url:
        env = bench_env(url, args.redis, api_url, folder / "instance")
        app = fresh_app(env)
        hotline = app.extensions["hotline"]
        procs = []
        app_dir = args.app_dir.resolve()
        try:
            for n in range(workers):
                log = (folder / f"worker-{workers}-{n}.log").open("wb")
                procs.append(subprocess.Popen(
                    [sys.executable, "-c", "from hotline.cli import main; main()", "worker"], cwd=app_dir,
                    env={**os.environ, **env, "PYTHONPATH": str(app_dir)}, stdout=log,
                    stderr=subprocess.STDOUT))
            listening(hotline.redis, workers)  # every worker up before the opening is set
            opening = utcnow() + timedelta(seconds=LEAD_SECONDS)
            book(app, args.callbacks, args.consultants, opening, rng)
            late = (utcnow() - opening).total_seconds()
            if late > 0:
                print(f"(booking ended {late:.1f} s after the opening: lengthen LEAD_SECONDS)", flush=True)
            with TwilioStandIn.arrived:
                TwilioStandIn.arrivals.clear()
            opened = time.perf_counter() + (opening - utcnow()).total_seconds()
            all_woken = None
            deadline = opened + TIMEOUT
            while time.perf_counter() < deadline:
                if all_woken is None and time.perf_counter() > opened and woken(app) >= args.callbacks:
                    all_woken = time.perf_counter() - opened
                with TwilioStandIn.arrived:
                    rung = len(TwilioStandIn.arrivals)
                if rung >= args.consultants and all_woken is not None:
                    break
                time.sleep(0.1)
            with TwilioStandIn.arrived:
                arrivals = sorted(t - opened for t in TwilioStandIn.arrivals)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(30)
            if os.environ.get("BENCH_KEEP_LOGS"):  # to read what the workers did
                for path in folder.glob("worker-*.log"):
                    Path(os.environ["BENCH_KEEP_LOGS"], path.name).write_bytes(path.read_bytes())
            hotline.redis.flushdb()
            hotline.db.dispose()
    return {"workers": workers, "rung": len(arrivals), "first": arrivals[0] if arrivals else None,
            "last": arrivals[-1] if arrivals else None, "woken": all_woken}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", required=True, metavar="URL",
                        help="a PostgreSQL server: a throwaway database is made there")
    parser.add_argument("--redis", required=True, metavar="URL", help="a Redis database to empty and use")
    parser.add_argument("--callbacks", type=int, default=500)
    parser.add_argument("--consultants", type=int, default=100)
    parser.add_argument("--workers", default="1,2,4", help="numbers of worker processes, one round each")
    parser.add_argument("--twilio-ms", type=float, default=0, help="the stand-in's delay per request (0)")
    parser.add_argument("--app-dir", type=Path, default=REPO, help="the Hotline checkout the workers run")
    args = parser.parse_args()
    if not 1 <= args.consultants <= args.callbacks:
        parser.error("--consultants must be 1 to --callbacks")

    SlowStandIn.delay = args.twilio_ms / 1000
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api_url = f"http://127.0.0.1:{server.server_address[1]}"
    redis.Redis.from_url(args.redis).flushdb()
    load = os.getloadavg()[0]
    results = []
    with tempfile.TemporaryDirectory(prefix="hotline-opening-") as folder:
        for workers in (int(n) for n in args.workers.split(",")):
            results.append(run(args, workers, api_url, Path(folder)))
            print(_row(results[-1], args), flush=True)
    server.shutdown()
    print()
    print(f"{args.callbacks} callbacks due at the opening, {args.consultants} consultants free; PostgreSQL, "
          f"Redis {args.redis}; Twilio stand-in delay {args.twilio_ms:.0f} ms; {os.cpu_count()} CPUs, "
          f"load average {load:.2f} before; app: {args.app_dir.resolve()}")
    print(f"{'workers':>7} {'rung':>6} {'first s':>8} {'last s':>8} {'rings/s':>8} {'all woken s':>12} "
          f"{'woken/s':>8}")
    for result in results:
        print(_row(result, args))
    return 0 if all(r["rung"] >= args.consultants for r in results) else 1


def _row(r: dict, args) -> str:
    def secs(value):
        return f"{value:8.2f}" if value is not None else f"{'-':>8}"

    rate = r["rung"] / r["last"] if r["last"] else float("nan")
    woken_rate = args.callbacks / r["woken"] if r["woken"] else float("nan")
    return (f"{r['workers']:>7} {r['rung']:>6} {secs(r['first'])} {secs(r['last'])} {rate:>8.1f} "
            f"{secs(r['woken']):>12} {woken_rate:>8.1f}")


if __name__ == "__main__":
    sys.exit(main())
