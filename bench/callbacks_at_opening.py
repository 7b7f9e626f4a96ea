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
Twilio's REST API is a stand-in in this process (bench/stand_ins.py's TwilioStandIn) that notes
when each calls.create arrives (when its request came in) and answers it --twilio-ms later (0: at
once; Twilio's own round trip is tens to hundreds of ms, which holds up the worker that waits).

Prints, per number of workers: the first and the last consultant rung after the opening, rings per
second (consultants / time to the last ring), and when every callback was woken (callbacks/s);
then every failure counted (consultants not rung, callbacks not woken, errors in the workers' logs,
requests the stand-in answered with an error), each with its reason. Goal: every consultant rung
within 10 s of the opening. Not part of the test suite.
"""
from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

import redis  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from throwaway_db import postgres_database  # noqa: E402

from bench.seeding import bench_env, booked_rows, consultant_rows, fresh_app, insert_rows, pairs  # noqa: E402
from bench.stand_ins import TwilioStandIn, hotline_env, log_failures  # noqa: E402
from hotline.models import Callback, utcnow  # noqa: E402

LEAD_SECONDS = 8  # from the start of booking (the workers are up) to the opening
TIMEOUT = 90  # seconds after the opening the round gives up waiting


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


def run(args, workers: int, api: TwilioStandIn, folder: Path) -> dict:
    """One opening with `workers` workers on a fresh database."""
    rng = random.Random(5)
    with postgres_database(args.postgres) as url:
        env = bench_env(url, args.redis, api.url, folder / "instance")
        app = fresh_app(env)
        hotline = app.extensions["hotline"]
        procs = []
        app_dir = args.app_dir.resolve()
        try:
            for n in range(workers):
                log = (folder / f"worker-{workers}-{n}.log").open("wb")
                procs.append(subprocess.Popen(
                    [sys.executable, "-c", "from hotline.cli import main; main()", "worker"], cwd=app_dir,
                    env=hotline_env(url, api.url, redis_url=args.redis, instance=folder / "instance",
                                    app_dir=app_dir), stdout=log, stderr=subprocess.STDOUT))
            listening(hotline.redis, workers)  # every worker up before the opening is set
            opening = utcnow() + timedelta(seconds=LEAD_SECONDS)
            book(app, args.callbacks, args.consultants, opening, rng)
            late = (utcnow() - opening).total_seconds()
            if late > 0:
                print(f"(booking ended {late:.1f} s after the opening: lengthen LEAD_SECONDS)", flush=True)
            with api.arrived:
                api.arrivals.clear()
            opened = time.perf_counter() + (opening - utcnow()).total_seconds()
            all_woken = None
            deadline = opened + TIMEOUT
            while time.perf_counter() < deadline:
                if all_woken is None and time.perf_counter() > opened and woken(app) >= args.callbacks:
                    all_woken = time.perf_counter() - opened
                with api.arrived:
                    rung = len(api.arrivals)
                if rung >= args.consultants and all_woken is not None:
                    break
                time.sleep(0.1)
            with api.arrived:
                arrivals = sorted(t - opened for t in api.arrivals)
            still_scheduled = args.callbacks - woken(app)
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                stop(proc)
            if os.environ.get("BENCH_KEEP_LOGS"):  # to read what the workers did
                for path in folder.glob("worker-*.log"):
                    Path(os.environ["BENCH_KEEP_LOGS"], path.name).write_bytes(path.read_bytes())
            hotline.redis.flushdb()
            hotline.db.dispose()
    log_errors = [line for path in sorted(folder.glob(f"worker-{workers}-*.log"))
                  for line in log_failures(path)]
    return {"workers": workers, "rung": len(arrivals), "first": arrivals[0] if arrivals else None,
            "last": arrivals[-1] if arrivals else None, "woken": all_woken, "not_woken": still_scheduled,
            "log_errors": log_errors}


def stop(proc: subprocess.Popen, timeout: float = 30) -> None:
    """Wait for a terminated worker (it finishes its job first); kill it if it takes over `timeout` s."""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        print(f"(a worker still ran {timeout:.0f} s after SIGTERM: killed)", flush=True)
        proc.kill()
        proc.wait()


def failures(result: dict, args) -> list[str]:
    """Every failure a round counted, with its reason."""
    lines = []
    if result["rung"] < args.consultants:
        lines.append(f"{args.consultants - result['rung']} of {args.consultants} consultants not rung "
                     f"within {TIMEOUT} s of the opening")
    if result["not_woken"]:
        lines.append(f"{result['not_woken']} of {args.callbacks} callbacks still scheduled at the end")
    if result["log_errors"]:
        lines.append(f"{len(result['log_errors'])} errors in the workers' logs (tracebacks, ERROR lines), "
                     "the first:")
        lines += ["  " + line[:300] for line in result["log_errors"][:5]]
    return lines


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

    redis.Redis.from_url(args.redis).flushdb()
    load = os.getloadavg()[0]
    results = []
    with tempfile.TemporaryDirectory(prefix="hotline-opening-") as folder, \
            TwilioStandIn(delay=args.twilio_ms / 1000) as api:
        for workers in (int(n) for n in args.workers.split(",")):
            results.append(run(args, workers, api, Path(folder)))
            print(_row(results[-1], args), flush=True)
        stand_in = api.summary()
    print()
    print(f"{args.callbacks} callbacks due at the opening, {args.consultants} consultants free; PostgreSQL, "
          f"Redis {args.redis}; Twilio stand-in delay {args.twilio_ms:.0f} ms; {os.cpu_count()} CPUs, "
          f"load average {load:.2f} before; app: {args.app_dir.resolve()}")
    print(f"{'workers':>7} {'rung':>6} {'first s':>8} {'last s':>8} {'rings/s':>8} {'all woken s':>12} "
          f"{'woken/s':>8}")
    for result in results:
        print(_row(result, args))
    failed = [(r["workers"], line) for r in results for line in failures(r, args)]
    print(f"failures: {len(failed)}")
    for workers, line in failed:
        print(f"  {workers} worker(s): {line}")
    for line in stand_in:
        print(line)
    return 1 if failed or api.failures else 0


def _row(r: dict, args) -> str:
    def secs(value):
        return f"{value:8.2f}" if value is not None else f"{'-':>8}"

    rate = r["rung"] / r["last"] if r["last"] else float("nan")
    woken_rate = args.callbacks / r["woken"] if r["woken"] else float("nan")
    return (f"{r['workers']:>7} {r['rung']:>6} {secs(r['first'])} {secs(r['last'])} {rate:>8.1f} "
            f"{secs(r['woken']):>12} {woken_rate:>8.1f}")


if __name__ == "__main__":
    sys.exit(main())
